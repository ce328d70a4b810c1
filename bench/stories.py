"""Copy detection and story clustering measured on a labelled corpus, with their cost.

    python bench/stories.py [--events 400] [--seed 1] [--no-scale]
    python bench/stories.py --real /work/shared/data/stories-dev [--half 0|1] [--no-scale]
    python bench/stories.py --fit /work/shared/data/stories-dev   (refit newswire.enrich.story_score)

Builds ``newswire.testing.corpus`` (fictional, deterministic), runs the copy detector
(``newswire.enrich.dedupe.CopyDetector``) and the story clusterer
(``newswire.enrich.stories.StoryClusterer``) over it in publication order, as the service
does, and prints:

- pairwise precision/recall of copy detection (a pair is (copy, the canonical it names));
- B-cubed precision/recall/F1 of the stories against the labelled events;
- the per-article cost of each step at 10,000 and 100,000 articles. Events arrive at the same
  rate in both, so the larger corpus is a longer archive; a flat cost means an article's price
  does not grow with the archive.

With ``--real DIR`` it first runs the real labelled sets in DIR (``ecbplus_dev.jsonl``,
``uci_dev.csv``) through the product: feeds on 127.0.0.1, the refresher with enrichment, the
store's listing behind ``/api/v1/articles?copies=true`` (see ``story_stream``), and prints their
B-cubed scores beside the generated corpus's. ``--half 0`` or ``--half 1`` keeps the even- or
odd-numbered gold stories only, to tune on one half and check on the other.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

from newswire.enrich.stories import StoryClusterer, lead_of
from newswire.testing.corpus import Corpus, build_corpus

try:
    from newswire.enrich.dedupe import CopyDetector
except ImportError:  # the copy detector lands separately
    CopyDetector = None  # type: ignore[assignment,misc]


def run_copies(corpus: Corpus) -> tuple[dict[int, int], float]:
    """Each article's canonical (or itself) and the µs per article."""
    canonical: dict[int, int] = {}
    if CopyDetector is None:
        return canonical, float("nan")
    detector = CopyDetector(num_perm=128, shingle_size=5)
    started = time.perf_counter()
    for a in corpus.articles:
        found = detector.add(a.id, a.source_id, a.text, a.published_at)
        if found is not None:
            canonical[a.id] = found
    return canonical, (time.perf_counter() - started) / len(corpus.articles) * 1e6


def run_stories(corpus: Corpus, canonical: dict[int, int]) -> tuple[dict[int, object], float]:
    clusterer = StoryClusterer()
    story: dict[int, object] = {}
    merged_into: dict[object, object] = {}
    started = time.perf_counter()
    for a in corpus.articles:
        decision = clusterer.add(a.id, a.source_id, a.title, lead_of(a.text), a.published_at,
                                 same_as=canonical.get(a.id))
        story[a.id] = decision.key
        merged_into.update((old, decision.key) for old in getattr(decision, "merged", ()))
    elapsed = time.perf_counter() - started

    def final(key: object) -> object:
        while key in merged_into:
            key = merged_into[key]
        return key

    return {doc: final(key) for doc, key in story.items()}, elapsed / len(corpus.articles) * 1e6


def copy_scores(corpus: Corpus, canonical: dict[int, int]) -> tuple[float, float]:
    """Pairwise: a predicted pair (a, b) is right when both are copies of one original."""
    root = {a.id: a.copy_of or a.id for a in corpus.articles}
    truth = {(a.id, a.copy_of) for a in corpus.articles if a.copy_of}
    predicted = set(canonical.items())
    right = sum(1 for a, b in predicted if root[a] == root[b])
    precision = right / len(predicted) if predicted else 1.0
    found = sum(1 for a, b in truth if a in canonical and root[canonical[a]] == root[a])
    return precision, found / len(truth) if truth else 1.0


def bcubed(labels: dict[int, object], truth: dict[int, int]) -> tuple[float, float, float]:
    clusters: dict[object, list[int]] = defaultdict(list)
    classes: dict[int, list[int]] = defaultdict(list)
    for doc, key in labels.items():
        clusters[key].append(doc)
        classes[truth[doc]].append(doc)
    precision = recall = 0.0
    for doc, key in labels.items():
        members = clusters[key]
        same = sum(1 for other in members if truth[other] == truth[doc])
        precision += same / len(members)
        recall += same / len(classes[truth[doc]])
    precision, recall = precision / len(labels), recall / len(labels)
    return precision, recall, 2 * precision * recall / (precision + recall)


