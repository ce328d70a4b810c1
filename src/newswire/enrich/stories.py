"""Story clustering: group the coverage of one event, online, in a single pass.

Online clustering in the style of Miranda et al. (EMNLP 2018): each arriving article is scored
against the *active* stories (updated within ``window``) that share a title word or a named
entity with it, found through an inverted index, so one article costs a look at a few candidate
stories, never a pass over all of them. The score is a calibrated probability that the article
belongs to the story (``newswire.enrich.story_score``), from features that mean the same on a
headline-only item and on a full text:

    article ─► terms (title ×2 + lead, stopwords out, light stemming, named entities)
            ─► TF-IDF vector (document frequencies over the window) and a title-only vector
            ─► candidates: inverted index title word/entity → active stories
            ─► P(same story) from cosine to the centroid, title cosine, shared rare names,
               the article's length, the story's size and the time gap
            ─► join the most probable story when P ≥ JOIN_PROBABILITY, else a new story
            ─► late recognition: when the article is as probable in a second story and the two
               stories' centroids agree, the younger story is merged into the older one

Why a calibrated score rather than one cosine threshold: a cosine means different things for a
six-word headline and a 150-word lead (long texts share generic vocabulary with every story of
their kind; a headline shares one or two words with its own). The score weighs cosine against
length, so one configuration serves headline-only feeds and full-text ones. The weights were
fitted by logistic regression on real labelled news (``bench/stories.py --fit``) and checked on
stories left out of the fit; they are a property of news text, not of one data set.

A place name alone is not evidence: a name shared with a story adds to the score only in
proportion to its rarity, and a story about another event in the same town differs in every
other word. Stories do not chain: an article is compared with the story's centroid (the sum of
its members), so an A~B, B~C pair does not pull C into A's story unless C resembles the whole.

Titles stay stable: a story keeps the headline it was given until it has doubled in size (and
has at least four articles), then
takes its most central headline (never a syndicated copy's, whose first line may be a byline).

Document frequencies are counted incrementally over the articles still in the window, so
memory stays flat: ``forget_before`` (called by ``add`` as time moves on) drops old stories,
their index entries and their document frequencies. Everything is deterministic: same input
order, same stories.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Hashable, Iterable

from newswire.enrich import story_score
from newswire.enrich.story_text import lead_of as _lead_of
from newswire.enrich.story_text import named_entities, significant_words

TITLE_WEIGHT = 2.0  # a title word counts twice in the vector: headlines name the event
LEAD_WORDS = 150
COMMON_ENTITY = 0.05  # a capitalised word in over 5 % of the window's articles is no name
MAX_CANDIDATES = 20  # stories scored per article, the ones sharing the most index keys
MAX_POSTINGS = 150  # a key shared by more active stories than this says nothing: skip it
CENTRAL_MEMBERS = 60  # the central headline is chosen among the first and latest members
RETITLE_GROWTH = 2  # a story's title is chosen again when the story has doubled since ...
RETITLE_MIN = 4  # ... and has at least this many articles: a second report does not retitle


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


@dataclass(slots=True)
class _Member:
    doc_id: Hashable
    title: str
    vector: dict[str, float]
    title_vector: dict[str, float]
    entities: frozenset[str]
    keys: frozenset[str]
    terms: int
    copy: bool


@dataclass(slots=True)
class _Story:
    number: int
    key: Hashable
    mergeable: bool
    last_at: datetime
    members: list[_Member] = field(default_factory=list)
    centroid: dict[str, float] = field(default_factory=dict)  # sum of member vectors
    norm_sq: float = 0.0  # |centroid|², kept up to date as members join
    title_centroid: dict[str, float] = field(default_factory=dict)
    title_norm_sq: float = 0.0
    entity_counts: Counter = field(default_factory=Counter)
    index_keys: set[str] = field(default_factory=set)
    title: _Member | None = None
    titled_at_size: int = 0


def _add_into(target: dict[str, float], vector: dict[str, float]) -> float:
    """Add ``vector`` into ``target``; returns the change of |target|²."""
    change = 0.0
    for term, weight in vector.items():
        before = target.get(term, 0.0)
        target[term] = before + weight
        change += weight * (2 * before + weight)
    return change


def _dot(small: dict[str, float], big: dict[str, float]) -> float:
    if len(small) > len(big):
        small, big = big, small
    return sum(w * big.get(t, 0.0) for t, w in small.items())


class StoryClusterer:
    """Online story clustering over a sliding window. See the module docstring."""

    def __init__(self, *, window: timedelta = timedelta(hours=72),
                 join_probability: float = story_score.JOIN_PROBABILITY,
                 weights: story_score.Weights = story_score.WEIGHTS):
        self.window = window
        self.join_probability = join_probability
        self.weights = weights
        self._df: Counter[str] = Counter()
        self._docs = 0
        self._seen: deque[tuple[datetime, tuple[str, ...]]] = deque()  # for forgetting df
        self._stories: OrderedDict[int, _Story] = OrderedDict()  # least recently updated first
        self._by_key: dict[Hashable, _Story] = {}
        self._doc_story: dict[Hashable, _Story] = {}
        self._index: dict[str, set[int]] = {}
        self._numbers = 0
        self._latest: datetime | None = None
        self.observe = None  # a training hook: called with (features, story) for each candidate

    # the one entry point

    def add(self, doc_id: Hashable, source_id: Hashable, title: str, lead_text: str,
            published_at: datetime, merge: bool = True, *, same_as: Hashable | None = None,
            into: Hashable | None = None) -> StoryDecision:
        """Place one article. ``merge=False`` (the source's switch is off) gives it a story of its
        own that nothing else joins. ``same_as`` (a syndicated copy's canonical doc id) joins the
        canonical's story when it is still active. ``into`` forces the story key (a rebuild from
        stored assignments), creating the story under that key if needed."""
        if self._latest is None or published_at > self._latest:
            self._latest = published_at
            self.forget_before(published_at - self.window)
        member = self._member(doc_id, title, lead_text, published_at, copy=same_as is not None)

        story: _Story | None = None
        merged: list[_Story] = []
        if into is not None:
            story = self._by_key.get(into)
        elif same_as is not None:
            story = self._doc_story.get(same_as)
        if story is None and into is None and merge:
            story, merged = self._best_story(member, published_at)
        created = story is None
        if story is None:
            self._numbers += 1
            story = _Story(self._numbers, into if into is not None else ("new", self._numbers),
                           mergeable=merge, last_at=published_at)
            self._stories[story.number] = story
            self._by_key[story.key] = story
        self._join(story, member, published_at)
        for other in merged:
            self._absorb(story, other)
        self._retitle(story)
        assert story.title is not None
        return StoryDecision(story.key, created, story.title.title, story.title.doc_id, len(story.members),
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
        while self._seen and self._seen[0][0] < moment:
            _, terms = self._seen.popleft()
            self._docs -= 1
            for term in terms:
                left = self._df[term] - 1
                if left:
                    self._df[term] = left
                else:
                    del self._df[term]
        while self._stories:
            number, story = next(iter(self._stories.items()))
            if story.last_at >= moment:
                break
            self._drop(story)

    @property
    def active_stories(self) -> int:
        return len(self._stories)

    # features

    def _idf(self, term: str) -> float:
        return math.log((self._docs + 1) / (self._df.get(term, 0) + 1)) + 1.0

    def _weighted(self, terms: Counter) -> dict[str, float]:
        vector = {term: (1.0 + math.log(count)) * self._idf(term) for term, count in terms.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {term: v / norm for term, v in vector.items()}

    def _member(self, doc_id: Hashable, title: str, lead_text: str, at: datetime, *, copy: bool) -> _Member:
        lead = _lead_of(lead_text, LEAD_WORDS)
        title_words = significant_words(title)
        entities = frozenset(named_entities(title, is_title=True) | named_entities(lead))
        terms = Counter(significant_words(lead))
        for word in title_words:
            terms[word] += TITLE_WEIGHT
        for entity in entities:
            terms["@" + entity] += 1.0
        self._docs += 1
        self._df.update(terms)
        self._seen.append((at, tuple(terms)))
        keys = frozenset(title_words) | {"@" + e for e in entities}
        return _Member(doc_id, title, self._weighted(terms), self._weighted(Counter(title_words)), entities,
                       keys, len(terms), copy)

    def _candidates(self, keys: Iterable[str], exclude: int | None = None) -> list[_Story]:
        hits: Counter[int] = Counter()
        for key in keys:
            postings = self._index.get(key, ())
            if len(postings) > MAX_POSTINGS:
                continue
            for number in postings:
                hits[number] += 1
        hits.pop(exclude, None)  # type: ignore[arg-type]
        ranked = heapq.nsmallest(MAX_CANDIDATES, hits.items(), key=lambda item: (-item[1], item[0]))
        return [self._stories[number] for number, _ in ranked]

    def features(self, member: _Member, story: _Story, hours: float) -> story_score.Features:
        """What the score weighs for ``member`` joining ``story`` (see ``story_score``)."""
        cosine = _dot(member.vector, story.centroid) / (math.sqrt(story.norm_sq) or 1.0)
        title_cosine = _dot(member.title_vector, story.title_centroid) / (math.sqrt(story.title_norm_sq) or 1.0)
        names = 0.0
        if member.entities:
            common = max(COMMON_ENTITY * self._docs, 3)
            total = shared = 0.0
            for entity in member.entities:
                df = self._df.get("@" + entity, 0)
                if df > common and " " not in entity:
                    continue
                weight = self._idf("@" + entity)
                total += weight
                if entity in story.entity_counts:
                    shared += weight * min(1.0, story.entity_counts[entity] / len(story.members) * 2)
            names = shared / total if total else 0.0
        return story_score.Features(cosine, title_cosine, names, math.log(1 + member.terms),
                                    math.log(1 + len(story.members)), hours / 24)

    def _best_story(self, member: _Member, at: datetime) -> tuple[_Story | None, list[_Story]]:
        """The most probable story, and the other stories the article shows to be the same one."""
        window_hours = self.window.total_seconds() / 3600
        scored: list[tuple[float, int, _Story]] = []
        for story in self._candidates(member.keys):
            if not story.mergeable:
                continue
            hours = abs((at - story.last_at).total_seconds()) / 3600
            if hours > window_hours:
                continue
            features = self.features(member, story, hours)
            if self.observe is not None:
                self.observe(features, story)
            p = story_score.probability(features, self.weights)
            if p >= self.join_probability and features.cosine >= story_score.MIN_COSINE:
                scored.append((p, -story.number, story))
        if not scored:
            return None, []
        scored.sort(reverse=True)
        best = scored[0][2]
        merged = [story for p, _, story in scored[1:]
                  if p >= story_score.MERGE_PROBABILITY and self._same_story(best, story)]
        if merged:  # the oldest story keeps its key: links to it stay valid
            everything = sorted([best, *merged], key=lambda s: s.number)
            best, merged = everything[0], everything[1:]
        return best, merged

    def _same_story(self, a: _Story, b: _Story) -> bool:
        """Two stories are one when their centroids agree (cluster-to-cluster evidence, so
        one bridging article does not chain two events)."""
        cosine = _dot(a.centroid, b.centroid) / ((math.sqrt(a.norm_sq) or 1.0) * (math.sqrt(b.norm_sq) or 1.0))
        return cosine >= story_score.MERGE_CENTROID_COSINE

    # stories

    def _join(self, story: _Story, member: _Member, at: datetime) -> None:
        story.members.append(member)
        story.norm_sq += _add_into(story.centroid, member.vector)
        story.title_norm_sq += _add_into(story.title_centroid, member.title_vector)
        story.entity_counts.update(member.entities)
        if at >= story.last_at:
            story.last_at = at
        self._stories.move_to_end(story.number)
        self._doc_story[member.doc_id] = story
        if story.mergeable:
            for key in member.keys - story.index_keys:
                self._index.setdefault(key, set()).add(story.number)
                story.index_keys.add(key)

    def _absorb(self, story: _Story, other: _Story) -> None:
        """Merge ``other`` into ``story``: its members, centroid and index entries move over."""
        self._drop(other)
        story.members.extend(other.members)
        story.norm_sq += _add_into(story.centroid, other.centroid)
        story.title_norm_sq += _add_into(story.title_centroid, other.title_centroid)
        story.entity_counts.update(other.entity_counts)
        story.last_at = max(story.last_at, other.last_at)
        for member in other.members:
            self._doc_story[member.doc_id] = story
        for key in other.index_keys - story.index_keys:
            self._index.setdefault(key, set()).add(story.number)
            story.index_keys.add(key)

    def _drop(self, story: _Story) -> None:
        del self._stories[story.number]
        if self._by_key.get(story.key) is story:
            del self._by_key[story.key]
        for member in story.members:
            if self._doc_story.get(member.doc_id) is story:
                del self._doc_story[member.doc_id]
        for key in story.index_keys:
            bucket = self._index.get(key)
            if bucket is not None:
                bucket.discard(story.number)
                if not bucket:
                    del self._index[key]

    def _retitle(self, story: _Story) -> None:
        """Keep the title until the story has grown ``RETITLE_GROWTH`` times (and to at least
        ``RETITLE_MIN`` articles); then take the
        most central original headline (a copy's only when the story has nothing else)."""
        size = len(story.members)
        if story.title is not None and (size < RETITLE_GROWTH * story.titled_at_size or size < RETITLE_MIN):
            return
        pool = [m for m in _sample(story.members, CENTRAL_MEMBERS) if not m.copy] or story.members[:1]
        story.title = max(pool, key=lambda m: _dot(m.vector, story.centroid))  # ties: the earliest
        story.titled_at_size = len(story.members)


def _sample(members: list[_Member], limit: int) -> list[_Member]:
    """A big story's first members and its latest ones, so the work per article stays bounded
    however large a story grows."""
    if len(members) <= limit:
        return members
    half = limit // 2
    return members[:half] + members[-half:]


def lead_of(text: str, words: int = LEAD_WORDS) -> str:
    """The first ``words`` words of an article's text."""
    return _lead_of(text, words)


__all__: Iterable[str] = ("StoryClusterer", "StoryDecision", "significant_words", "named_entities", "lead_of")
