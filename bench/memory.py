"""Memory of the enrichment state: what copy detection and story clustering keep per article.

    python bench/memory.py [--articles 100000] [--days 7] [--outlets 1000] [--trace] [--check]

Builds ``newswire.testing.corpus`` (fictional, deterministic) sized so ``--articles`` span
``--days``, pads each article to a news article's length with words from a generated Zipfian
vocabulary (real news has tens of thousands of distinct words, the corpus a few hundred), and
feeds it in publication order through the path the service runs: ``prepare_copy_text`` and
``LeadText.of`` (the parse workers' part), ``CopyDetector.index``, then ``StoryClusterer.add``
with the copy's canonical as ``same_as``. At each tenth it prints the process's RSS, the state's counts (what
is held: documents, LSH entries, stories, members kept, terms) and, with ``--trace``,
tracemalloc's largest allocations by file:line and what grew since the previous snapshot.
RSS includes the corpus itself (printed before feeding, as "corpus"): the state is the rest.

``--pickled`` sends each batch of ``BATCH`` articles' prepared texts through pickle first, as the
parse workers send them to ``newswire run``'s process (``service.prepared``): the words then
arrive as new string objects, shared within a batch only, where in one process
``significant_words``' cache hands every article the same ones. That is what the service holds.

``--check`` prints a digest of every copy and story decision, so two versions of the code can
be compared on the same input (decisions must be identical).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import pickle
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from newswire.enrich.dedupe import CopyDetector, prepare_copy_text  # noqa: E402
from newswire.enrich.stories import StoryClusterer, lead_of  # noqa: E402
from newswire.enrich.story_text import LeadText  # noqa: E402
from newswire.testing.corpus import CorpusArticle, build_corpus  # noqa: E402

ARTICLES_PER_EVENT = 4.55  # what build_corpus makes, copies included
BATCH = 50  # articles prepared together (``--pickled``): a feed's entries, one parse task


def rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def vocabulary(size: int, rng: random.Random) -> list[str]:
    letters = "abcdefghiklmnoprstuvwy"
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 10))))
    return sorted(words)


def padded_texts(articles: list[CorpusArticle], seed: int, words: int = 350) -> list[str]:
    """Each text followed by paragraphs of Zipf-distributed words: a news article's length and
    vocabulary, deterministic by seed. A syndicated copy carries its original's paragraphs."""
    rng = random.Random(seed)
    vocab = vocabulary(40_000, rng)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocab))))
    padding: dict[int, str] = {}
    out = []
    for article in articles:
        extra = padding.get(article.copy_of) if article.copy_of else None
        if extra is None:
            filler = rng.choices(vocab, cum_weights=cumulative, k=words)
            extra = "\n".join((" ".join(filler[i:i + 60]) + ".").capitalize() for i in range(0, words, 60))
            padding[article.id] = extra
        out.append(article.text + "\n" + extra)
    return out


def state_counts(detector: CopyDetector, clusterer: StoryClusterer) -> str:
    """What the state holds, by count (not bytes): the figures eviction must keep flat."""
    counts = getattr(detector, "memory_counts", None)
    copies = counts() if counts else {"docs": len(detector)}
    counts = getattr(clusterer, "memory_counts", None)
    stories = counts() if counts else {"stories": clusterer.active_stories}
    return "copies " + " ".join(f"{k}={v:,}" for k, v in copies.items()) + "; stories " + " ".join(
        f"{k}={v:,}" for k, v in stories.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--outlets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trace", action="store_true", help="tracemalloc top allocations (slow)")
    parser.add_argument("--check", action="store_true", help="print a digest of every decision")
    parser.add_argument("--pickled", action="store_true",
                        help="prepared texts through pickle, in batches, as from the parse workers")
    args = parser.parse_args(argv)

    events = max(50, int(args.articles / ARTICLES_PER_EVENT))
    corpus = build_corpus(events=events, per_day=events / args.days, outlets=args.outlets, seed=args.seed)
    articles = corpus.articles[: args.articles]
    texts = padded_texts(articles, args.seed)
    gc.collect()
    print(f"corpus: {len(articles):,} articles over {(articles[-1].published_at - articles[0].published_at).days} "
          f"days from {args.outlets} outlets; RSS {rss_mb():.0f} MB with the corpus alone", flush=True)

    if args.trace:
        tracemalloc.start(1)
    detector = CopyDetector()
    clusterer = StoryClusterer()
    digest = hashlib.sha256()
    previous = None
    step = max(1, len(articles) // 10)
    started = time.perf_counter()
    batch: list[tuple] = []
    for n, (article, text) in enumerate(zip(articles, texts), 1):
        if not batch:
            batch = [(prepare_copy_text(t, ahead=True), LeadText.of(lead_of(t))) for t in texts[n - 1:n - 1 + BATCH]]
            if args.pickled:
                batch = pickle.loads(pickle.dumps(batch))
            batch.reverse()
        prepared, lead = batch.pop()
        decision = detector.index(article.id, article.source_id, text, article.published_at, prepared=prepared)
        placed = clusterer.add(article.id, article.source_id, article.title, "", article.published_at,
                               same_as=decision.canonical_id, prepared=lead)
        if args.check:
            digest.update(repr((decision.canonical_id, decision.repoint, placed.key, placed.created,
                                placed.title, placed.title_doc, placed.size, placed.merged)).encode())
        if n % step == 0 or n == len(articles):
            gc.collect()
            print(f"{n:>8,} articles ({article.published_at - articles[0].published_at} in): RSS {rss_mb():.0f} MB; "
                  f"{state_counts(detector, clusterer)}", flush=True)
            if args.trace:
                snapshot = tracemalloc.take_snapshot().filter_traces(
                    [tracemalloc.Filter(False, tracemalloc.__file__)])
                total = sum(stat.size for stat in snapshot.statistics("filename"))
                print(f"  traced {total / 2**20:.0f} MB; largest by line:")
                for stat in snapshot.statistics("lineno")[:8]:
                    frame = stat.traceback[0]
                    print(f"    {stat.size / 2**20:7.1f} MB {stat.count:>9,}  {frame.filename.split('/src/')[-1]}:{frame.lineno}")
                if previous is not None:
                    print("  grew since the last snapshot:")
                    for stat in snapshot.compare_to(previous, "lineno")[:5]:
                        frame = stat.traceback[0]
                        print(f"    {stat.size_diff / 2**20:+7.1f} MB  {frame.filename.split('/src/')[-1]}:{frame.lineno}")
                previous = snapshot
    elapsed = time.perf_counter() - started
    print(f"fed {len(articles):,} articles in {elapsed:.1f} s = {elapsed / len(articles) * 1e6:.0f} µs per article "
          f"(copies and stories{', traced' if args.trace else ''})")
    if args.check:
        print(f"decisions digest: {digest.hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
