"""Deeply nested HTML: sanitising and page extraction keep the text and do linear work.

nh3's cost grew faster than quadratically with nesting (10k nested <div> 0.43 s, 60k 30 s), and
libxml2 under trafilatura silently drops everything below 256 levels. Each hostile shape runs
in a child process under a timeout that only a hang would reach, so a regression fails instead
of freezing the suite; what is asserted is the text kept and the depth of what comes out.
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import textwrap

import pytest

from newswire.parse.html import sanitize_html
from newswire.parse.nesting import MAX_DEPTH, flatten_nesting

DEPTH = 100_000
HANG = 120  # seconds: a linear pass takes well under one; the old quadratic one took minutes


def _shape(name: str, depth: int) -> str:
    """Hostile nesting with a marker every 10,000 levels and at the bottom."""
    marks = lambda i: f"mark{i} " if i % 10_000 == 0 else ""
    if name == "div":
        return "".join(f"<div>{marks(i)}" for i in range(depth)) + "BOTTOM" + "</div>" * depth
    if name == "b":
        return "".join(f"<b>{marks(i)}" for i in range(depth)) + "BOTTOM" + "</b>" * depth
    if name == "table":
        return ("".join(f"<table><tr><td>{marks(i)}" for i in range(depth)) + "BOTTOM"
                + "</td></tr></table>" * depth)
    if name == "unclosed-div":
        return "".join(f"<div>{marks(i)}" for i in range(depth)) + "BOTTOM"
    if name == "unclosed-span-attrs":
        return "".join(f'<span class="c{i}" title="a > b">{marks(i)}' for i in range(depth)) + "BOTTOM"
    if name == "mixed":
        tags = ["div", "section", "blockquote", "ul", "li", "em", "a"]
        opened = [tags[i % len(tags)] for i in range(depth)]
        return ("".join(f"<{t}>{marks(i)}" for i, t in enumerate(opened)) + "BOTTOM"
                + "".join(f"</{t}>" for t in reversed(opened)))
    raise ValueError(name)


def _in_child(code: str) -> dict:
    """Run ``code`` (which prints one JSON line; ``_shape`` is defined for it) in a fresh
    interpreter under the hang timeout."""
    source = inspect.getsource(_shape) + textwrap.dedent(code)
    try:
        out = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=HANG)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer in {HANG} s: the work is not linear in the nesting depth")
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _max_depth(html: str) -> int:
    """The deepest nesting of non-void elements in well-formed (sanitised) HTML."""
    depth = deepest = 0
    for closing, name in re.findall(r"<(/?)([a-z][a-z0-9]*)[^>]*>", html):
        if name in ("br", "img", "hr"):
            continue
        depth += -1 if closing else 1
        deepest = max(deepest, depth)
    return deepest


@pytest.mark.parametrize("shape", ["div", "b", "table", "unclosed-div", "unclosed-span-attrs", "mixed"])
def test_deep_nesting_sanitises_with_its_text_kept(shape: str) -> None:
    result = _in_child(f"""
        import json
        from newswire.parse.html import sanitize_html
        html = sanitize_html(_shape({shape!r}, {DEPTH}), "https://example.com/a")
        print(json.dumps({{"html": html}}))
    """)
    html = result["html"]
    for i in range(0, DEPTH, 10_000):
        assert f"mark{i} " in html
    assert "BOTTOM" in html
    assert _max_depth(html) <= MAX_DEPTH + 4  # html5 may imply a few (tbody)


def test_deep_nesting_in_a_page_keeps_its_text_through_extraction() -> None:
    result = _in_child(f"""
        import json
        from newswire.enrich.extract import extract_page
        words = " ".join(f"word{{i}}" for i in range(300))
        page = ("<html><body><article><p>" + "The story opens here. " * 40 + "</p>"
                + _shape("div", {DEPTH}).replace("BOTTOM", "<p>BOTTOM " + words + "</p>")
                + "</article></body></html>")
        extracted = extract_page(page.encode(), "https://example.com/story")
        print(json.dumps({{"text": extracted.text if extracted else None}}))
    """)
    assert result["text"] and "BOTTOM word0 word1" in result["text"]


@pytest.mark.parametrize("html", [
    "<p>Plain <b>article</b> with <a href='https://example.com/'>a link</a>.</p>",
    "<div>" * 50 + "fifty deep" + "</div>" * 50,
    "<table><tr><td>a</td><td>b</td></tr></table><ul><li>one<li>two</ul><p>x<p>y",
    "<p>1 < 2 and 3 > 2</p><script>if (a < b) { x('<div>') }</script><textarea><div></textarea>",
])
def test_ordinary_html_is_left_exactly_as_it_was(html: str) -> None:
    padded = html + "<br>" * (MAX_DEPTH + 1)  # enough tags to take the slow path
    assert flatten_nesting(padded) == padded
    assert flatten_nesting(html) == html


def test_only_structure_past_the_limit_is_dropped() -> None:
    html = "<div>" * (MAX_DEPTH + 5) + "deep <script>alert('<div>')</script> text" + "</div>" * (MAX_DEPTH + 5)
    flat = flatten_nesting(html)
    structure = flat.replace("alert('<div>')", "")
    assert structure.count("<div>") == MAX_DEPTH and structure.count("</div>") == MAX_DEPTH
    assert "deep <script>alert('<div>')</script> text" in flat  # raw text is not markup
    assert sanitize_html(flat, None).count("deep") == 1


def test_a_stray_less_than_next_to_a_dropped_tag_never_forms_a_new_tag() -> None:
    html = "<div>" * (MAX_DEPTH + 2) + "a<<div>script>alert(1)</script>" + "</div>" * (MAX_DEPTH + 3)
    flat = flatten_nesting(html)
    assert "<script>" not in flat.replace("</script>", "")
    assert "alert(1)" in sanitize_html(flat, None)
