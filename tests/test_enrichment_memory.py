"""The enrichment state holds one window, however long the run: counts, not timings.

Copy detection (its LSH index included) and story clustering are fed generated articles that
span several windows; what they hold is then what the last window has, and a story that runs
for weeks keeps a bounded number of member vectors. The compact LSH index finds the candidates
datasketch's index finds.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import numpy as np
from datasketch import MinHash, MinHashLSH

from newswire.enrich import lsh
from newswire.enrich.dedupe import CANDIDATE_JACCARD, CANDIDATE_WEIGHTS, CopyDetector
from newswire.enrich.lsh import BandIndex
from newswire.enrich.stories import KEPT_MEMBERS, StoryClusterer

T0 = datetime(2025, 9, 17, 8, 0, tzinfo=timezone.utc)
WORDS = [f"w{n}" for n in range(3000)]


def text(rng: random.Random, words: int = 120) -> str:
    return "\n".join(" ".join(rng.choices(WORDS, k=20)) for _ in range(words // 20))


def minhash(values: list[int]) -> MinHash:
    found = MinHash(num_perm=128, seed=1, hashfunc=lambda v: v)
    found.update_batch(values)
    return found


def test_the_band_index_finds_what_datasketch_finds():
    rng = random.Random(3)
    ours = BandIndex(threshold=CANDIDATE_JACCARD, num_perm=128, weights=CANDIDATE_WEIGHTS)
    theirs = MinHashLSH(threshold=CANDIDATE_JACCARD, num_perm=128, weights=CANDIDATE_WEIGHTS)
    assert (ours.bands, ours.rows) == (theirs.b, theirs.r)
    bases = [[rng.getrandbits(32) for _ in range(200)] for _ in range(40)]
    signatures = {}
    for doc in range(2500):  # near-copies of 40 texts, so that bands are shared
        base = bases[doc % 40]
        kept = [v for v in base if rng.random() < rng.choice((0.3, 0.6, 0.95))]
        signatures[doc] = minhash(kept + [rng.getrandbits(32) for _ in range(rng.randint(0, 60))])
        ours.insert(doc, signatures[doc].hashvalues)
        theirs.insert(doc, signatures[doc])
    for doc in range(0, 2500, 3):  # removals before and after merges
        ours.remove(doc)
        theirs.remove(doc)
    for doc in list(signatures)[::7]:
        assert ours.query(signatures[doc].hashvalues) == set(theirs.query(signatures[doc]))
    assert len(ours) == len(theirs.keys)


def test_the_band_index_holds_the_live_documents_entries_only():
    index = BandIndex(threshold=CANDIDATE_JACCARD, num_perm=128, weights=CANDIDATE_WEIGHTS)
    rng = np.random.default_rng(5)
    live = 400
    most = 0
    for doc in range(6000):  # a sliding window of 400 documents over 6,000
        index.insert(doc, rng.integers(0, 2**32, size=128, dtype=np.uint64))
        if doc >= live:
            index.remove(doc - live)
        most = max(most, index.entries)
    assert len(index) == live
    # the live documents' bands, plus at most one merge's worth of removed or recent ones
    assert most <= index.bands * (live + 2 * lsh.MERGE_MIN)
    assert index.entries <= index.bands * (live + lsh.MERGE_MIN)


def test_copy_detection_holds_one_window():
    rng = random.Random(7)
    detector = CopyDetector(window=timedelta(days=1))
    originals: list[str] = []
    for hour in range(24 * 5):  # five days, ten articles an hour, a fifth of them copies
        at = T0 + timedelta(hours=hour)
        for k in range(10):
            if originals and k < 2:
                body = rng.choice(originals[-20:])
            else:
                body = text(rng)
                originals.append(body)
            detector.index(hour * 10 + k, k, body, at + timedelta(minutes=k))
    counts = detector.memory_counts()
    in_window = 25 * 10  # the last day's articles, and the hour at its edge
    assert counts["docs"] == counts["lsh_docs"] == counts["expiry"] <= in_window
    assert counts["docs"] >= 24 * 10
    assert counts["lsh_entries"] <= detector._lsh.bands * (counts["docs"] + lsh.MERGE_MIN)
    assert counts["copies"] <= counts["docs"] and counts["groups"] <= counts["docs"]
    assert counts["copies"] > 0  # copies were found: the index was in use
    assert counts["boilerplate_sources"] == 10


def test_story_clustering_holds_one_window_and_a_bounded_story():
    rng = random.Random(11)
    clusterer = StoryClusterer(window=timedelta(hours=72))
    hours = 24 * 12
    for hour in range(hours):  # twelve days: one story every hour, and three unrelated articles
        at = T0 + timedelta(hours=hour)
        clusterer.add(4 * hour, hour % 7, "Maple Harbour ferry strike enters another day",
                      "Ferry workers in Maple Harbour stayed on strike. Union leader Ada Moreau said talks "
                      "with the Maple Harbour Ferry Company would resume.", at)
        for k in range(1, 4):
            words = " ".join(rng.choices(WORDS, k=12))
            clusterer.add(4 * hour + k, 10 + k, f"{words.split()[0]} {words.split()[1]} report",
                          words, at + timedelta(minutes=k))
    counts = clusterer.memory_counts()
    assert counts["docs_seen"] <= 73 * 4  # document frequencies: the last 72 hours' articles only
    assert counts["stories"] <= 73 * 3 + 1
    assert counts["members_kept"] <= 73 * 3 + 2 * KEPT_MEMBERS
    strike = max(clusterer._stories.values(), key=lambda story: story.size)
    assert strike.size == hours  # one story all along, never dropped while it is updated ...
    assert len(strike.members) == 2 * KEPT_MEMBERS  # ... keeping its first and latest members' vectors
    assert strike.members[0].doc_id == 0 and strike.members[-1].doc_id == 4 * (hours - 1)


def test_boilerplate_holds_each_sources_last_articles_units_and_counts_them_as_a_counter_would():
    from collections import OrderedDict

    from newswire.enrich.dedupe import Boilerplate

    rng = random.Random(13)
    learner = Boilerplate(min_articles=3, history=20)
    model: dict[int, OrderedDict[int, set[int]]] = {}  # the plain model: source → doc → its distinct units
    footers = {source: rng.getrandbits(64) for source in range(5)}
    for doc in range(3000):
        source = rng.randrange(5)
        if doc > 10 and rng.random() < 0.1:  # an updated article: learnt again
            doc = rng.choice(list(model[source])) if model.get(source) else doc
        keys = [rng.getrandbits(64) if rng.random() < 0.7 else rng.randrange(40) for _ in range(rng.randint(0, 12))]
        if rng.random() < 0.6:
            keys.append(footers[source])
        kept = learner.learn_and_keep_keys(source, doc, keys)
        recent = model.setdefault(source, OrderedDict())
        recent.pop(doc, None)
        recent[doc] = set(keys)
        while len(recent) > 20:
            recent.popitem(last=False)
        assert kept == [sum(key in units for units in recent.values()) < 3 for key in keys]
    assert learner.held == sum(len(units) for recent in model.values() for units in recent.values())
    assert learner.units == sum(len(set().union(*recent.values())) for recent in model.values())
    assert learner.sources == 5


def test_story_term_numbers_are_given_back_when_their_articles_leave_the_window():
    rng = random.Random(17)
    clusterer = StoryClusterer(window=timedelta(hours=24))
    most = 0
    for day in range(6):  # each day a vocabulary of its own, each word once in an article's text
        vocabulary = [f"d{day}x{n}" for n in range(500)]
        for hour in range(24):
            at = T0 + timedelta(days=day, hours=hour)
            clusterer.add((day, hour), hour % 5, "", " ".join(rng.sample(vocabulary, k=60)), at)
            most = max(most, clusterer.memory_counts()["terms"])
    counts = clusterer.memory_counts()
    assert counts["docs_seen"] <= 25
    assert counts["terms"] == len(clusterer._terms) - len(clusterer._free_numbers)
    assert len(clusterer._terms) <= most  # numbers are reused: they follow the window, not the run


def test_story_document_frequencies_forget_headline_words_and_names():
    # An article adds its counts to its terms' frequencies (a title word counts twice, a name
    # three times) and takes the same back when it leaves the window: it used to take back one,
    # so those terms were never forgotten, and their frequencies grew with the run.
    rng = random.Random(19)
    clusterer = StoryClusterer(window=timedelta(hours=24))
    for day in range(10):  # each day new names in the headlines: the count grows by a day's names a day
        for hour in range(24):
            name = "".join(rng.choice("bdklmnprstv") + rng.choice("aeiou") for _ in range(3)).capitalize()
            clusterer.add((day, hour), hour % 5, f"{name} wins the vote", f"{name} said {rng.random()}",
                          T0 + timedelta(days=day, hours=hour))
    assert clusterer.memory_counts()["terms"] <= 6 * 25  # the last day's articles' terms (about five each)


def test_our_minhash_and_band_parameters_are_datasketchs():
    from datasketch.lsh import _optimal_param

    from newswire.enrich.minhash import MinHasher, optimal_params

    rng = np.random.default_rng(23)
    ours = MinHasher(128, seed=1)
    for size in (0, 1, 7, 300, 3000):
        hashes = np.unique(rng.integers(0, 2**32, size, dtype=np.uint64)).astype(np.uint32)
        theirs = minhash(hashes.tolist())
        assert np.array_equal(ours.signature(hashes), theirs.hashvalues)
    for threshold in (0.1, 0.3, 0.5, 0.8):
        for weights in ((0.5, 0.5), CANDIDATE_WEIGHTS):
            assert optimal_params(threshold, 128, *weights) == _optimal_param(threshold, 128, *weights)


def test_a_running_newswire_does_not_import_scipy():
    """datasketch imports scipy with any of its sketches: about 60 MB of each process."""
    import subprocess
    import sys

    code = ("import sys, newswire.cli, newswire.service.update, newswire.service.copies, newswire.service.stories; "
            "import newswire.web.app; print(sorted(m for m in ('scipy', 'datasketch') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert found == "[]"


def test_story_background_forgets_what_it_no_longer_hears():
    # What articles said with emphasis (a headline word, a name) outlives the window in a
    # background that halves every BACKGROUND_HALF_LIFE and forgets what falls under half a
    # mention: a name heard once is forgotten within a few half-lives, so over sixty days the
    # background holds about a month of names, not sixty days of them.
    from newswire.enrich.stories import BACKGROUND_HALF_LIFE

    rng = random.Random(23)
    clusterer = StoryClusterer(window=timedelta(hours=24))
    days = 60
    for day in range(days):
        for hour in range(24):
            name = "".join(rng.choice("bdklmnprstv") + rng.choice("aeiou") for _ in range(4)).capitalize()
            clusterer.add((day, hour), hour % 5, f"{name} wins the vote", f"{name} said {rng.random()}",
                          T0 + timedelta(days=day, hours=hour))
    held = clusterer.memory_counts()["background_terms"]
    per_day = 24 * 2  # each article's name, as a word and as a name
    assert 0 < held <= per_day * (2 * BACKGROUND_HALF_LIFE.days + 2) < per_day * days
    assert clusterer._doc_frequency("win") > 24  # a headline word heard all along stays common ...
    assert clusterer._idf("win") == 0.0  # ... more mentions than the window has articles: it weighs nothing


def test_story_centroids_let_go_and_summed_again_give_the_same_decisions():
    # A story holds its centroid only while it is among the last read (``_Centroids``); summed
    # again from its members it is the same dict, values and order, so a clusterer holding two
    # decides as one holding them all, through joins, merges and long stories.
    from newswire.testing.corpus import build_corpus

    corpus = build_corpus(events=150, seed=6)
    few, every = StoryClusterer(), StoryClusterer()
    few._centroids.limit = 2
    every._centroids.limit = 10**9
    held_most = merged = 0
    for a in corpus.articles:
        one = few.add(a.id, a.source_id, a.title, a.text, a.published_at)
        assert one == every.add(a.id, a.source_id, a.title, a.text, a.published_at)
        merged += bool(one.merged)
        held_most = max(held_most, sum(bool(s.held) and s.resummable() for s in few._stories.values()))
    assert held_most <= 2 and merged > 0
    assert every.memory_counts()["centroids_held"] >= 10  # there were centroids to let go
    for story in every._stories.values():  # and the held centroids are the sums
        if story.size > 1 and story.resummable():
            kept = few._by_key[story.key]
            assert list(kept.centroid.items()) == list(story.centroid.items())


def test_a_story_holds_one_string_per_term_however_the_words_arrive():
    # The parse workers' leads arrive through pickle, each batch's words as new strings: what a
    # story keeps (its members' terms, its centroid's keys) is the clusterer's one string per
    # term, not each article's own (some 15 KB a member).
    import pickle

    from newswire.enrich.stories import lead_of
    from newswire.enrich.story_text import LeadText
    from newswire.testing.corpus import build_corpus

    corpus = build_corpus(events=80, seed=8)
    clusterer = StoryClusterer()
    for a in corpus.articles:
        lead = pickle.loads(pickle.dumps(LeadText.of(lead_of(a.text))))
        clusterer.add(a.id, a.source_id, a.title, "", a.published_at, prepared=lead)
    objects: dict[str, set[int]] = {}
    for story in clusterer._stories.values():
        held = [term for member in story.members for term in member.terms] + list(story.held)
        for term in held:
            objects.setdefault(term, set()).add(id(term))
    assert len(objects) > 500
    assert max(map(len, objects.values())) == 1


def test_a_story_keeps_its_index_keys_as_a_tuple_each_once_and_the_index_agrees():
    # A story's index keys are a tuple (a set of a dozen strings cost some 700 bytes a story);
    # through joins and merges each key is there once, and the index lists the story under
    # exactly those keys.
    from newswire.testing.corpus import build_corpus

    corpus = build_corpus(events=150, seed=6)
    clusterer = StoryClusterer()
    merged = 0
    for a in corpus.articles:
        merged += bool(clusterer.add(a.id, a.source_id, a.title, a.text, a.published_at).merged)
    assert merged > 0
    under: dict[str, set[int]] = {}
    for story in clusterer._stories.values():
        assert isinstance(story.index_keys, tuple) and len(set(story.index_keys)) == len(story.index_keys)
        for key in story.index_keys:
            under.setdefault(key, set()).add(story.number)
    assert under == {key: set(numbers) for key, numbers in clusterer._index.items()}
    assert all(len(numbers) == len(set(numbers)) for numbers in clusterer._index.values())  # each once


def test_a_kept_member_keeps_its_terms_when_their_numbers_go_to_other_terms():
    # A kept member reads its terms through its article's term numbers; a number goes to another
    # term once every article with it has left the window. A story running longer than the
    # window keeps its first members: they must still read their own terms, and the weights
    # beside them, when the numbers have been given to the new days' words.
    rng = random.Random(29)
    clusterer = StoryClusterer(window=timedelta(hours=24))
    joined: dict[int, list[tuple[str, float]]] = {}
    for day in range(5):
        vocabulary = [f"d{day}x{n}" for n in range(300)]
        for hour in range(24):
            at = T0 + timedelta(days=day, hours=hour)
            doc = 10 * (24 * day + hour)
            if hour % 6 == 0:  # the running story: one headline, its own words each time
                clusterer.add(doc, hour % 5, "Maple Harbour ferry strike enters another day",
                              "Ferry workers in Maple Harbour stayed on strike. " + " ".join(rng.sample(vocabulary, k=30)), at)
                strike = clusterer._doc_story[doc]
                member = strike.members[-1]
                joined[doc] = list(zip(member.terms, member.weights))
            clusterer.add(doc + 1, 5 + hour % 5, "", " ".join(rng.sample(vocabulary, k=80)), at)
    strike = clusterer._doc_story[doc - 10 * 5]
    assert strike.size == 20 and len(strike.members) == 20
    assert len(clusterer._terms) < 4 * 300  # numbers were reused: new days' words took old ones
    for member in strike.members:
        assert list(zip(member.terms, member.weights)) == joined[member.doc_id]


def test_fractional_term_counts_are_taken_back_exactly(monkeypatch):
    # Counts are held as bytes while they are whole numbers, and as 32-bit floats otherwise: a
    # title weight of 1.5 is taken back exactly, and the window's terms are all forgotten.
    from newswire.enrich import stories

    monkeypatch.setattr(stories, "TITLE_WEIGHT", 1.5)
    clusterer = StoryClusterer(window=timedelta(hours=24))
    for day in range(3):
        for hour in range(24):
            clusterer.add((day, hour), hour % 5, f"Vote number d{day}h{hour} counted",
                          f"Results of d{day}h{hour} and d{day}h{hour} came", T0 + timedelta(days=day, hours=hour))
    clusterer.forget_before(T0 + timedelta(days=10))
    assert clusterer.memory_counts()["terms"] == 0 and clusterer.memory_counts()["docs_seen"] == 0
    assert not any(clusterer._df)


def test_a_copys_shingles_are_held_against_the_original_and_outlive_it():
    rng = random.Random(13)
    detector = CopyDetector(window=timedelta(hours=2))
    body = text(rng, 200)
    trimmed = "\n".join(body.split("\n")[:8])  # a copy cut short
    detector.index(1, 1, body, T0)
    assert detector.index(2, 2, trimmed, T0 + timedelta(minutes=5)).canonical_id == 1
    original, copy = detector._docs[1], detector._docs[2]
    assert original.base is None and copy.base is original.packed  # shared, not copied
    assert len(copy.packed) < len(original.packed) / 4
    expected = CopyDetector(window=timedelta(hours=2))
    expected.index(2, 2, trimmed, T0)
    assert np.array_equal(copy.shingles, expected._docs[2].shingles)
    detector.index(3, 3, text(rng, 200), T0 + timedelta(hours=2, minutes=1))  # the original leaves
    assert 1 not in detector._docs and 2 in detector._docs
    assert np.array_equal(detector._docs[2].shingles, expected._docs[2].shingles)
    later = detector.index(4, 4, trimmed, T0 + timedelta(hours=2, minutes=2))  # the copy still matches
    assert later.canonical_id == 1  # the group keeps its canonical's id while a member remains


def test_a_band_shared_by_two_documents_answers_both_then_the_one_left_in_every_stage(monkeypatch):
    monkeypatch.setattr(lsh, "NEWEST_MAX", 4)
    monkeypatch.setattr(lsh, "MERGE_MIN", 16)
    index = BandIndex(threshold=CANDIDATE_JACCARD, num_perm=128, weights=CANDIDATE_WEIGHTS)
    rng = np.random.default_rng(9)
    shared = rng.integers(0, 2**32, size=128, dtype=np.uint64)
    index.insert("a", shared)
    assert index.query(shared) == {"a"}  # one document in the bucket, waiting in the dict
    index.insert("b", shared.copy())
    assert index.query(shared) == {"a", "b"}  # two
    for doc in range(2):  # four documents: the newest move to the young run
        index.insert(doc, rng.integers(0, 2**32, size=128, dtype=np.uint64))
    assert not index._newest and len(index._young) and index.query(shared) == {"a", "b"}
    index.remove("a")  # leaves the window: one again, at once
    assert index.query(shared) == {"b"}
    for doc in range(2, 20):  # the old run's merge drops its entries
        index.insert(doc, rng.integers(0, 2**32, size=128, dtype=np.uint64))
    assert len(index._old) and index.query(shared) == {"b"}
    assert 0 not in index._old.serials and index._first == 1  # "a" was serial 0
    index.insert("a", shared)  # back again: a new serial, the old one's place stays gone
    assert index.query(shared) == {"a", "b"}
    index.remove("b")
    assert index.query(shared) == {"a"}


def test_the_band_index_answers_as_a_plain_table_through_inserts_removals_and_merges(monkeypatch):
    monkeypatch.setattr(lsh, "NEWEST_MAX", 8)
    monkeypatch.setattr(lsh, "MERGE_MIN", 50)
    index = BandIndex(threshold=CANDIDATE_JACCARD, num_perm=128, weights=CANDIDATE_WEIGHTS)
    rng = random.Random(17)
    pool = [np.array([rng.getrandbits(32) for _ in range(128)], dtype=np.uint64) for _ in range(30)]

    def signature() -> np.ndarray:  # rows drawn from a few signatures: bands are often shared
        mixed = pool[rng.randrange(30)].copy()
        other = pool[rng.randrange(30)]
        for band in rng.sample(range(index.bands), 20):
            mixed[band * index.rows:(band + 1) * index.rows] = other[band * index.rows:(band + 1) * index.rows]
        return mixed

    table: dict[int, set] = {}  # the plain table: band key → documents
    keys_of: dict[int, list[int]] = {}
    next_doc = 0
    for _ in range(1500):
        if keys_of and rng.random() < 0.45:
            doc = rng.choice(sorted(keys_of))
            index.remove(doc)
            for key in keys_of.pop(doc):
                table[key].discard(doc)
        else:
            doc = rng.choice(sorted(set(range(next_doc)) - set(keys_of))) if rng.random() < 0.2 and next_doc > len(
                keys_of) else next_doc  # sometimes a document removed earlier comes back
            next_doc = max(next_doc, doc + 1)
            values = signature()
            index.insert(doc, values)
            keys_of[doc] = index.band_keys(values).tolist()
            for key in keys_of[doc]:
                table.setdefault(key, set()).add(doc)
        probe = signature()
        expected = set().union(*(table.get(key, set()) for key in index.band_keys(probe).tolist()))
        assert index.query(probe) == expected
    assert len(index) == len(keys_of)
    assert index.entries <= index.bands * (len(keys_of) + 50)
