"""What the code imports at run time is declared in pyproject.toml, not left to luck.

lxml moved its HTML cleaner into the separate ``lxml_html_clean`` distribution; trafilatura's
extraction path imports it, and a fresh install that happened not to pull it in failed every
page extraction. Each check runs the real path in a fresh interpreter and compares what it
imported with what we declare.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

_EXTRACT = r"""
import json, sys
from newswire.enrich.extract import extract_page
words = " ".join(f"word{i}" for i in range(400))
page = ("<html><head><title>Generated headline</title></head><body><nav>Home | About</nav>"
        "<article><h1>Generated headline</h1>"
        + "".join(f"<p>Paragraph {n}: {words}.</p>" for n in range(6))
        + "</article><footer>Footer</footer></body></html>")
result = extract_page(page.encode(), "https://example.com/story")
print(json.dumps({"text": result.text if result else None,
                  "modules": sorted(m for m in sys.modules if m.startswith(("lxml_html_clean", "lxml.html.clean")))}))
"""


def _declared() -> set[str]:
    """Distribution names (with extras as ``name[extra]``) in [project].dependencies, normalised."""
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    names = set()
    for dep in deps:
        m = re.match(r"\s*([A-Za-z0-9._-]+)(\[[^\]]*\])?", dep)
        assert m, dep
        name = re.sub(r"[-_.]+", "_", m.group(1)).lower()
        names.add(name)
        for extra in (m.group(2) or "[]")[1:-1].split(","):
            if extra.strip():
                names.add(f"{name}[{re.sub(r'[-_.]+', '_', extra.strip()).lower()}]")
    return names


def test_page_extraction_runs_and_its_html_cleaner_is_declared() -> None:
    out = subprocess.run([sys.executable, "-c", _EXTRACT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["text"] and "Paragraph 3: word0 word1" in result["text"]
    if any(m.startswith("lxml_html_clean") for m in result["modules"]):
        declared = _declared()
        assert "lxml_html_clean" in declared or "lxml[html_clean]" in declared, (
            "trafilatura's extraction imports lxml_html_clean: declare it in pyproject.toml")


def test_httpcore_finds_the_event_loop_without_a_failed_import_per_request() -> None:
    """httpcore's ``current_async_library`` imports sniffio on every request; when sniffio is
    missing (anyio 4.x stopped requiring it) every call is a failed import that searches
    sys.path. It must be declared, and importable."""
    assert "sniffio" in _declared()
    script = ("import asyncio, sniffio, httpcore._synchronization as s\n"
              "async def main():\n    return s.current_async_library()\n"
              "print(asyncio.run(main()))")
    out = subprocess.run([sys.executable, "-c", script],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "asyncio", out.stderr
