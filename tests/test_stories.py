"""Story clustering, pure: the clusterer on small fictional corpora, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newswire.enrich import story_score
from newswire.enrich.stories import StoryClusterer, named_entities, significant_words
from newswire.enrich.story_text import when_in, with_surnames
from newswire.testing.corpus import build_corpus

T0 = datetime(2025, 9, 17, 8, 0, tzinfo=timezone.utc)

FERRY = [
    ("Harbour commission delays Port Alder ferry timetable vote",
     "The Port Alder harbour commission put off its vote on the Wexley Island ferry timetable until spring."),
    ("Port Alder ferry timetable vote pushed to spring",
     "Commissioners in Port Alder said the vote on the Wexley Island ferry timetable would wait for a hearing."),
    ("Wexley Island ferry: Port Alder commission postpones timetable decision",
     "A decision on the Wexley Island ferry timetable was postponed by the Port Alder harbour commission."),
]
LIBRARY = ("Port Alder library opens new reading room",
           "The Port Alder library unveiled a reading room named for the poet Ines Quesnel on Tuesday.")


def add_all(clusterer: StoryClusterer, docs, start: datetime = T0, source_offset: int = 0):
    return [clusterer.add(i, i + source_offset, title, lead, start + timedelta(hours=i))
            for i, (title, lead) in enumerate(docs)]


def test_one_event_in_different_words_joins_one_story():
    decisions = add_all(StoryClusterer(), FERRY)
    assert decisions[0].created and not decisions[1].created and not decisions[2].created
    assert len({d.key for d in decisions}) == 1
    assert decisions[-1].size == 3
    assert decisions[-1].title in {title for title, _ in FERRY}


def test_two_events_sharing_a_town_and_words_stay_apart():
    clusterer = StoryClusterer()
    ferry = add_all(clusterer, FERRY[:2])
    library = clusterer.add("lib", 99, *LIBRARY, T0 + timedelta(hours=3))
    fire = clusterer.add("fire", 98, "Port Alder council approves harbour parking fees",
                         "Parking near the Port Alder harbour will cost two dollars an hour from May, council decided.",
                         T0 + timedelta(hours=4))
    assert library.created and fire.created
    assert len({ferry[0].key, library.key, fire.key}) == 3


def test_a_names_share_counts_the_names_behind_it():
    # a report that names only the town shares all of its names with the ferry story, as one that
    # names the town and the island does; the second is the stronger evidence, and a town alone
    # is weak evidence (NAMES_PRIOR: two unheard-of names more, unshared)
    clusterer = StoryClusterer()
    add_all(clusterer, FERRY[:2])
    town = clusterer._member("t", "Port Alder council meets", "The Port Alder council met on Monday.",
                             T0 + timedelta(hours=3), copy=False)
    both = clusterer._member("b", "Ferry runs again", "The Wexley Island ferry left Port Alder on Monday.",
                             T0 + timedelta(hours=3), copy=False)
    story = clusterer._by_key[("new", 1)]
    town_share = clusterer.features(town, story, 3.0).names
    both_share = clusterer.features(both, story, 3.0).names
    assert 0 < town_share < 0.5 and town_share < both_share


def test_chaining_is_prevented():
    # Three reports of a bridge closure (A), one that links it to the budget (B), then a budget
    # report (C). B~A and C~B, but C is compared with the story's centroid, which is the
    # bridge closure, and stays out: stories do not chain.
    clusterer = StoryClusterer()
    bridge = [
        ("Granite Bay closes Okafor Bridge after inspectors find cracks",
         "Okafor Bridge in Granite Bay is closed after inspectors found cracks in the deck."),
        ("Cracks shut Okafor Bridge in Granite Bay",
         "Inspectors found cracks in the deck of Okafor Bridge, and Granite Bay closed it to traffic."),
        ("Okafor Bridge closed: Granite Bay detours traffic after cracks found",
         "Traffic is detoured while Okafor Bridge stays closed, Granite Bay engineers said of the cracks."),
    ]
    decisions = add_all(clusterer, bridge)
    b = clusterer.add("b", 10, "Okafor Bridge cracks: closure and repairs strain Granite Bay council budget",
                      "Okafor Bridge stays closed after inspectors found cracks in the deck; repairs will "
                      "strain the Granite Bay council budget.",
                      T0 + timedelta(hours=4))
    c = clusterer.add("c", 11, "Granite Bay council budget adds arena funding",
                      "The Granite Bay council budget adds money for the Lindqvist Arena roof and library hours.",
                      T0 + timedelta(hours=5))
    assert {d.key for d in decisions} == {b.key}  # A~B
    assert b.size == 4
    assert c.created and c.key != b.key  # B~C by title, yet C stays out


def test_stories_past_the_window_are_forgotten():
    clusterer = StoryClusterer(window=timedelta(hours=72))
    first = clusterer.add(1, 1, *FERRY[0], T0)
    late = clusterer.add(2, 2, *FERRY[1], T0 + timedelta(hours=80))
    assert late.created and late.key != first.key
    assert clusterer.active_stories == 1  # the first one was dropped from memory
    clusterer.forget_before(T0 + timedelta(hours=200))
    assert clusterer.active_stories == 0


def test_merge_off_keeps_an_article_in_its_own_story():
    clusterer = StoryClusterer()
    first = clusterer.add(1, 1, *FERRY[0], T0)
    alone = clusterer.add(2, 2, *FERRY[1], T0 + timedelta(hours=1), merge=False)
    third = clusterer.add(3, 3, *FERRY[2], T0 + timedelta(hours=2))
    assert alone.created and alone.key != first.key
    assert third.key == first.key  # nothing joins the unmerged one


def test_a_copy_joins_its_canonicals_story_and_into_forces_a_key():
    clusterer = StoryClusterer()
    first = clusterer.add(1, 1, *FERRY[0], T0)
    copy = clusterer.add(2, 2, "Completely different headline", "Nothing alike.", T0, same_as=1)
    assert copy.key == first.key
    forced = clusterer.add(3, 3, *LIBRARY, T0, into=77)
    assert forced.key == 77 and forced.created
    again = clusterer.add(4, 4, *LIBRARY, T0, into=77)
    assert again.key == 77 and not again.created


def test_rename_keeps_the_story():
    clusterer = StoryClusterer()
    first = clusterer.add(1, 1, *FERRY[0], T0)
    clusterer.rename(first.key, 5)
    assert clusterer.add(2, 2, *FERRY[1], T0 + timedelta(hours=1)).key == 5


def test_deterministic():
    corpus = build_corpus(events=60, seed=3)

    def run():
        clusterer = StoryClusterer()
        return [clusterer.add(a.id, a.source_id, a.title, a.text, a.published_at).key for a in corpus.articles]

    assert run() == run()


def test_the_merge_score_weighs_the_names_two_stories_share_and_the_time_between_them():
    # two stories of one event (their texts name the same town and island), one of the same kind
    # from another town (its words alike, its names not), and the event's second report days later
    clusterer = StoryClusterer(window=timedelta(days=10))
    other_town = ("Harbour commission delays Lake Ossin ferry timetable vote",
                  "The Lake Ossin harbour commission put off its vote on the Brannock Point ferry timetable until spring.")
    for key, (title, lead), at in (("a", FERRY[0], T0), ("b", FERRY[1], T0 + timedelta(hours=2)),
                                   ("c", other_town, T0 + timedelta(hours=2)),
                                   ("d", FERRY[2], T0 + timedelta(days=5))):
        clusterer.add(key, key, title, lead, at, into=key)
    story = clusterer._by_key
    same, other, later = (clusterer.pair_features(story["a"], story[key]) for key in "bcd")
    # every name shared; the share is under 1 as it counts two unheard-of names more (NAMES_PRIOR)
    assert same.named == other.named == 1.0 and same.names > 0.3 and other.names == 0.0
    assert other.cosine > 0.3  # the words alone would not tell them apart
    assert round(later.days, 2) == 5.0 and same.days < 0.1
    merge = story_score.merge_probability
    assert merge(same) >= story_score.MERGE_PROBABILITY > max(merge(other), merge(later))
    # names in both texts, none shared: vetoed whatever the score (weekly meetings of one council)
    assert story_score.plausible_merge(same) and not story_score.plausible_merge(other)
    assert clusterer._same_story(story["a"], story["b"]) and not clusterer._same_story(story["a"], story["c"])


def test_features():
    assert named_entities("Council in Maple Harbour voted. Maple Harbour library, said Tom Nook.") == \
        {"maple harbour", "tom nook"}
    assert named_entities("Maple Harbour Council Approves New Route", is_title=True) == set()
    # named in full once, by surname after: both forms meet
    assert with_surnames(named_entities("Coach Ines Quesnel resigned. Later, Quesnel said so.")) == \
        {"coach ines quesnel", "quesnel"}
    assert significant_words("The councils delayed the votes") == ["council", "delay", "vot"]


def test_when_in_reads_days_months_and_years():
    text = ("On Wednesday, March 3, 2009 the crowd will march to the Sun offices. Theresa May spoke "
            "in Sept. 1999 and on 12 December; the 2,009 seats, the 1850s and Sat 5 are no dates.")
    assert when_in(text.split()) == {"wed", "mar", "2009", "sep", "1999", "dec"}
    assert when_in("may march sunday 209".split()) == frozenset()  # lower-case words and verbs


QUAKE = [
    ("Quake shakes Tarrow coast", "A magnitude 6.1 earthquake shook the Tarrow coast on Wednesday, "
     "damaging homes in Elsby and cutting power to the port, officials said."),
    ("Homes damaged as earthquake hits Tarrow coast", "Homes in Elsby were damaged when an earthquake of "
     "magnitude 6.1 struck the Tarrow coast on Wednesday and cut power to the port."),
]


def test_the_days_a_report_names_are_weighed():
    # two earthquakes on one coast read alike but for their day: a report naming the story's day
    # is likelier to be one with it than the same report naming another day
    clusterer = StoryClusterer()
    decisions = add_all(clusterer, QUAKE)
    assert decisions[1].key == decisions[0].key
    story = clusterer._by_key[decisions[0].key]
    at = T0 + timedelta(hours=3)

    def report(day: str) -> story_score.Features:
        member = clusterer._member(day, "Earthquake damages Tarrow coast homes", "An earthquake of magnitude "
                                   f"6.1 damaged homes in Elsby on the Tarrow coast on {day}, officials said.",
                                   at, copy=False)
        return clusterer.features(member, story, 3.0)

    same, other, undated = report("Wednesday"), report("Sunday"), report("the coast")
    assert same.dated == other.dated == 1.0 and undated.dated == 0.0
    assert same.when > 0.3 and other.when == 0.0
    assert story_score.probability(same) > story_score.probability(other)


def test_memory_stays_flat_over_a_long_run():
    corpus = build_corpus(events=300, per_day=10, seed=5)
    clusterer = StoryClusterer()
    peak = 0
    for a in corpus.articles:
        clusterer.add(a.id, a.source_id, a.title, a.text, a.published_at)
        peak = max(peak, clusterer.active_stories)
    assert peak < len(corpus.articles) / 4  # one window's stories, not the whole month's


def test_merge_checks_remembered_centroid_products_equal_fresh_ones(monkeypatch):
    # The merge checks take a pair's centroid product from the last one and the members that
    # joined since (``_centroid_product``); it must be the product taken afresh, through joins,
    # merges (absorbed stories void it) and long stories (only the latest members are kept),
    # the arriving article's part taken from its scoring.
    from newswire.enrich import stories
    from newswire.enrich.stories import _dot

    monkeypatch.setattr(stories, "PRODUCTS_KEPT", 64)  # a bounded memory of them, reached here
    corpus = build_corpus(events=120, seed=3)
    clusterer = StoryClusterer()
    remembered = clusterer._centroid_product
    checks = {"calls": 0, "reused": 0, "scored": 0}

    def checked(a, b, arriving=None):
        key = (min(a.number, b.number), max(a.number, b.number))
        checks["reused"] += key in clusterer._products
        checks["calls"] += 1
        # the arriving article's product with the other story, taken when it was scored
        checks["scored"] += arriving is not None and any(n in arriving.dots for n in key)
        product = remembered(a, b, arriving)
        assert abs(product - _dot(centroid(a), centroid(b))) < 1e-9
        return product

    def centroid(story):  # a one-member story keeps its centroid only as its member's vector
        return story.centroid or dict(zip(story.members[0].terms, story.members[0].weights))

    clusterer._centroid_product = checked
    merges = 0
    for a in corpus.articles:
        merges += bool(clusterer.add(a.id, a.source_id, a.title, a.text, a.published_at).merged)
    assert checks["reused"] > checks["calls"] / 2 and checks["scored"] > 0 and merges > 0
    assert clusterer.memory_counts()["products"] == 64


def test_a_lead_prepared_beforehand_gives_the_same_decisions():
    # The parse workers make each article's LeadText (its units, their boilerplate keys and
    # words); the clusterer given it decides as it would from the text.
    from newswire.enrich.stories import lead_of
    from newswire.enrich.story_text import LeadText

    corpus = build_corpus(events=80, seed=4)
    from_text, from_prepared = StoryClusterer(), StoryClusterer()
    for a in corpus.articles:
        lead = lead_of(a.text + f"\n\nRead more from outlet {a.source_id}. Subscribe today.")  # a footer to learn
        one = from_text.add(a.id, a.source_id, a.title, lead, a.published_at)
        other = from_prepared.add(a.id, a.source_id, a.title, "", a.published_at, prepared=LeadText.of(lead))
        assert one == other
    assert from_text.memory_counts() == from_prepared.memory_counts()


def test_a_prepared_lead_names_what_the_clusterer_would_find_in_what_it_keeps():
    # The parse workers find the names of the whole lead; the clusterer takes them only when
    # the source's boilerplate keeps every line, and else finds them in the lines it keeps.
    from newswire.enrich.story_text import LeadText, names_in

    class Keeps:  # the source's boilerplate, as learned: which of the lead's lines stay
        def __init__(self, keep):
            self.keep = keep

        def learn_and_keep_keys(self, source_id, doc_id, keys):
            return self.keep

    lead = ("Mayor Ines Rasmussen of Lake Ossin opened the bridge on Tuesday.\nCrews from Dunmore Works cheered."
            "\nRead The Ossin Courier, 2026.")
    prepared = LeadText.of(lead)
    text, _, names, when = prepared.kept(Keeps([True, True, True]), 1, 1)
    assert names == names_in(text.split()) and {"mayor ines rasmussen", "ossin courier"} <= names
    assert when == when_in(text.split()) == {"tue", "2026"}
    text, _, names, when = prepared.kept(Keeps([True, True, False]), 1, 2)
    assert names is None and when is None and "ossin courier" not in names_in(text.split())


@pytest.mark.parametrize("lead_chars", [2000, 0])  # full texts; headlines only (the cosine then counts for more)
def test_the_nearest_member_is_looked_for_only_where_the_article_could_join(monkeypatch, lead_chars):
    # the same stories whether every candidate's nearest member is looked for (as the fit
    # observes them) or only where the score could reach the join probability and beat the
    # most probable candidate found so far; far fewer looks
    looks = [0]
    with_nearest = StoryClusterer._with_nearest

    def counted(self, member, story, features):
        looks[0] += 1
        return with_nearest(self, member, story, features)

    monkeypatch.setattr(StoryClusterer, "_with_nearest", counted)
    corpus = build_corpus(events=60, seed=4)

    def cluster(observe: bool) -> tuple[list, int]:
        looks[0] = 0
        clusterer = StoryClusterer()
        if observe:
            clusterer.observe = lambda features, story: None
        keys = [clusterer.add(a.id, a.source_id, a.title, a.text[:lead_chars], a.published_at).key for a in corpus.articles]
        return keys, looks[0]

    every, every_looks = cluster(observe=True)
    needed, needed_looks = cluster(observe=False)
    assert needed == every
    assert 0 < needed_looks < every_looks * 0.8


def test_the_weights_cover_every_feature():
    # a feature added to a row without a refit would be dropped silently by the weighted sum
    assert len(story_score.WEIGHTS.coefficients) == len(story_score.Features(*[0.5] * 8).row())
    assert len(story_score.MERGE_WEIGHTS.coefficients) == len(story_score.PairFeatures(*[0.5] * 4).row())


@pytest.mark.parametrize("cosine", [0.0, 0.03, 0.06])
def test_headline_stories_with_almost_nothing_in_common_do_not_merge(cosine):
    # seen with a fit on half the gold stories: a one-headline story merged into a 340-headline
    # one on a centroid cosine of 0.06 (p 0.71), again and again. The score without log cosines
    # gave such a pair 0.54 with the weights fitted on all, a refit away from the bar; with them,
    # 0.42, and less for bigger stories
    for log_size in (0.69, 1.1, 2.0):
        pair = story_score.PairFeatures(cosine, cosine * 1.1, 2.2, log_size, days=0.07)
        assert story_score.merge_probability(pair) < story_score.MERGE_PROBABILITY - 0.1


def test_headline_stories_alike_do_merge():
    pair = story_score.PairFeatures(0.45, 0.5, 2.2, 0.69, days=0.05)
    assert story_score.merge_probability(pair) >= story_score.MERGE_PROBABILITY
