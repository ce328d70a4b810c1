"""Copy detection on small generated corpora: all text fictional, built here from word lists."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone

from newswire.enrich.dedupe import _APOSTROPHES, _SENTENCE_END, Boilerplate, CopyDetector, containment, normalise, shingles, units
from newswire.enrich.story_text import lead_of

T0 = datetime(2025, 9, 17, 12, 0, tzinfo=timezone.utc)
PEOPLE = ["Ada Moreau", "Bruno Gagnon", "Elif Okafor", "Hana Lindqvist", "Omar Tremblay", "Priya Hollis"]
TOWNS = ["Port Alder", "Maple Harbour", "Cedar Falls", "Granite Bay", "Fernwick"]
NOUNS = ["council", "ferry", "budget", "harbour", "bridge", "library", "transit", "housing", "levy",
         "shoreline", "rink", "clinic", "school", "market", "water", "road", "permit", "grant"]
VERBS = ["approved", "delayed", "reviewed", "funded", "rejected", "expanded", "postponed", "questioned"]
FILLER = ["after", "a", "long", "debate", "on", "the", "plan", "for", "next", "year", "with", "residents",
          "and", "officials", "at", "town", "hall", "said", "that", "it", "would", "cost", "million"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(NOUNS + VERBS + FILLER) for _ in range(rng.randint(10, 16))]
    return " ".join(words).capitalize() + "."


def story(seed: int, paragraphs: int = 5) -> list[str]:
    """A fictional wire story: paragraphs of three sentences."""
    rng = random.Random(seed)
    return [" ".join(sentence(rng) for _ in range(3)) for _ in range(paragraphs)]


def copy_text(paragraphs: list[str], byline: str = "", footer: str = "") -> str:
    return "\n".join([line for line in (byline, *paragraphs, footer) if line])


def footer(paper: str) -> str:
    return f"{paper} — Our website is the place for the latest local news. Sign up for our newsletter today."


def test_normalise_and_units():
    assert normalise("  The Council’s VOTE — 7 to 2!  ") == "the councils vote 7 to 2"
    assert units("One sentence. Two sentences!\n\nCanadian Wire staff") == [
        "one sentence", "two sentences", "canadian wire staff"]


def test_an_apostrophe_goes_only_between_two_word_characters():
    """The pattern looks for the apostrophe first (see ``_APOSTROPHES``); it removes exactly
    what the look-behind form removed, letters of any script and digits counting as word
    characters, two apostrophes in a row or at a word's edge staying (as spaces)."""
    as_before = re.compile(r"(?<=\w)['’](?=\w)")
    for text in ["it's", "O'Neill's", "a'b'c", "rock 'n' roll", "x''y", "'quoted'", "l’été", "Ω'Ω", "1'2",
                 "_'_", "a'\nb", "a\n'b", "’’", "don’t’", "end'"]:
        assert _APOSTROPHES.sub("", text) == as_before.sub("", text), text
    assert normalise("rock 'n' roll, O’Neill's") == "rock n roll oneills"


def test_sentences_end_where_they_did_with_the_look_behind_first():
    """``_SENTENCE_END`` splits exactly where the look-behind form split (see its comment)."""
    as_before = re.compile(r"(?<=[.!?…])\s+")
    for text in ["One. Two! Three? Four… Five", "a.  b", "x.\u2003y", ". lead", "end.", ". ", "?\t\tq!",
                 "no end here", "3.5 million. Then", "Mr. Smith", "…  z", "a .b", "a.\nb"]:
        assert _SENTENCE_END.split(text) == as_before.split(text), text
    assert lead_of("One two\nthree  four five", 3) == "One two three"
    assert lead_of("one two", 400) == "one two" and lead_of("one two", 0) == ""


def test_same_body_with_other_title_byline_and_footer_is_a_copy():
    body = story(1)
    detector = CopyDetector()
    assert detector.add(1, 10, copy_text(body, "By Ada Moreau, The Canadian Wire"), T0) is None
    second = copy_text(body, "CANADIAN WIRE STAFF", footer("The Port Alder Post"))
    assert detector.add(2, 11, second, T0 + timedelta(minutes=5)) == 1
    third = copy_text(body, "Ada Moreau — The Canadian Wire", footer("Cedar Falls Chronicle"))
    assert detector.add(3, 12, third, T0 + timedelta(minutes=9)) == 1


def test_trimmed_copy_matches():
    body = story(2, paragraphs=10)
    detector = CopyDetector()
    detector.add(1, 10, copy_text(body), T0)
    trimmed = copy_text(body[:6], footer("The Granite Bay Herald"))
    assert detector.add(2, 11, trimmed, T0 + timedelta(minutes=1)) == 1


