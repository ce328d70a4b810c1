"""Story clustering: group the coverage of one event, online, in a single pass.

An online single-pass clusterer in the style of Miranda et al. (EMNLP 2018), with the merge
guard NewsBlur uses against chaining. Each arriving article is compared with the *active*
stories (updated within ``window``) that share a significant title word or a named entity
with it, found through an inverted index, so one article costs a lookup over a few candidate
stories, never a pass over all of them:

    article ─► terms (title + lead, stopwords out, light stemming) ─► TF-IDF vector
            ─► candidates: inverted index term/entity → active stories
            ─► score = (0.75·cos(article, centroid) + 0.25·entity overlap) · time decay
            ─► join the best story when score ≥ MERGE_SCORE *and* the lexical check passes
            ─► otherwise a new story

The lexical check confirms a merge against one *member*, not the centroid: the article must
share ``MIN_SHARED`` named entities with one member, or share one named entity *and* at least
``MIN_SHARED`` significant title words with that member's title at an overlap coefficient
|A∩B|/min(|A|,|B|) of at least ``MIN_OVERLAP`` (a multi-word name counts as one title word, so a
town's name alone never makes two). A centroid drifts as members join; requiring a concrete
member to look like the newcomer, and the centroid to agree, keeps A~B, B~C from pulling an
unrelated C into A's story.

Named entities are capitalised word runs (``named_entities``); a headline in Title Case gives
none. A lone capitalised word found in more than ``COMMON_ENTITY`` of the window's articles
("Officials", "Witnesses") is not a name and does not confirm anything.

The thresholds are round numbers, chosen for what they mean rather than fitted to one corpus:

- ``MERGE_SCORE = 0.3``: a cosine of 0.3 between TF-IDF vectors of a headline and a lead means
  several rare words in common; articles on other events in the same town score below it.
- ``MIN_SHARED = 2``: one shared word ("council", a town) is what hard negatives share; two
  specific words rarely coincide by chance.
- ``MIN_OVERLAP = 0.5``: half of the shorter headline's significant words.
- ``COMMON_ENTITY = 0.05``: names are rare; one word in one article of twenty is a common word.
- time decay ``1 / (1 + hours / 48)``: two days apart, an article needs twice the similarity
  to join; ``window`` (72 h) bounds it outright.

Document frequencies are counted incrementally over the articles still in the window, so
memory stays flat: ``forget_before`` (called by ``add`` as time moves on) drops old stories,
their index entries and their document frequencies. Everything is deterministic: same input
order, same stories.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Hashable, Iterable

MERGE_SCORE = 0.3
MIN_SHARED = 2
MIN_OVERLAP = 0.5
DECAY_HOURS = 48.0
ENTITY_WEIGHT = 0.25
TITLE_WEIGHT = 2.0  # a title word counts twice in the vector: headlines name the event
LEAD_WORDS = 60
COMMON_ENTITY = 0.05  # a lone capitalised word in over 5 % of the window's articles is no name
MAX_CANDIDATES = 30  # stories scored per article, the ones sharing the most index keys
MAX_POSTINGS = 150  # a key shared by more active stories than this says nothing: skip it
CHECKED_MEMBERS = 40  # the lexical confirmation looks at a story's first and latest members
CENTRAL_MEMBERS = 60  # the central headline is chosen among the first and latest members

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no nor not
now of off on once only or other our ours out over own same she should so some such than that the
their them then there these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours said says say new one two three year
years week weeks day days monday tuesday wednesday thursday friday saturday sunday today yesterday
tomorrow january february march april june july august september october november december
according told may might must shall upon amid via per us its it's """.split())

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")


def stem(word: str) -> str:
    """A light suffix stripper (plural, -ing, -ed): enough to meet "delays"/"delayed"."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: len(word) - len(suffix)] + keep
    return word


def significant_words(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text`` without stopwords, digits-only tokens kept."""
    words = []
    for raw in _WORD.findall(text.lower()):
        raw = raw.replace("’", "'").split("'")[0]
        if len(raw) < 2 or raw in STOPWORDS:
            continue
        words.append(stem(raw))
    return words