def run_real(folder: Path, half: int | None) -> None:
    import story_stream  # bench/ is on sys.path when run as a script

    for name, load in (("ecbplus_dev.jsonl", story_stream.ecbplus), ("uci_dev.csv", story_stream.uci)):
        path = folder / name
        if not path.exists():
            print(f"real: {path} not found, skipped")
            continue
        items = load(path, half)
        started = time.perf_counter()
        found = story_stream.stories_through_the_product(items)
        elapsed = time.perf_counter() - started
        missing = sum(1 for story in found.values() if story is None)
        labels = {doc: story if story is not None else ("alone", doc) for doc, story in found.items()}
        p, r, f = bcubed(labels, {item.doc_id: item.gold for item in items})  # type: ignore[arg-type]
        print(f"real {name}{'' if half is None else f' half {half}'}: {len(items)} articles, "
              f"{len({i.gold for i in items})} gold stories, {len(set(labels.values()))} stories made, "
              f"{len({i.feed for i in items})} feeds; B-cubed precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}"
              f"{f'  ({missing} without a story)' if missing else ''}  [{elapsed:.0f} s through feeds]")


def corpus_of_size(articles: int, seed: int) -> Corpus:
    events = max(50, int(articles / 4.55))  # about 4.5 articles an event, copies included
    corpus = build_corpus(events=events, seed=seed)
    corpus.articles = corpus.articles[:articles]
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-scale", action="store_true", help="skip the 10k/100k cost runs")
    parser.add_argument("--real", type=Path, help="a folder with ecbplus_dev.jsonl and uci_dev.csv")
    parser.add_argument("--fit", type=Path, help="refit the story scores on the sets in this folder; print them")
    parser.add_argument("--half", type=int, choices=(0, 1), help="with --real: even (0) or odd (1) stories only")
    args = parser.parse_args(argv)
    if args.fit:
        import story_fit

        weights, merge_weights = story_fit.fit(args.fit)
        print(f"WEIGHTS = {weights}\nMERGE_WEIGHTS = {merge_weights}")
        return 0
    if args.real:
        run_real(args.real, args.half)

    corpus = build_corpus(events=args.events, seed=args.seed)
    copies = sum(1 for a in corpus.articles if a.copy_of)
    print(f"corpus: {len(corpus.articles)} articles, {corpus.events} events, {copies} syndicated copies, "
          f"{len({a.source_id for a in corpus.articles})} outlets, "
          f"{(corpus.articles[-1].published_at - corpus.articles[0].published_at).days} days")
    print("hard negatives (different events made to share words):")
    for kind, count in corpus.hard_negatives.items():
        print(f"  {count:5d}  {kind}")
    canonical, _ = run_copies(corpus)
    if CopyDetector is None:
        print("copies: newswire.enrich.dedupe.CopyDetector not available; stories use the labels' copies")
        canonical = {a.id: a.copy_of for a in corpus.articles if a.copy_of}
    else:
        p, r = copy_scores(corpus, canonical)
        print(f"copies:  pairwise precision {p:.4f}  recall {r:.4f}   (goals ≥ 0.99, ≥ 0.95)")
    labels, _ = run_stories(corpus, canonical)
    p, r, f = bcubed(labels, {a.id: a.event_id for a in corpus.articles})
    print(f"stories: B-cubed precision {p:.4f}  recall {r:.4f}  F1 {f:.4f}   (goal F1 ≥ 0.95); "
          f"{len(set(labels.values()))} stories for {len({a.event_id for a in corpus.articles})} events")
    if args.no_scale:
        return 0
    print("cost per article (µs), same event rate, longer archive:")
    for size in (10_000, 100_000):
        big = corpus_of_size(size, args.seed)
        found, copy_us = run_copies(big)
        if CopyDetector is None:
            found = {a.id: a.copy_of for a in big.articles if a.copy_of}
        story_labels, story_us = run_stories(big, found)
        p, r, f = bcubed(story_labels, {a.id: a.event_id for a in big.articles})
        print(f"  {len(big.articles):7d} articles: copies {copy_us:8.1f} µs   stories {story_us:8.1f} µs"
              f"   (story F1 {f:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