def test_light_edits_still_a_copy():
    body = story(3)
    edited = list(body)
    edited[2] = "The ferry operator declined to comment on the schedule change when reached on Friday."
    edited[4] = edited[4].replace("council", "board", 1)
    detector = CopyDetector()
    detector.add(1, 10, copy_text(body), T0)
    assert detector.add(2, 11, copy_text(edited), T0 + timedelta(minutes=1)) == 1


def test_different_stories_on_one_topic_are_not_copies():
    detector = CopyDetector()
    for seed in range(30):
        assert detector.add(seed, seed % 5, copy_text(story(100 + seed)), T0 + timedelta(minutes=seed)) is None
    assert len(detector) == 30


def test_different_stories_sharing_whole_sentences_are_not_copies():
    """Two reports of one council meeting: the same quote and the same background line, the rest
    their own."""
    shared = ["“We heard from a lot of residents, and this reflects what they told us,” said Hana Lindqvist.",
              "The province has not said whether it will contribute funding to the ferry terminal."]
    a = copy_text(story(7)[:3] + shared)
    b = copy_text(shared + story(8)[:3])
    detector = CopyDetector()
    detector.add(1, 10, a, T0)
    assert detector.add(2, 11, b, T0) is None


def test_short_texts_are_never_copies():
    detector = CopyDetector()
    short = "The council approved the ferry budget on Tuesday after a long debate with residents."
    assert detector.add(1, 10, short, T0) is None
    assert detector.add(2, 11, short, T0 + timedelta(minutes=1)) is None
    assert len(detector) == 0


def test_same_source_repeats_are_not_syndication():
    body = copy_text(story(4))
    detector = CopyDetector()
    detector.add(1, 10, body, T0)
    assert detector.add(2, 10, body, T0 + timedelta(minutes=1)) is None
    assert detector.add(3, 11, body, T0 + timedelta(minutes=2)) == 1


def test_boilerplate_is_learnt_per_source():
    learner = Boilerplate()
    foot = footer("The Fernwick Tribune")
    for doc_id in range(3):
        kept = " ".join(learner.clean(20, doc_id, copy_text(story(200 + doc_id, 2), "Canadian Wire staff", foot)))
    assert "newsletter" not in kept and "staff" not in kept
    assert learner.is_boilerplate(20, "canadian wire staff")
    assert not learner.is_boilerplate(21, "canadian wire staff")  # another source has not used it
    other = " ".join(learner.clean(21, 99, copy_text(story(300, 2), "", foot)))
    assert "newsletter" in other


def test_a_learnt_footer_is_gone_before_shingling():
    """Once a paper's footer is learnt, its copies lose it before shingling."""
    detector = CopyDetector()
    foot = footer("Lake Ossin Courier")
    for i in range(3):
        detector.add(100 + i, 30, copy_text(story(400 + i), footer=foot), T0 + timedelta(minutes=i))
    body = story(500)
    detector.add(1, 10, copy_text(body), T0 + timedelta(hours=1))
    kept = detector.boilerplate.clean(30, 2, copy_text(body, footer=foot))
    assert containment(shingles(kept, 5), shingles(units(copy_text(body)), 5)) == 1.0
    assert detector.add(2, 30, copy_text(body, footer=foot), T0 + timedelta(hours=2)) == 1


def test_earliest_copy_is_canonical_even_when_it_arrives_later():
    body = story(5)
    detector = CopyDetector()
    first = detector.index(2, 11, copy_text(body, footer=footer("Paper B")), T0 + timedelta(minutes=10))
    assert first.canonical_id is None
    second = detector.index(3, 12, copy_text(body, footer=footer("Paper C")), T0 + timedelta(minutes=20))
    assert (second.canonical_id, second.repoint) == (2, ())
    late = detector.index(1, 10, copy_text(body), T0)  # the wire's own, older, fetched last
    assert late.canonical_id is None
    assert sorted(late.repoint) == [(2, 1), (3, 1)]
    assert late.writes()[0] == (1, None)
    assert detector.add(4, 13, copy_text(body, footer=footer("Paper D")), T0 + timedelta(minutes=30)) == 1
    assert detector.canonical_of(2) == 1


def test_ties_go_to_the_lower_id():
    body = copy_text(story(6))
    detector = CopyDetector()
    detector.add(5, 10, body, T0)
    decision = detector.index(4, 11, body, T0)
    assert (decision.canonical_id, decision.repoint) == (None, ((5, 4),))
    assert detector.canonical_of(5) == 4


