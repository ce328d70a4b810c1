"""Story clustering on the real labelled sets, in process: seconds instead of minutes.

    python bench/story_eval.py /work/shared/data/stories-dev [--seeds 1 2 3 9] [--errors] [--orders N]

Runs ``StoryClusterer`` over the same timelines ``story_stream`` serves as feeds (ECB+ with an
event start per seed, UCI at its own times), in publication order, and prints B-cubed
precision/recall/F1 per set, per half (gold stories split in two, as ``story_stream`` does)
and per ECB+ event-time seed. The product path (``bench/stories.py --real``) is the figure to
quote; this one is for looking at errors and checking changes over halves and seeds quickly.
With ``--errors`` it prints the wrong links: each article that joined a story whose majority
was another gold story, and each merge of two stories with different majorities, with the
features that decided it. With ``--orders N`` it also runs each whole set in N arrival orders
the product may see (``story_stream.arrival_order``: within an hour, feeds in any order) and
prints their mean and worst: a change smaller than what the order moves is not a result.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Hashable

import story_stream
from stories import bcubed

from newswire.enrich import story_score
from newswire.enrich.stories import StoryClusterer, lead_of


def cluster(items: list[story_stream.Item], make: Callable[[], StoryClusterer] = StoryClusterer,
            errors: list[str] | None = None) -> dict[str, Hashable]:
    """Each item's final story key; wrong links appended to ``errors`` when given."""
    clusterer = make()
    source = {feed: i for i, feed in enumerate(sorted({i.feed for i in items}))}
    gold = {item.doc_id: item.gold for item in items}
    title = {item.doc_id: item.title for item in items}
    members: dict[Hashable, Counter] = defaultdict(Counter)  # story key → gold counts
    story: dict[str, Hashable] = {}
    merged_into: dict[Hashable, Hashable] = {}
    last: dict[str, object] = {}
    if errors is not None:
        def seen(features: story_score.Features, s) -> None:
            last.setdefault("cands", []).append((features, s.key))  # type: ignore[union-attr]

        def seen_pair(features: story_score.PairFeatures, a, b) -> None:
            last.setdefault("pairs", []).append((features, a.key, b.key))  # type: ignore[union-attr]

        clusterer.observe, clusterer.observe_pair = seen, seen_pair

    def majority(key: Hashable) -> str:
        return members[key].most_common(1)[0][0] if members[key] else "?"

    for item in items:
        last.clear()
        before = {key: majority(key) for key in members}
        decision = clusterer.add(item.doc_id, source[item.feed], item.title, lead_of(item.text), item.published)
        if errors is not None and not decision.created:
            joined = [f for f, key in last.get("cands", []) if key == decision.key or key in decision.merged]
            was = before.get(decision.key, "?")
            if was != item.gold and was != "?":
                f = joined[0] if joined else None
                errors.append(f"JOIN {item.title[:70]!r} [{item.gold[:10]}] -> story of {was[:10]} "
                              f"({sum(members[decision.key].values())} arts, e.g. "
                              f"{title.get(_example(story, decision.key, was, gold), '')[:60]!r}) "
                              f"{_fmt(f)} p={story_score.probability(f, clusterer.weights) if f else 0:.2f}")
        for old in decision.merged:
            if errors is not None and before.get(old, "?") != before.get(decision.key, item.gold):
                pf = [f for f, a, b in last.get("pairs", []) if old in (a, b)]
                errors.append(f"MERGE [{before.get(old, '?')[:10]}] x{sum(members[old].values())} + "
                              f"[{before.get(decision.key, item.gold)[:10]}] x{sum(members[decision.key].values())}"
                              f" via {item.title[:50]!r} {_fmt(pf[0]) if pf else ''} "
                              f"p={story_score.merge_probability(pf[0], clusterer.merge_weights) if pf else 0:.2f}")
            members[decision.key] += members.pop(old, Counter())
            merged_into[old] = decision.key
        members[decision.key][item.gold] += 1
        story[item.doc_id] = decision.key

    def final(key: Hashable) -> Hashable:
        while key in merged_into:
            key = merged_into[key]
        return key

    return {doc: final(key) for doc, key in story.items()}