def named_entities(text: str, *, is_title: bool = False) -> set[str]:
    """Capitalised word sequences, lower-cased: "Maple Harbour". A single capitalised word at a
    sentence's start is not one ("Council voted"); a longer run there is ("Maple Harbour voted").

    A headline in Title Case capitalises every word, so when most of a title's words are
    capitalised it yields no entities (its words still count as title words)."""
    tokens = re.findall(r"\S+", text)
    if is_title and tokens:
        caps = sum(1 for t in tokens if t[:1].isupper())
        if caps > 0.6 * len(tokens):
            return set()
    found: set[str] = set()
    run: list[str] = []
    run_at_start = False  # a run that began a sentence counts only if it has two words or more

    def close() -> None:
        if run and (len(run) > 1 or not run_at_start):
            found.add(" ".join(run))
        run.clear()

    sentence_start = True
    for token in tokens:
        word = token.strip("\"'“”‘’()[],.;:!?")
        if word[:1].isupper() and word.lower() not in STOPWORDS:
            if not run:
                run_at_start = sentence_start
            run.append(word.lower())
            if token[-1:] in ",;:.!?":
                close()
        else:
            close()
        sentence_start = bool(_SENTENCE_END.search(token))
    close()
    return found


@dataclass(frozen=True, slots=True)
class StoryDecision:
    """Where an article went: the story's key, whether the article started it, and the story's
    most central headline now (the member title closest to the centroid) with its doc id."""

    key: Hashable
    created: bool
    title: str
    title_doc: Hashable
    size: int


@dataclass(slots=True)
class _Member:
    doc_id: Hashable
    title: str
    title_words: frozenset[str]
    entities: frozenset[str]
    vector: dict[str, float]


@dataclass(slots=True)
class _Story:
    number: int
    key: Hashable
    mergeable: bool
    last_at: datetime
    members: list[_Member] = field(default_factory=list)
    centroid: dict[str, float] = field(default_factory=dict)  # sum of member vectors
    entity_counts: Counter = field(default_factory=Counter)
    index_keys: set[str] = field(default_factory=set)
    sources: set[Hashable] = field(default_factory=set)
    norm_sq: float = 0.0  # |centroid|², kept up to date as members join

    def norm(self) -> float:
        return math.sqrt(self.norm_sq) or 1.0


