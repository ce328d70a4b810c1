"""Enrichment steps: full text (extract), syndicated copies (dedupe), stories. Pure, no I/O."""