def _example(story: dict[str, Hashable], key: Hashable, want: str, gold: dict[str, str]) -> str:
    for doc, k in story.items():
        if k == key and gold[doc] == want:
            return doc
    return ""


def _fmt(features: object) -> str:
    if features is None:
        return ""
    return "(" + " ".join(f"{k[:5]}={getattr(features, k):.2f}" for k in features.__slots__) + ")"  # type: ignore[attr-defined]


def score(items: list[story_stream.Item], make: Callable[[], StoryClusterer] = StoryClusterer,
          errors: list[str] | None = None) -> tuple[float, float, float]:
    labels = cluster(items, make, errors)
    return bcubed(labels, {item.doc_id: item.gold for item in items})  # type: ignore[arg-type]


def report(folder: Path, seeds: list[int], make: Callable[[], StoryClusterer] = StoryClusterer,
           show_errors: bool = False) -> dict[str, tuple[float, float, float]]:
    """P/R/F1 for every set, half and seed; returns them by name."""
    results: dict[str, tuple[float, float, float]] = {}
    runs: list[tuple[str, list[story_stream.Item]]] = []
    for seed in seeds:
        for half in (None, 0, 1):
            runs.append((f"ecb s{seed} {'all' if half is None else f'h{half}'}",
                         story_stream.ecbplus(folder / "ecbplus_dev.jsonl", half, seed=seed)))
    for half in (None, 0, 1):
        runs.append((f"uci {'all' if half is None else f'h{half}'}", story_stream.uci(folder / "uci_dev.csv", half)))
    for name, items in runs:
        errors: list[str] | None = [] if show_errors and name.endswith("all") else None
        results[name] = p, r, f = score(items, make, errors)
        print(f"{name:14s} P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
        for line in errors or ():
            print("   ", line)
    return results


def report_orders(folder: Path, seeds: list[int], orders: int,
                  make: Callable[[], StoryClusterer] = StoryClusterer) -> None:
    """Mean and worst P/R/F1 over ``orders`` arrival orders of each whole set."""
    sets = [(f"ecb s{seed}", story_stream.ecbplus(folder / "ecbplus_dev.jsonl", seed=seed)) for seed in seeds]
    sets.append(("uci", story_stream.uci(folder / "uci_dev.csv")))
    for name, items in sets:
        runs = [score(story_stream.arrival_order(items, order), make) for order in range(orders)]
        mean = [sum(run[i] for run in runs) / len(runs) for i in range(3)]
        worst = [min(run[i] for run in runs) for i in range(3)]
        print(f"{name:6s} {orders} orders  mean P {mean[0]:.3f}  R {mean[1]:.3f}  F1 {mean[2]:.3f}"
              f"   worst P {worst[0]:.3f}  R {worst[1]:.3f}  F1 {worst[2]:.3f}")


def cross_validate(folder: Path, seeds: list[int]) -> None:
    """Fit the scores on one half of the gold stories (``story_fit``), score the other half;
    then the other way round. What the held-back halves may expect is the checked half's figure."""
    import story_fit

    for fit_half in (0, 1):
        weights, merge_weights = story_fit.fit(folder, half=fit_half)
        check = 1 - fit_half

        def make() -> StoryClusterer:
            return StoryClusterer(weights=weights, merge_weights=merge_weights)

        for seed in seeds:
            p, r, f = score(story_stream.ecbplus(folder / "ecbplus_dev.jsonl", check, seed=seed), make)
            print(f"fit h{fit_half} -> ecb s{seed} h{check}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
        p, r, f = score(story_stream.uci(folder / "uci_dev.csv", check), make)
        print(f"fit h{fit_half} -> uci h{check}      P {p:.3f}  R {r:.3f}  F1 {f:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[9, 1, 2, 3])
    parser.add_argument("--errors", action="store_true")
    parser.add_argument("--cv", action="store_true", help="fit on one half, check on the other, both ways")
    parser.add_argument("--orders", type=int, default=0, help="also run each set in this many arrival orders")
    args = parser.parse_args(argv)
    if args.cv:
        cross_validate(args.folder, args.seeds)
    else:
        report(args.folder, args.seeds, show_errors=args.errors)
        if args.orders:
            report_orders(args.folder, args.seeds, args.orders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