class StoryClusterer:
    """Online story clustering over a sliding window. See the module docstring."""

    def __init__(self, *, window: timedelta = timedelta(hours=72), merge_score: float = MERGE_SCORE,
                 min_shared: int = MIN_SHARED, min_overlap: float = MIN_OVERLAP):
        self.window = window
        self.merge_score = merge_score
        self.min_shared = min_shared
        self.min_overlap = min_overlap
        self._df: Counter[str] = Counter()
        self._docs = 0
        self._seen: deque[tuple[datetime, tuple[str, ...]]] = deque()  # for forgetting df
        self._stories: OrderedDict[int, _Story] = OrderedDict()  # least recently updated first
        self._by_key: dict[Hashable, _Story] = {}
        self._doc_story: dict[Hashable, _Story] = {}
        self._index: dict[str, set[int]] = {}
        self._numbers = 0
        self._latest: datetime | None = None

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
        lead = " ".join(lead_text.split()[:LEAD_WORDS])
        title_words = significant_words(title)
        lead_words = significant_words(lead)
        entities = frozenset(named_entities(title, is_title=True) | named_entities(lead))
        terms = Counter(lead_words)
        for word in title_words:
            terms[word] += TITLE_WEIGHT
        for entity in entities:
            terms["@" + entity] += 1.0
        self._count_df(published_at, tuple(terms))
        member = _Member(doc_id, title, _title_units(title_words, entities), entities, self._vector(terms))

        story: _Story | None = None
        if into is not None:
            story = self._by_key.get(into)
        elif same_as is not None:
            story = self._doc_story.get(same_as)
        elif merge:
            story = self._best_story(member, published_at)
        created = story is None
        if story is None:
            self._numbers += 1
            story = _Story(self._numbers, into if into is not None else ("new", self._numbers),
                           mergeable=merge, last_at=published_at)
            self._stories[story.number] = story
            self._by_key[story.key] = story
        self._join(story, member, source_id, published_at)
        central = self._central(story)
        return StoryDecision(story.key, created, central.title, central.doc_id, len(story.members))

    def rename(self, key: Hashable, new_key: Hashable) -> None:
        """Give a story the key its stored row has (after the service creates the row)."""
        story = self._by_key.pop(key)
        story.key = new_key
        self._by_key[new_key] = story

    def title_of(self, key: Hashable) -> str:
        """The story's most central headline now; "" for a story no longer in memory."""
        story = self._by_key.get(key)
        return self._central(story).title if story else ""

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
            del self._stories[number]
            self._by_key.pop(story.key, None)
            for member in story.members:
                self._doc_story.pop(member.doc_id, None)
            for key in story.index_keys:
                bucket = self._index.get(key)
                if bucket is not None:
                    bucket.discard(number)
                    if not bucket:
                        del self._index[key]

    @property
    def active_stories(self) -> int:
        return len(self._stories)

    # features

    def _count_df(self, at: datetime, terms: tuple[str, ...]) -> None:
        self._docs += 1
        self._df.update(terms)
        self._seen.append((at, terms))

    def _idf(self, term: str) -> float:
        return math.log((self._docs + 1) / (self._df.get(term, 0) + 1)) + 1.0

    def _vector(self, terms: Counter) -> dict[str, float]:
        vector = {term: (1.0 + math.log(count)) * self._idf(term) for term, count in terms.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {term: v / norm for term, v in vector.items()}

    def _candidates(self, member: _Member) -> list[_Story]:
        hits: Counter[int] = Counter()
        for key in self._keys_of(member):
            postings = self._index.get(key, ())
            if len(postings) > MAX_POSTINGS:
                continue
            for number in postings:
                hits[number] += 1
        ranked = heapq.nsmallest(MAX_CANDIDATES, hits.items(), key=lambda item: (-item[1], item[0]))
        return [self._stories[number] for number, _ in ranked]

    @staticmethod
    def _keys_of(member: _Member) -> set[str]:
        return set(member.title_words) | {"@" + e for e in member.entities}

    def _best_story(self, member: _Member, at: datetime) -> _Story | None:
        best: tuple[float, int] | None = None
        chosen = None
        for story in self._candidates(member):
            if not story.mergeable:
                continue
            hours = abs((at - story.last_at).total_seconds()) / 3600
            if hours > self.window.total_seconds() / 3600:
                continue
            score = self._score(member, story, hours)
            if score < self.merge_score or not self._confirmed(member, story):
                continue
            if best is None or (score, -story.number) > best:
                best, chosen = (score, -story.number), story
        return chosen

    def _score(self, member: _Member, story: _Story, hours: float) -> float:
        cosine = sum(w * story.centroid.get(t, 0.0) for t, w in member.vector.items()) / story.norm()
        entity = 0.0
        if member.entities and story.entity_counts:
            shared = sum(1 for e in member.entities if e in story.entity_counts)
            entity = shared / min(len(member.entities), len(story.entity_counts))
        return ((1 - ENTITY_WEIGHT) * cosine + ENTITY_WEIGHT * entity) / (1 + hours / DECAY_HOURS)

    def _confirmed(self, member: _Member, story: _Story) -> bool:
        """The lexical check against one member (see the module docstring)."""
        common = max(COMMON_ENTITY * self._docs, 3)
        rare = {e for e in member.entities if " " in e or self._df.get("@" + e, 0) <= common}
        for other in _sample(story.members, CHECKED_MEMBERS):
            entities = len(rare & other.entities)
            if entities >= self.min_shared:
                return True
            shared = len(member.title_words & other.title_words)
            if entities and shared >= self.min_shared:
                smaller = min(len(member.title_words), len(other.title_words))
                if shared / smaller >= self.min_overlap:
                    return True
        return False

    def _join(self, story: _Story, member: _Member, source_id: Hashable, at: datetime) -> None:
        story.members.append(member)
        story.sources.add(source_id)
        for term, weight in member.vector.items():
            before = story.centroid.get(term, 0.0)
            story.centroid[term] = before + weight
            story.norm_sq += weight * (2 * before + weight)
        story.entity_counts.update(member.entities)
        if at >= story.last_at:
            story.last_at = at
        self._stories.move_to_end(story.number)
        self._doc_story[member.doc_id] = story
        if story.mergeable:
            for key in self._keys_of(member) - story.index_keys:
                self._index.setdefault(key, set()).add(story.number)
                story.index_keys.add(key)

    @staticmethod
    def _central(story: _Story) -> _Member:
        norm = story.norm()

        def closeness(member: _Member) -> float:
            return sum(w * story.centroid.get(t, 0.0) for t, w in member.vector.items()) / norm

        return max(_sample(story.members, CENTRAL_MEMBERS), key=closeness)  # ties: the earliest


def _sample(members: list[_Member], limit: int) -> list[_Member]:
    """A big story's first members and its latest ones, so the work per article stays bounded
    however large a story grows."""
    if len(members) <= limit:
        return members
    half = limit // 2
    return members[:half] + members[-half:]


def _title_units(words: list[str], entities: Iterable[str]) -> frozenset[str]:
    """A title's significant words with each multi-word entity counted once: "Maple Harbour"
    is one shared unit, not two, so a town's name alone never confirms a merge."""
    units = set(words)
    for entity in entities:
        parts = significant_words(entity)
        if len(parts) > 1 and all(part in units for part in parts):
            units.difference_update(parts)
            units.add("@" + entity)
    return frozenset(units)


def lead_of(text: str, words: int = LEAD_WORDS) -> str:
    """The first ``words`` words of an article's text."""
    return " ".join(text.split()[:words])


__all__: Iterable[str] = ("StoryClusterer", "StoryDecision", "significant_words", "named_entities", "lead_of")