def test_reindexing_an_updated_canonical_keeps_the_group():
    body = story(9)
    detector = CopyDetector()
    detector.add(1, 10, copy_text(body), T0)
    detector.add(2, 11, copy_text(body), T0 + timedelta(minutes=1))
    detector.add(3, 12, copy_text(body), T0 + timedelta(minutes=2))
    again = detector.index(1, 10, copy_text(body[:-1] + ["A correction was appended to this story."]), T0)
    assert again.canonical_id is None
    assert dict(again.repoint) in ({}, {2: 1, 3: 1})
    assert detector.canonical_of(2) == detector.canonical_of(3) == 1
    changed = detector.index(1, 10, copy_text(story(10)), T0)  # now a different story altogether
    assert changed.canonical_id is None
    assert dict(changed.repoint) == {2: None, 3: 2}


def test_window_forgetting_keeps_memory_bounded():
    detector = CopyDetector(window=timedelta(hours=10))
    for i in range(60):
        detector.add(i, i % 7, copy_text(story(1000 + i)), T0 + timedelta(hours=i))
        assert len(detector) <= 11
    detector.forget_before(T0 + timedelta(days=30))
    assert len(detector) == 0


def test_a_copy_of_a_forgotten_canonical_still_points_to_it():
    body = story(11)
    detector = CopyDetector(window=timedelta(hours=5))
    detector.add(1, 10, copy_text(body), T0)
    detector.add(2, 11, copy_text(body), T0 + timedelta(hours=4))
    detector.add(99, 15, copy_text(story(12)), T0 + timedelta(hours=6))  # moves the window past 1
    assert detector.add(3, 12, copy_text(body), T0 + timedelta(hours=7)) == 1


def test_deterministic():
    def run() -> list[int | None]:
        detector = CopyDetector()
        rng = random.Random(5)
        bodies = [story(2000 + i) for i in range(8)]
        results = []
        for i in range(40):
            body = rng.choice(bodies)
            results.append(detector.add(i, rng.randrange(6), copy_text(body, footer=footer(f"P{i % 4}")),
                                        T0 + timedelta(minutes=rng.randrange(600))))
        return results

    assert run() == run()


def test_a_footer_inside_the_last_paragraph_is_learnt_and_the_rest_kept():
    learner = Boilerplate()
    foot = "The Fernwick Tribune is the town's independent newsroom."
    for doc_id in range(3):
        paragraphs = story(600 + doc_id, 3)
        paragraphs[-1] += " " + foot
        kept = learner.clean(40, doc_id, copy_text(paragraphs))
    assert normalise(foot) not in kept
    assert kept == [unit for unit in units(copy_text(paragraphs)) if unit != normalise(foot)]
    assert len(kept) == 3 + 1 + 3  # the first line's sentences, the middle line whole, the last line's


def test_the_demo_newsroom_wire_copies_group_exactly():
    """Every outlet's copy of one wire story in one group, nothing else grouped."""
    from newswire.demo.newsroom import Newsroom
    from newswire.parse.html import html_to_text

    room = Newsroom("http://127.0.0.1:9", seed=11)
    room.backlog(T0, wire_stories=8, own_stories=5)
    for i in range(60):
        room.tick(T0 + timedelta(minutes=2 * i))
    docs = sorted((a.published, source, a.guid.rsplit("/", 1)[-1], html_to_text(a.content_html))
                  for source, paper in enumerate(room.outlets) for a in room.articles[paper.outlet.slug])
    detector = CopyDetector()
    canonical: dict[int, int] = {}
    for i, (published, source, _, text) in enumerate(docs):
        decision = detector.index(i, source, text, published)
        canonical[i] = decision.canonical_id if decision.canonical_id is not None else i
        canonical.update({other: to if to is not None else other for other, to in decision.repoint})
    groups: dict[int, set[str]] = {}
    for i, (_, _, key, _) in enumerate(docs):
        groups.setdefault(canonical[i], set()).add(key)
    stories = {key for _, _, key, _ in docs if key.startswith("wire-")}
    assert all(len(keys) == 1 for keys in groups.values())  # precision: no group mixes stories
    assert sum(1 for keys in groups.values() if keys <= stories) == len(stories)  # recall: one group each
    assert all(docs[c][0] == min(d[0] for d in docs if d[2] == docs[c][2]) for c in set(canonical.values()))


def test_shingles_are_the_units_own_grams_and_the_same_in_every_process():
    """Grams never span units, a unit shorter than a gram is one gram, and the hashes do not
    depend on the process (``hash()`` would): copies found today are found after a restart."""
    import subprocess
    import sys

    a = shingles(["one two three four five six"], 5)
    b = shingles(["one two three", "four five six"], 5)
    assert len(a) == 2 and len(b) == 2 and not set(a) & set(b)
    assert list(shingles(["one two three four five six", "one two three four five six"], 5)) == list(a)
    assert len(shingles(["", "   "], 5)) == 0
    script = "from newswire.enrich.dedupe import shingles; print(list(shingles(['one two three four five six'], 5)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": ""})
    assert out.stdout.strip() == str(list(a))
