"""Story clustering: group the coverage of one event, online, in a single pass.

Online clustering in the style of Miranda et al. (EMNLP 2018): each arriving article is scored
against the *active* stories (updated within ``window``) that share a title word or a named
entity with it, found through an inverted index, so one article costs a look at a few candidate
stories, never a pass over all of them:

    article ─► its source's boilerplate lines out (footers name the paper and its town)
            ─► terms (title ×2 + lead, stopwords out, light stemming, named entities ×3)
            ─► TF-IDF vector (document frequencies over the window; a word in every article
               weighs nothing) and a headline-only vector
            ─► candidates: inverted index title word/entity → active stories
            ─► vetoes (``story_score.plausible``), then P(same story) from the cosine with the
               centroid, the headline cosine, the best cosine with one member, the names the
               story shares, the days, months and years they both name, the article's length,
               the story's size and cohesion, and the time gap (``story_score.probability``)
            ─► join the most probable story with P ≥ JOIN_PROBABILITY (0.65), else start a new story
            ─► late recognition: the story the article joined is checked against the other
               candidates as a whole (``story_score.merge_probability`` over the two
               centroids, the names they share and the time between them); stories found
               to be one merge into the oldest, and the decision
               names the merged keys so their links can redirect

Why calibrated scores rather than one cosine threshold and a lexical check: the old check
demanded shared capitalised names, which Title Case headlines never give, so headline-only
feeds never clustered; and a cosine means different things for a six-word headline and a long
text. The scores weigh cosine against length, so one configuration serves both.

A place name alone is not evidence. It is one term of many in the vector; an article under a
fifth of the cosine the story's own members have with it is not plausible (that is how A~B,
B~C would pull C into A's story); where both the article's text and the story's texts name
people and places (capitals in running text are reliable, in headlines not), the share of the
article's names (IDF-weighted: a town's name is in many articles, an event's people in few)
the story has is weighed in its score, counting two unshared names more (``NAMES_PRIOR``), so
that a lone town's name is a weak share and five names shared a strong one. A drifted centroid
resembles many articles; a concrete member should resemble this one, so the score also weighs
the article's best cosine with one of the story's members (``NEAREST_MEMBERS``). An earlier
hard rule (two shared rare names with one member) kept apart the generated corpus's stories
from one town, but split real events whose articles name different people: ECB+ recall 0.73,
against 0.88 with the evidence weighed in the score (``bench/stories.py --real``).

Titles stay stable: a story keeps the headline it was given until it has doubled in size (and
has at least four articles), then takes its most central headline, never a syndicated copy's,
whose first line may be a byline.

Document frequencies are counted incrementally over the articles still in the window, so
memory stays flat: ``forget_before`` (called by ``add`` as time moves on) drops old stories,
their index entries and their document frequencies. What an article leaving the window said
with emphasis (a headline word, a name: its mentions beyond the first) stays in a background
that halves every ``BACKGROUND_HALF_LIFE``: a name in the news for weeks tells stories apart
less than one new this week. Everything is deterministic: same input order, same stories.

Memory is one window of articles, kept small: a member is kept as what is read again after it
joins (its id, headline, whether it is a copy, and its vector as its terms' numbers, shared
with the document frequencies' record of the article (``_Kept``), beside an array of float64
weights: the same terms and weights, in the same order, as the dict it was made from,
so a cosine sums the same products; see ``_dot_kept`` for the sums taken in another order);
its headline vector, names and index keys go into the story's sums and are let go. A story
keeps only its first and latest ``KEPT_MEMBERS`` members (the only ones ``NEAREST_MEMBERS`` and
``CENTRAL_MEMBERS`` read) and the ids of the rest, so a story that runs for weeks holds a few
dozen vectors, not thousands.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Hashable, Iterable, NamedTuple

from newswire.enrich import story_score
from newswire.enrich.story_text import lead_of as _lead_of
from newswire.enrich.dedupe import Boilerplate
from newswire.enrich.story_text import (LEAD_WORDS, LeadText, named_entities, names_in, significant_words,
                                        when_in, with_surnames)

TITLE_WEIGHT = 2.0  # a title word counts twice in the vector: headlines name the event
PRIOR_DOCS = 100  # idf = log((N + 100) / (df + 0.5)): a word in every article weighs ~0, and
# a young window (a first run, a test) does not make every word look common
# The names share counts two unheard-of names more, unshared: a share is evidence in proportion to
# the names behind it. An article that names only its town had a share of 1.0 with every story
# from that town; now it has about 0.2, and an article sharing five of its five rare names 0.7.
# With it, the join veto on names (no rare name shared, no join) could go: cross-validated ECB+
# precision 0.976 / 0.929 -> 0.964 / 0.937, F1 0.887 / 0.900 -> 0.874 / 0.930; headlines F1
# 0.940 / 0.934 -> 0.927 / 0.950 (bench/story_eval.py --cv). A prior of one name gave 0.963 /
# 0.940 and 0.881 / 0.927, but a report naming only its town joined another story from it.
NAMES_PRIOR = 2.0
NEAREST_BOUND = 1.0 + 1e-9  # a cosine of unit vectors, up to its rounding
BOUND_MARGIN = 1e-12  # a probability at best, up to its rounding (``_best_story``)
# The days, months and years a text names (``story_text.when_in``) are weighed as the names are:
# the share the story names too, counting one unshared more, so that a lone "Tuesday" is weak
# evidence. Two events of one kind (two quakes, two of one team's players injured) share their
# words and often their names, but rarely their day: ECB+ through the product 0.925 / 0.879 /
# 0.901 -> 0.945 / 0.921 / 0.933 (P / R / F1), cross-validated F1 0.874 / 0.930 -> 0.891 / 0.929;
# headlines (no text, no dates) 0.960 / 0.856 / 0.904 -> 0.952 / 0.840 / 0.893 from the refit.
WHEN_PRIOR = 1.0
COMMON_ENTITY = 0.05  # a capitalised word in over 5 % of the window's articles is no name
# The background's half-life. Measured against dropping it (what an article took back when it
# left the window once took back too little, and kept it forever, a leak): ECB+ cross-validated
# precision 0.955 / 0.919 without it, 0.976 / 0.929 with it (bench/story_eval.py --cv).
BACKGROUND_HALF_LIFE = timedelta(days=14)
BACKGROUND_MIN = 0.5  # a term whose background decays below half a mention is forgotten
# Stories scored per article, the ones sharing the most index keys. 20 scored more and decided
# alike: refit and cross-validated on the halves (fit on one, scored on the other), headlines in
# 8 arrival orders P 0.950 / 0.984 (20: 0.947 / 0.984), ECB+ in 2 orders mean P 0.954 and F1
# 0.913 (20: 0.955 / 0.909); copies and stories take 14.5 % fewer instructions on the ingest
# corpus (callgrind, 3,000 articles: 18.16 -> 15.52 G).
MAX_CANDIDATES = 8
MERGE_CHECKS = 5  # stories checked for a merge after an article joins one: those sharing most keys
ENTITY_WEIGHT = 3.0  # a name counts as three mentions: the people and places tell events of one kind apart
MAX_POSTINGS = 150  # a key shared by more active stories than this says nothing: skip it
NEAREST_MEMBERS = 16  # the nearest member is looked for among a story's first and latest members
CENTRAL_MEMBERS = 60  # the central headline is chosen among the first and latest members
RETITLE_GROWTH = 2  # a story's title is chosen again when the story has doubled since ...
RETITLE_MIN = 4  # ... and has at least this many articles: a second report does not retitle
KEPT_MEMBERS = max(NEAREST_MEMBERS, CENTRAL_MEMBERS) // 2  # a big story keeps its first and latest this many
PRODUCTS_KEPT = 4096  # centroid products remembered for the merge checks (pairs recently checked)
CENTROIDS_HELD = 512  # centroids held as dicts for stories whose members can sum them again (see _Story)


@dataclass(frozen=True, slots=True)
class StoryDecision:
    """Where an article went: the story's key, whether the article started it, the story's
    title now with the doc id it comes from, and the stories merged into this one by this
    article (their keys: the caller redirects them to ``key``)."""

    key: Hashable
    created: bool
    title: str
    title_doc: Hashable
    size: int
    merged: tuple[Hashable, ...] = ()


class _Weighed(NamedTuple):
    """Names as ``_shared_names`` weighs them (``StoryClusterer._weigh_names``)."""

    names: list[tuple[str, float]]  # (name, weight), in the order given
    total: float


@dataclass(slots=True)
class _Member:
    """An arriving article, as it is scored; what a story keeps of it is a ``_Kept``."""

    doc_id: Hashable
    title: str
    vector: dict[str, float]
    title_vector: dict[str, float]
    entities: frozenset[str]
    text_entities: frozenset[str]  # the names in the text: capitals there are reliable, in headlines not
    when: frozenset[str]  # the days, months and years its text and headline name
    keys: frozenset[str]
    terms: int
    copy: bool
    seen: _Seen  # its terms' numbers and counts, as the document frequencies took them
    by_number: dict[int, float] | None = None  # ``vector`` by term number, once read (``_dot_member``)
    # its products with candidate stories' centroids, by story number, where summed in its own
    # order: what a merge check that follows its joining would take again (``_centroid_product``)
    dots: dict[int, float] = field(default_factory=dict)


class _Seen:
    """An article in the document frequencies' window: its terms' numbers (in its vector's
    order) and the counts it added, for ``forget_before`` to take back, and the ``_Kept`` a
    story made of it, which reads its terms through the same numbers until they leave."""

    __slots__ = ("at", "numbers", "counts", "kept")

    def __init__(self, at: datetime, numbers: array, counts: array) -> None:
        self.at = at
        self.numbers = numbers
        self.counts = counts
        self.kept: _Kept | None = None


_NO_WEIGHTS = array("d")


@dataclass(slots=True)
class _Kept:
    """What a story keeps of a member: what its nearest-member and title choices read again.

    Its terms are the numbers its article's ``_Seen`` holds (2 or 4 bytes a term, shared: a
    tuple of the strings cost 8 a term more) read through the clusterer's number → term list,
    while the article is in the document frequencies' window; a number is only given to
    another term after every article with it has left that window, so when this one leaves
    (``forget_before``), a member still kept takes its terms as a tuple of the strings
    (``fix``): a story running longer than the window, a few dozen members at most."""

    doc_id: Hashable
    title: str
    numbers: array | None  # the vector's terms by number, in the order the vector was made in
    names: list[str] | tuple[str, ...]  # number → term (the clusterer's); once fixed, the terms
    weights: array  # their weights (float64: the dict's very values)
    copy: bool

    @property
    def terms(self) -> Iterable[str]:
        """The vector's terms, in its order: the clusterer's one string per term."""
        numbers = self.numbers
        return self.names if numbers is None else map(self.names.__getitem__, numbers)

    def fix(self) -> None:
        """Hold the terms themselves: their numbers may be given to other terms from now on."""
        if self.numbers is not None:
            self.names = tuple(self.terms)
            self.numbers = None

    def release(self) -> None:
        """Let the vector go: the story no longer keeps this member (its title may still be
        this member's, and reads only ``title`` and ``doc_id``)."""
        self.numbers, self.names, self.weights = None, (), _NO_WEIGHTS


@dataclass(slots=True)
class _Story:
    """A story's state. Its centroid (the sum of its members' vectors, a dict of thousands of
    terms and their floats for a story of a few long texts) is held only while recently read,
    for the ``CENTROIDS_HELD`` stories of its clusterer last read (``_Centroids``), where the
    story can sum it again: while it keeps every member it had, in the order they joined, and
    absorbed none. Summed again by the same additions in the same order, it is the same dict
    (its values and its order), so the same decisions follow (``bench/memory.py --check``); a
    story that cannot (it dropped members or absorbed a story) holds its centroid for good.
    Most stories are read by the few articles that arrive while they are in the news; a dict
    for every story with two members or more was a fifth of the state (``bench/memory.py``)."""

    number: int
    key: Hashable
    mergeable: bool
    last_at: datetime
    members: list[_Kept] = field(default_factory=list)  # all, or the first and latest KEPT_MEMBERS
    size: int = 0  # members joined, kept or not
    doc_ids: list[Hashable] = field(default_factory=list)  # every member's, for forgetting them
    held: dict[str, float] = field(default_factory=dict)  # the centroid while held, else {} (``centroid``)
    held_by: _Centroids | None = None  # the clusterer's recently read centroids
    norm_sq: float = 0.0  # |centroid|², kept up to date as members join
    title_centroid: dict[str, float] = field(default_factory=dict)
    title_norm_sq: float = 0.0
    entity_counts: Counter = field(default_factory=Counter)
    texts: int = 0  # members with names in their text
    when_counts: Counter = field(default_factory=Counter)
    dated: int = 0  # members with days, months or years in their text
    log_terms: float = 0.0  # the sum of members' log(1 + distinct terms)
    seconds: float = 0.0  # the sum of members' publication times (POSIX seconds): their mean
    index_keys: tuple[str, ...] = ()  # the keys it is indexed under (a set of a dozen cost 700 bytes, this 160)
    title: _Kept | None = None
    titled_at_size: int = 0
    absorbed: int = 0  # stories absorbed so far: a remembered centroid product of an earlier count is void

    @property
    def centroid(self) -> dict[str, float]:
        """The sum of the members' vectors; {} for a one-member story (``_centroid_of``)."""
        return self.held if self.size == 1 and not self.held else _centroid_of(self)

    def resummable(self) -> bool:
        """Whether the centroid can be summed again from the members kept (see above)."""
        return not self.absorbed and self.size == len(self.members)


class _Centroids:
    """The stories whose centroids were read last; the least recently read of them let theirs go."""

    __slots__ = ("limit", "_stories")

    def __init__(self, limit: int = CENTROIDS_HELD) -> None:
        self.limit = limit
        self._stories: OrderedDict[int, _Story] = OrderedDict()

    def __len__(self) -> int:
        return len(self._stories)

    def read(self, story: _Story) -> None:
        stories = self._stories
        if stories.get(id(story)) is story:
            stories.move_to_end(id(story))
            return
        stories[id(story)] = story
        while len(stories) > self.limit:
            _, oldest = stories.popitem(last=False)
            if oldest.resummable():
                oldest.held = {}


def _add_into(target: dict[str, float], vector: dict[str, float]) -> float:
    """Add ``vector`` into ``target``; returns the change of |target|²."""
    return _add_items(target, vector.items())


def _add_items(target: dict[str, float], items: Iterable[tuple[str, float]]) -> float:
    """``_add_into`` for a vector given as its (term, weight) pairs, in its order: a term new to
    ``target`` is held by the string object ``items`` names."""
    change = 0.0
    for term, weight in items:
        before = target.get(term, 0.0)
        target[term] = before + weight
        change += weight * (2 * before + weight)
    return change


def _squares(vector: dict[str, float]) -> float:
    """What ``_add_into`` returns for an empty target, summed the same way (0.0 + w is w)."""
    change = 0.0
    for weight in vector.values():
        change += weight * weight
    return change


def _dot(small: dict[str, float], big: dict[str, float]) -> float:
    if len(small) > len(big):
        small, big = big, small
    return sum([w * big[t] for t, w in small.items() if t in big])  # the same sum, in the same order, faster


def _dot_kept(vector: dict[str, float], kept: _Kept) -> float:
    """``_dot(vector, kept's vector)``: the same products, summed in the kept member's order
    (where ``_dot`` would follow the shorter vector's): a dict of the kept member's weights
    would cost more than the sum. The order can move the sum by a few ulps, far closer than
    any decision is taken (``bench/memory.py --check``: the same decisions as before)."""
    return sum([w * vector[t] for t, w in zip(kept.terms, kept.weights) if t in vector])


def _dot_member(member: _Member, kept: _Kept) -> float:
    """``_dot_kept(member.vector, kept)``, the kept member's terms read by number while it has
    them (as the arriving member's are), not through the list of terms: an article is compared
    with some twenty kept members (the nearest member of each candidate story, one-member
    stories' cosines), and the lookups by string were a fifth of story clustering's time. The
    same products in the same order (a number names one term while both articles are in the
    window), so the same sum."""
    numbers = kept.numbers
    if numbers is None:
        return _dot_kept(member.vector, kept)
    by_number = member.by_number
    if by_number is None:
        by_number = member.by_number = dict(zip(member.seen.numbers, member.vector.values()))
    return sum([w * by_number[n] for n, w in zip(numbers, kept.weights) if n in by_number])


def _kept_dot(kept: _Kept, vector: dict[str, float]) -> float:
    """``_dot(kept's vector, vector)``: the same products summed in the same order."""
    if len(kept.weights) > len(vector):
        big = dict(zip(kept.terms, kept.weights))
        return sum([w * big[t] for t, w in vector.items() if t in big])
    return sum([w * vector[t] for t, w in zip(kept.terms, kept.weights) if t in vector])


class StoryClusterer:
    """Online story clustering over a sliding window. See the module docstring."""

    def __init__(self, *, window: timedelta = timedelta(hours=72),
                 join_probability: float = story_score.JOIN_PROBABILITY,
                 merge_probability: float = story_score.MERGE_PROBABILITY,
                 weights: story_score.Weights = story_score.WEIGHTS,
                 merge_weights: story_score.Weights = story_score.MERGE_WEIGHTS):
        self.window = window
        self.join_probability = join_probability
        self.merge_probability = merge_probability
        self.weights = weights
        self.merge_weights = merge_weights
        # Term frequencies: a term has a number while an article in the window has it; its
        # frequency is kept by number (an array of float64: the very sums a Counter of the terms
        # would hold), and each article in the window is remembered as the numbers of its terms
        # and the counts it added (2 or 4 bytes and 1 byte a term, where a tuple of the strings
        # cost 8 and more), to be taken back by (``_Seen``).
        self._term_numbers: dict[str, int] = {}
        self._terms: list[str] = []  # number → term ("" while the number is free)
        self._df = array("d")  # number → the term's document frequency
        self._free_numbers: list[int] = []
        self._background: dict[str, float] = {}  # term → its decayed mentions beyond the first
        self._background_at: datetime | None = None  # when it was last decayed
        self._docs = 0
        self._seen: deque[_Seen] = deque()  # each article's term numbers and counts, for forgetting df
        self._stories: OrderedDict[int, _Story] = OrderedDict()  # least recently updated first
        self._by_key: dict[Hashable, _Story] = {}
        self._doc_story: dict[Hashable, _Story] = {}
        # key → the numbers of the stories indexed under it, each once, as 32-bit values: a set
        # of them cost about 50 bytes a story and a set of one 216, some 40 MB a 72-hour window
        # of 100,000 articles a week (``bench/memory.py``); a story leaving takes its number out
        # of a dozen arrays, the arrays of common keys a few thousand long
        self._index: dict[str, array] = {}
        self._numbers = 0
        self._latest: datetime | None = None
        # (story number, story number) → their centroids' product and each one's size and
        # ``absorbed`` when it was taken: see ``_centroid_product``
        self._products: OrderedDict[tuple[int, int], tuple[float, int, int, int, int]] = OrderedDict()
        self._centroids = _Centroids()  # the stories whose centroids were read last (see ``_Story``)
        self._boilerplate = Boilerplate()
        self.observe = None  # a training hook: called with (features, story) for each candidate
        self.observe_pair = None  # and with (pair features, story, story) for each merge check

    # the one entry point

    def add(self, doc_id: Hashable, source_id: Hashable, title: str, lead_text: str,
            published_at: datetime, merge: bool = True, *, same_as: Hashable | None = None,
            into: Hashable | None = None, prepared: LeadText | None = None) -> StoryDecision:
        """Place one article. ``merge=False`` (the source's switch is off) gives it a story of its
        own that nothing else joins. ``same_as`` (a syndicated copy's canonical doc id) joins the
        canonical's story when it is still active. ``into`` forces the story key (a rebuild from
        stored assignments), creating the story under that key if needed. ``prepared``: the
        lead made beforehand, ``LeadText.of(lead_text)`` (in the parse workers); it stands for
        ``lead_text``, and the same decisions follow."""
        if self._latest is None or published_at > self._latest:
            self._latest = published_at
            self.forget_before(published_at - self.window)
        lead = prepared if prepared is not None else LeadText.of(lead_text, with_words=False) if lead_text else None
        text, words, names, when = (lead.kept(self._boilerplate, source_id, doc_id) if lead is not None
                                    else ("", [], None, None))
        member = self._member(doc_id, title, text, published_at, copy=same_as is not None,
                              words=words if prepared is not None else None, names=names, when=when)

        story: _Story | None = None
        merged: list[_Story] = []
        if into is not None:
            story = self._by_key.get(into)
        elif same_as is not None:
            story = self._doc_story.get(same_as)
        neighbours: list[_Story] = []
        if story is None and into is None and merge:
            story, neighbours = self._best_story(member, published_at)
        created = story is None
        if story is None:
            self._numbers += 1
            story = _Story(self._numbers, into if into is not None else ("new", self._numbers),
                           mergeable=merge, last_at=published_at)
            self._stories[story.number] = story
            self._by_key[story.key] = story
        self._join(story, member, published_at)
        if not created:
            merged = [other for other in neighbours if other is not story and self._same_story(story, other, member)]
        if merged:  # the oldest story keeps its key: links to it stay valid
            story, *merged = sorted([story, *merged], key=lambda s: s.number)
            for other in merged:
                self._absorb(story, other)
        self._retitle(story)
        assert story.title is not None
        return StoryDecision(story.key, created, story.title.title, story.title.doc_id, story.size,
                             tuple(other.key for other in merged))

    def rename(self, key: Hashable, new_key: Hashable) -> None:
        """Give a story the key its stored row has (after the service creates the row). A story
        already forgotten (a batch whose times span more than the window) has nothing to rename."""
        story = self._by_key.pop(key, None)
        if story is not None:
            story.key = new_key
            self._by_key[new_key] = story

    def title_of(self, key: Hashable) -> str:
        """The story's title now; "" for a story no longer in memory."""
        story = self._by_key.get(key)
        return story.title.title if story and story.title else ""

    def forget_before(self, moment: datetime) -> None:
        """Drop stories last updated before ``moment`` and the document frequencies of articles
        older than it: memory holds one window of articles, however long the run."""
        self._decay_background(moment)
        df, background = self._df, self._background
        while self._seen and self._seen[0].at < moment:
            seen = self._seen.popleft()
            if seen.kept is not None:
                seen.kept.fix()  # before its numbers can be given to other terms
            self._docs -= 1
            for number, count in zip(seen.numbers, seen.counts):
                term = self._terms[number]
                if count > 1:
                    background[term] = background.get(term, 0.0) + count - 1
                left = df[number] - count
                df[number] = left
                if not left:
                    del self._term_numbers[term]
                    self._terms[number] = ""
                    self._free_numbers.append(number)
        while self._stories:
            number, story = next(iter(self._stories.items()))
            if story.last_at >= moment:
                break
            self._drop(story)

    def _decay_background(self, moment: datetime) -> None:
        """Halve the background every ``BACKGROUND_HALF_LIFE`` (applied a quarter of a day at a
        time, so the pass over it stays rare), forgetting what falls under ``BACKGROUND_MIN``."""
        if self._background_at is None:
            self._background_at = moment
            return
        elapsed = moment - self._background_at
        if elapsed < timedelta(hours=6):  # and an earlier moment (a late article) decays nothing
            return
        factor = 0.5 ** (elapsed / BACKGROUND_HALF_LIFE)
        self._background = {term: value * factor for term, value in self._background.items()
                            if value * factor >= BACKGROUND_MIN}
        self._background_at = moment

    @property
    def active_stories(self) -> int:
        return len(self._stories)

    # features

    def _doc_frequency(self, term: str) -> float:
        number = self._term_numbers.get(term)
        return (0 if number is None else self._df[number]) + self._background.get(term, 0.0)

    def _idf(self, term: str) -> float:
        # Never below 0: with the background, a word in every headline for weeks can count more
        # mentions than the window has articles, and a negative weight would count it again
        # wherever two articles share it (a negative times a negative).
        return max(0.0, math.log((self._docs + PRIOR_DOCS) / (self._doc_frequency(term) + 0.5)))

    def _count_terms(self, terms: Counter) -> tuple[array, array]:
        """Add an article's terms (with their counts, as ``Counter.update`` adds them: a title
        word counts twice, a name three times) into the document frequencies; the numbers of its
        terms, in ``terms``' order, and those counts, for ``forget_before`` to take back: as
        16-bit numbers while there are at most 65,536, and counts as bytes when they are whole
        numbers under 256 (they are, with the weights above: a float of one is the int's value,
        so the sums taken back are the same)."""
        numbers: list[int] = []
        known = self._term_numbers
        df = self._df
        for term, count in terms.items():
            number = known.get(term)
            if number is None:
                if self._free_numbers:
                    number = self._free_numbers.pop()
                    self._terms[number] = term
                else:
                    number = len(self._terms)
                    self._terms.append(term)
                    df.append(0.0)
                known[term] = number
            df[number] += count
            numbers.append(number)
        counts = list(terms.values())
        whole = list(map(int, counts))
        return (array("H" if len(self._terms) <= 0x10000 else "I", numbers),
                array("B", whole) if whole == counts and max(whole, default=0) < 256 and min(whole, default=0) >= 0
                else array("f", counts))  # else whole numbers and halves: exact in 32 bits

    def _weighted(self, terms: Counter, numbers: Iterable[int] | None = None) -> dict[str, float]:
        """``numbers``: the terms' numbers in ``terms``' order (``_count_terms``), when known:
        each term's ``_idf`` is then taken without looking its number up (the same sums: those
        lookups were a tenth of story clustering in the profile)."""
        if numbers is None:
            vector = {term: (1.0 + math.log(count)) * self._idf(term) for term, count in terms.items()}
        else:
            top, df, background, log = self._docs + PRIOR_DOCS, self._df, self._background, math.log
            vector = {term: (1.0 + log(count)) * max(0.0, log(top / (df[number] + background.get(term, 0.0) + 0.5)))
                      for (term, count), number in zip(terms.items(), numbers)}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {term: v / norm for term, v in vector.items()}

    def _member(self, doc_id: Hashable, title: str, lead_text: str, at: datetime, *, copy: bool,
                words: list[str] | None = None, names: frozenset[str] | None = None,
                when: frozenset[str] | None = None) -> _Member:
        """``words``, ``names`` and ``when``: the lead's significant words, its names and its
        dates when they were found beforehand (``LeadText``)."""
        # the lead's words, split once for its names and its significant words: unless both came
        # made (the text is then not read: splitting it was a third of this method)
        lead = [] if names is not None and words is not None else lead_text.split()[:LEAD_WORDS]
        title_words = significant_words(title)
        # Surnames count as names of their own: ECB+ precision 0.946 -> 0.950 (fitted on one
        # half, checked on the other: 0.963 -> 0.976 and 0.917 -> 0.934), headlines F1 0.879 ->
        # 0.895 (bench/story_eval.py, before the document frequencies stopped leaking).
        text_entities = frozenset(with_surnames(names_in(lead) if names is None else names))
        when = (when_in(lead) if when is None else when) | when_in(title.split())
        entities = text_entities | with_surnames(named_entities(title, is_title=True))
        terms = Counter(significant_words(" ".join(lead)) if words is None else words)
        for word in title_words:
            terms[word] += TITLE_WEIGHT
        for entity in entities:
            terms["@" + entity] += ENTITY_WEIGHT
        self._docs += 1
        seen = _Seen(at, *self._count_terms(terms))
        self._seen.append(seen)
        # a name's key is the clusterer's one string of that term (counted just above): a story
        # holds its keys until it leaves (``index_keys``, the index's), and each article's names
        # are new strings, so a name in a thousand stories was held a thousand times
        term, number = self._terms, self._term_numbers
        keys = frozenset(title_words) | {term[number["@" + e]] for e in entities}
        vector = self._weighted(terms, seen.numbers)
        return _Member(doc_id, title, vector, self._weighted(Counter(title_words)), entities,
                       text_entities, when, keys, len(terms), copy, seen)

    def _candidates(self, keys: Iterable[str]) -> list[_Story]:
        hits: Counter[int] = Counter()
        for key in keys:
            postings = self._index.get(key, ())
            if len(postings) > MAX_POSTINGS:
                continue
            for number in postings:
                hits[number] += 1
        ranked = heapq.nsmallest(MAX_CANDIDATES, hits.items(), key=lambda item: (-item[1], item[0]))
        return [self._stories[number] for number, _ in ranked]

    def features(self, member: _Member, story: _Story, hours: float,
                 names_weighed: _Weighed | None = None) -> story_score.Features:
        """What the score weighs for ``member`` joining ``story`` (see ``story_score``), the
        nearest member included unless vetoed. ``names_weighed``: ``_weigh_names`` of the
        member's names, when taken already for the other candidates."""
        features = self._features(member, story, hours, names_weighed)
        if not story_score.plausible(features):  # vetoed: the members need not be looked at
            return features
        return self._with_nearest(member, story, features)

    def _features(self, member: _Member, story: _Story, hours: float,
                  names_weighed: _Weighed | None = None) -> story_score.Features:
        """``features`` but the nearest member (0.0 here)."""
        if story.size == 1:
            product = _dot_member(member, story.members[0])
        else:
            centroid = _centroid_of(story)
            product = _dot(member.vector, centroid)
            if len(member.vector) <= len(centroid):  # summed in the member's order
                member.dots[story.number] = product
        cosine = product / (math.sqrt(story.norm_sq) or 1.0)
        title_cosine = _dot(member.title_vector, story.title_centroid) / (math.sqrt(story.title_norm_sq) or 1.0)
        names = named = 0.0
        if member.text_entities and story.texts:  # names in texts, compared with names in texts
            if names_weighed is None:
                names_weighed = self._weigh_names((entity, 1.0) for entity in member.text_entities)
            names, named = self._shared_names(names_weighed, story)
        when = dated = 0.0
        if member.when and story.dated:  # a date counts fully where half the dated members name it
            dated = 1.0
            shared = sum(min(1.0, story.when_counts[w] / story.dated * 2) for w in member.when)
            when = shared / (len(member.when) + WHEN_PRIOR)
        return story_score.Features(cosine, title_cosine, names, named, math.log(1 + member.terms),
                                    math.log(1 + story.size), hours / 24,
                                    math.sqrt(story.norm_sq) / story.size, when=when, dated=dated)

    def _with_nearest(self, member: _Member, story: _Story, features: story_score.Features) -> story_score.Features:
        nearest = max(_dot_member(member, other) for other in _sample(story, NEAREST_MEMBERS))
        return replace(features, nearest=nearest)

    def _best_story(self, member: _Member, at: datetime) -> tuple[_Story | None, list[_Story]]:
        """The most probable story (None when none is probable enough), and the candidates
        sharing the most keys with the article: the stories it might show to be one with it.

        The nearest member is most of a candidate's cost, and four in five candidates are far
        off (most name people the story never named: once a veto, now weighed by the score), so
        it is looked for only where it could change the outcome. The score is monotonic in that
        cosine, which lies in [0, 1] (unit vectors, weights never below 0), so the probability
        at either end bounds it (``best_probability``): the nearest member is looked for in the
        candidates whose bound reaches the join threshold, highest bound first, and no further
        once the bound could not beat the most probable found (the same story is chosen: it is
        chosen by its probability, then by its number). What is observed (the fit) gets every
        feature of every candidate."""
        window_hours = self.window.total_seconds() / 3600
        scored: list[tuple[float, int, _Story]] = []
        joinable: list[tuple[float, int, _Story, story_score.Features]] = []  # (at best, -number, ...)
        neighbours: list[_Story] = []
        names_weighed = None  # the same for every candidate: taken at the first that has names in texts
        for story in self._candidates(member.keys):
            if not story.mergeable:
                continue
            hours = abs((at - story.last_at).total_seconds()) / 3600
            if hours > window_hours:
                continue
            if len(neighbours) < MERGE_CHECKS:
                neighbours.append(story)
            if names_weighed is None and member.text_entities and story.texts:
                names_weighed = self._weigh_names((entity, 1.0) for entity in member.text_entities)
            if self.observe is not None:
                features = self.features(member, story, hours, names_weighed)
                self.observe(features, story)
                if story_score.plausible(features):
                    scored.append((story_score.probability(features, self.weights), -story.number, story))
                continue
            features = self._features(member, story, hours, names_weighed)
            if story_score.plausible(features):
                at_best = story_score.best_probability(features, self.weights, NEAREST_BOUND)
                if at_best >= self.join_probability:
                    joinable.append((at_best, -story.number, story, features))
        joinable.sort(key=lambda candidate: candidate[:2], reverse=True)
        for at_best, order, story, features in joinable:
            if scored and at_best + BOUND_MARGIN < scored[0][0]:
                break  # and so would every candidate after it
            probability = story_score.probability(self._with_nearest(member, story, features), self.weights)
            if not scored or (probability, order) > scored[0][:2]:
                scored[:] = [(probability, order, story)]
        scored.sort(reverse=True)
        if scored and scored[0][0] >= self.join_probability:
            return scored[0][2], neighbours
        return None, neighbours

    def _weigh_names(self, names: Iterable[tuple[str, float]]) -> _Weighed:
        """Each of ``names`` (name, how much of its holder has it) that counts, with its weight
        (its IDF times that share), in their order, and the weights' sum; none that are as
        common as a town's name. What ``_shared_names`` compares with a story: the same for
        every candidate story an article is scored against, so taken once for them all."""
        common = max(COMMON_ENTITY * self._docs, 3)
        total = 0.0
        weighed: list[tuple[str, float]] = []
        for entity, share in names:
            if self._doc_frequency("@" + entity) > common and " " not in entity:
                continue
            weight = self._idf("@" + entity) * share
            total += weight
            weighed.append((entity, weight))
        return _Weighed(weighed, total)

    def _shared_names(self, names: _Weighed, story: _Story) -> tuple[float, float]:
        """The IDF-weighted share of the names weighed (``_weigh_names``) that ``story`` has too
        (a name in half of its members or more counts fully; ``NAMES_PRIOR`` unshared names more
        in the whole), and 1.0 when any of them is rare enough to count (0.0 when all are as
        common as a town's name)."""
        if not names.total:
            return 0.0, 0.0
        counts, size = story.entity_counts, story.size
        shared = 0.0
        for entity, weight in names.names:
            if entity in counts:
                shared += weight * min(1.0, counts[entity] / size * 2)
        unit = math.log((self._docs + PRIOR_DOCS) / 0.5)  # the weight of a name no article has had yet
        return shared / (names.total + NAMES_PRIOR * unit), 1.0

    def pair_features(self, a: _Story, b: _Story, arriving: _Member | None = None) -> story_score.PairFeatures:
        """What the merge score weighs for stories ``a`` and ``b`` (see ``story_score``): the
        names are the smaller story's, looked for in the larger. ``arriving``: the article that
        has just joined one of them (``_centroid_product``)."""
        cosine = self._centroid_product(a, b, arriving) / ((math.sqrt(a.norm_sq) or 1.0) * (math.sqrt(b.norm_sq) or 1.0))
        title_cosine = _dot(a.title_centroid, b.title_centroid) / (
            (math.sqrt(a.title_norm_sq) or 1.0) * (math.sqrt(b.title_norm_sq) or 1.0))
        terms = (a.log_terms / a.size + b.log_terms / b.size) / 2
        small, big = sorted((a, b), key=lambda story: story.size)
        names = named = 0.0
        if small.texts and big.texts:
            names, named = self._shared_names(self._weigh_names(
                (entity, min(1.0, count / small.size * 2)) for entity, count in small.entity_counts.items()), big)
        days = abs(a.seconds / a.size - b.seconds / b.size) / 86400
        return story_score.PairFeatures(cosine, title_cosine, terms, math.log(1 + small.size),
                                        names, named, days)

    def _centroid_product(self, a: _Story, b: _Story, arriving: _Member | None = None) -> float:
        """``_dot(a.centroid, b.centroid)``, from the product last taken for the pair and the
        members that joined either story since. The merge checks ask about the same few pairs
        article after article, and a centroid has thousands of terms where a member has a few
        hundred: the full product was a third of story clustering's time (py-spy on
        ``bench/memory.py``). With A = A0 + dA and B = B0 + dB,
        A·B = A0·B0 + dA·B + A·dB − dA·dB. Taken afresh when a story absorbed another since,
        or more members joined than the story keeps as its latest. The article ``arriving`` was
        scored against the other story's centroid just before (``_features``): that product is
        taken from it, the same sum (its terms in its order, the centroid unchanged since)."""

        def added(m: _Kept, other: _Story) -> float:
            if arriving is not None and m is arriving.seen.kept:
                known = arriving.dots.get(other.number)
                if known is not None:
                    return known
            return _dot_kept(other.centroid, m)

        if a.size == 1 or b.size == 1:  # a one-member story's product is as cheap as a member's
            one, other = (a, b) if a.size == 1 else (b, a)
            return _dot_centroid(other.centroid or dict(zip(other.members[0].terms, other.members[0].weights)), one)
        if a.number > b.number:
            a, b = b, a
        key = (a.number, b.number)
        known = self._products.get(key)
        product = None
        if known is not None:
            before, size_a, size_b, absorbed_a, absorbed_b = known
            new_a, new_b = a.size - size_a, b.size - size_b
            if (absorbed_a, absorbed_b) == (a.absorbed, b.absorbed) and new_a <= KEPT_MEMBERS and new_b <= KEPT_MEMBERS:
                added_a = a.members[len(a.members) - new_a:] if new_a else []
                added_b = b.members[len(b.members) - new_b:] if new_b else []
                product = before + sum(added(m, b) for m in added_a) + sum(added(m, a) for m in added_b)
                if added_a and added_b:
                    product -= sum(_dot_kept(dict(zip(m.terms, m.weights)), n) for m in added_a for n in added_b)
            self._products.move_to_end(key)
        if product is None:
            product = _dot(a.centroid, b.centroid)
        self._products[key] = (product, a.size, b.size, a.absorbed, b.absorbed)
        if len(self._products) > PRODUCTS_KEPT:
            self._products.popitem(last=False)
        return product

    def _same_story(self, a: _Story, b: _Story, arriving: _Member | None = None) -> bool:
        """Two stories are one when the calibrated merge score says so: evidence from the two
        stories as wholes, so one bridging article does not chain two events."""
        features = self.pair_features(a, b, arriving)
        if self.observe_pair is not None:
            self.observe_pair(features, a, b)
        return (story_score.plausible_merge(features)
                and story_score.merge_probability(features, self.merge_weights) >= self.merge_probability)

    # stories

    def _join(self, story: _Story, member: _Member, at: datetime) -> None:
        """Add ``member`` to ``story``'s sums and index; the story keeps a ``_Kept`` of it."""
        story.held_by = self._centroids
        centroid = _centroid_of(story) if story.size else None  # before a member is let go below
        # its terms read through its numbers give the clusterer's one string per term: the
        # parse workers' words arrive in each batch as new strings, and a member's few hundred
        # of them cost some 15 KB (``bench/memory.py --pickled``)
        kept = member.seen.kept = _Kept(member.doc_id, member.title, member.seen.numbers, self._terms,
                                        array("d", member.vector.values()), member.copy)
        story.members.append(kept)
        story.doc_ids.append(member.doc_id)
        story.size += 1
        if story.size > 2 * KEPT_MEMBERS:  # the oldest of the latest is no longer read
            story.members.pop(KEPT_MEMBERS).release()
        if story.size > 1:
            story.norm_sq += _add_items(centroid, zip(kept.terms, member.vector.values()))
            story.held = centroid  # the sum now, held whatever the reads since let go
            story.title_norm_sq += _add_into(story.title_centroid, member.title_vector)
        else:  # a first member's vectors are the sums: its headline's adopted (the member is done
            # with it), its text's kept only as the compact _Kept above (see ``_centroid_of``)
            story.title_centroid = member.title_vector
            story.norm_sq += _squares(member.vector)
            story.title_norm_sq += _squares(member.title_vector)
        story.entity_counts.update(member.entities)
        story.texts += bool(member.text_entities)
        story.when_counts.update(member.when)
        story.dated += bool(member.when)
        story.log_terms += math.log(1 + member.terms)
        story.seconds += at.timestamp()
        if at >= story.last_at:
            story.last_at = at
        self._stories.move_to_end(story.number)
        self._doc_story[member.doc_id] = story
        if story.mergeable:
            self._index_under(story, member.keys.difference(story.index_keys))

    def _absorb(self, story: _Story, other: _Story) -> None:
        """Merge ``other`` into ``story``: its members, centroid and index entries move over."""
        centroid, other_centroid = _centroid_of(story), _centroid_of(other)  # while each has its members
        self._drop(other)
        story.members.extend(other.members)  # each list holds its story's first and latest: so does the sum
        story.size += other.size
        if story.size > 2 * KEPT_MEMBERS:
            for dropped in story.members[KEPT_MEMBERS:-KEPT_MEMBERS]:
                dropped.release()
            story.members[KEPT_MEMBERS:-KEPT_MEMBERS] = []
        story.doc_ids.extend(other.doc_ids)
        story.norm_sq += _add_into(centroid, other_centroid)
        story.held = centroid  # held for good (absorbed), whatever reading ``other``'s let go
        story.title_norm_sq += _add_into(story.title_centroid, other.title_centroid)
        story.entity_counts.update(other.entity_counts)
        story.when_counts.update(other.when_counts)
        story.dated += other.dated
        story.texts += other.texts
        story.log_terms += other.log_terms
        story.seconds += other.seconds
        story.absorbed += 1
        story.last_at = max(story.last_at, other.last_at)
        for doc_id in other.doc_ids:
            self._doc_story[doc_id] = story
        self._index_under(story, set(other.index_keys).difference(story.index_keys))

    def _index_under(self, story: _Story, keys: frozenset[str] | set[str]) -> None:
        """Index ``story`` under ``keys``, keys it is not indexed under yet."""
        index = self._index
        for key in keys:
            bucket = index.get(key)
            if bucket is None:
                bucket = index[key] = array("I")
            bucket.append(story.number)
        if keys:
            story.index_keys += tuple(keys)

    def _drop(self, story: _Story) -> None:
        del self._stories[story.number]
        if self._by_key.get(story.key) is story:
            del self._by_key[story.key]
        for doc_id in story.doc_ids:
            if self._doc_story.get(doc_id) is story:
                del self._doc_story[doc_id]
        for key in story.index_keys:
            bucket = self._index.get(key)
            if bucket is not None:
                try:
                    bucket.remove(story.number)  # near the front: the oldest stories go first
                except ValueError:
                    continue
                if not bucket:
                    del self._index[key]

    def _retitle(self, story: _Story) -> None:
        """Keep the title until the story has grown ``RETITLE_GROWTH`` times (and to at least
        ``RETITLE_MIN`` articles); then take the
        most central original headline (a copy's only when the story has nothing else)."""
        size = story.size
        if story.title is not None and (size < RETITLE_GROWTH * story.titled_at_size or size < RETITLE_MIN):
            return
        pool = [m for m in _sample(story, CENTRAL_MEMBERS) if not m.copy] or story.members[:1]
        story.title = max(pool, key=lambda m: _kept_dot(m, story.centroid))  # ties: the earliest
        story.titled_at_size = size

    def memory_counts(self) -> dict[str, int]:
        """What the clusterer holds, by count: flat over a long run (``bench/memory.py``, tests)."""
        return {"stories": len(self._stories), "members_kept": sum(len(s.members) for s in self._stories.values()),
                "members": sum(s.size for s in self._stories.values()), "docs_seen": len(self._seen),
                "terms": len(self._term_numbers), "index_keys": len(self._index), "doc_story": len(self._doc_story),
                "products": len(self._products), "centroids_held": sum(bool(s.held) for s in self._stories.values()),
                "background_terms": len(self._background),
                "boilerplate_sources": self._boilerplate.sources}


def _centroid_of(story: _Story) -> dict[str, float]:
    """The story's centroid (the sum of its members' vectors) as a dict, held for now: summed
    again from the members when it was let go (see ``_Story``). A one-member story is read
    through its member instead (``_dot_centroid``; its ``centroid`` is {}): its member's vector
    is the sum, and the compact ``_Kept`` of it is all it holds until a second member joins (a
    dict of a long text's 400 terms is some 30 KB, and most stories of long texts have one
    member: ``bench/memory.py``)."""
    if not story.held and story.members:
        first = story.members[0]
        centroid = dict(zip(first.terms, first.weights))
        for member in story.members[1:]:
            _add_items(centroid, zip(member.terms, member.weights))
        story.held = centroid
    if story.held_by is not None:
        story.held_by.read(story)
    return story.held


def _dot_centroid(vector: dict[str, float], story: _Story) -> float:
    """``_dot(vector, story's centroid)``; for a one-member story, over its kept member."""
    if story.size != 1:
        return _dot(vector, _centroid_of(story))
    return _dot_kept(vector, story.members[0])


def _sample(story: _Story, limit: int) -> list[_Kept]:
    """A big story's first members and its latest ones, so the work per article stays bounded
    however large a story grows (``limit`` ≤ 2 × ``KEPT_MEMBERS``: what the story keeps)."""
    members = story.members
    if story.size <= limit:
        return members
    half = limit // 2
    return members[:half] + members[-half:]


def lead_of(text: str, words: int = LEAD_WORDS) -> str:
    """The first ``words`` words of an article's text."""
    return _lead_of(text, words)


__all__: Iterable[str] = ("StoryClusterer", "StoryDecision", "significant_words", "named_entities", "lead_of")
