"""Syndicated copies: the same story carried by several sources. Pure: no I/O.

    text ─► units (lines; the first and last line split into sentences), normalised: casefold,
            no punctuation, one space
         ─► Boilerplate.clean: drop units that recur in ≥ 3 of the source's recent articles
            (footers like "The Post — Our website is the place for…", "Canadian Wire staff")
         ─► word 5-shingles within each unit ─► 32-bit hashes ─► MinHash (datasketch's, fixed seed: ``minhash``)
         ─► LSH query (``lsh.BandIndex``: a low Jaccard bar, so trimmed copies are candidates)
         ─► confirm: containment |A∩B| / min(|A|, |B|) ≥ threshold on the exact shingle sets
         ─► CopyDecision: the earliest copy is canonical; the others point to it

Choices:

- Containment, not Jaccard, confirms a match: a copy trimmed to its first paragraphs, or one
  still carrying a footer the learner has not seen three times yet, keeps nearly all of its
  shingles in the other copy while its Jaccard falls to 0.4–0.6. The LSH index is queried at
  Jaccard 0.3 (weighted towards recall) only to find candidates; the exact check decides.
- Copies within one source are not syndication: candidates from the same source are skipped (a
  paper's daily templates would otherwise collapse into each other).
- A new document joins at most one group, the one it overlaps most: a round-up containing two
  wire stories must not merge their groups.
- The earliest copy by (published_at, id) is canonical. When an older copy arrives later it
  becomes canonical and the group's other members are re-pointed (``CopyDecision.repoint``).
- Fewer than ``MIN_WORDS`` words (after boilerplate removal) is too little evidence: never a
  copy, never indexed.
- Memory is bounded by ``window``: documents published more than ``window`` before the newest
  one seen are forgotten (``forget_before`` does the same for an explicit moment). A group whose
  canonical was forgotten keeps its id while members remain, so a late copy still points to it.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import re
import zlib
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Sequence

import numpy as np
from newswire.enrich import shingle_sets
from newswire.enrich.lsh import BandIndex
from newswire.enrich.minhash import MinHasher

MIN_WORDS = 40  # shorter texts are never copies
CANDIDATE_JACCARD = 0.3  # LSH bar for candidates; confirmation is by exact containment
CANDIDATE_WEIGHTS = (0.2, 0.8)  # favour recall in the LSH (false candidates are checked exactly)
MINHASH_SEED = 1
NUM_PERM = 128  # MinHash permutations (a ``CopyDetector``'s default)

# The space after a sentence's end: a space first, then the look-behind (a pattern led by the
# look-behind tried it at every position of every first and last line).
_SENTENCE_END = re.compile(r"\s(?<=[.!?…]\s)\s*")
_NOT_WORD = re.compile(r"[^\w\s]+")
# An apostrophe between two word characters. The apostrophe comes first so that the engine
# looks only where there is one: led by the look-behind, ``(?<=\w)['’](?=\w)``, it tried every
# position, 98 us an article (its lead and its opening, 5 KB texts) where this takes 14.
_APOSTROPHES = re.compile(r"['’](?<=\w['’])(?=\w)")


def normalise(text: str) -> str:
    """Casefold, strip punctuation (apostrophes inside words vanish), collapse whitespace."""
    text = _APOSTROPHES.sub("", text.casefold())
    return " ".join(_NOT_WORD.sub(" ", text).split())


def unit_parts(text: str) -> list[str]:
    """A text's units as written: its lines, with the first and the last line split into
    sentences (where a byline or a footer sits inside a paragraph); blank lines left out."""
    lines = [line for line in text.splitlines() if line.strip()]
    found: list[str] = []
    for i, line in enumerate(lines):
        found.extend(_SENTENCE_END.split(line) if i in (0, len(lines) - 1) else [line])
    return found


def units(text: str) -> list[str]:
    """A text's units (``unit_parts``), normalised, empty ones left out. Boilerplate is learnt,
    and shingles are taken, unit by unit."""
    return [unit for unit in map(normalise, unit_parts(text)) if unit]


class _SourceUnits:
    """One source's last articles' distinct unit keys, in one flat array (oldest article first)."""

    __slots__ = ("doc_ids", "lengths", "keys")

    def __init__(self) -> None:
        self.doc_ids: list = []
        self.lengths = array("I")
        self.keys = array("Q")

    def drop(self, at: int) -> None:
        start = sum(self.lengths[:at])
        del self.keys[start:start + self.lengths[at]]
        del self.lengths[at]
        del self.doc_ids[at]


class Boilerplate:
    """Per source, the units (lines or sentences) seen in at least ``min_articles`` of its last
    ``history`` articles: footers, staff bylines, newsletter pitches. Units are kept as 64-bit
    hashes: each source's last articles' distinct keys one after the other in one array of 64-bit
    values, 8 bytes a unit; how many of those articles have a unit is counted when asked (a sort
    of a few hundred values), not kept in a Counter of int objects, which cost about 100 bytes a
    unit (two learners over a thousand sources: ~100 MB of a run's memory)."""

    def __init__(self, *, min_articles: int = 3, history: int = 50):
        self.min_articles = min_articles
        self.history = history
        self._recent: dict[int, _SourceUnits] = {}

    def learn(self, source_id: int, doc_id: int, doc_units: Iterable[str]) -> None:
        """Record one article's units (again: an updated article replaces its earlier units)."""
        self._learn_keys(source_id, doc_id, list(map(unit_key, doc_units)))

    def learn_and_keep(self, source_id: int, doc_id: int, doc_units: list[str]) -> list[bool]:
        """Learn from the article's units, then say for each whether it stays (is not
        boilerplate); each unit is hashed once for both."""
        return self.learn_and_keep_keys(source_id, doc_id, list(map(unit_key, doc_units)))

    def learn_and_keep_keys(self, source_id: int, doc_id: int, keys: Sequence[int]) -> list[bool]:
        """``learn_and_keep`` for units already hashed (``unit_key``)."""
        recent = self._learn_keys(source_id, doc_id, keys)
        return (_counts(recent.keys, keys) < self.min_articles).tolist()

    def _learn_keys(self, source_id: int, doc_id: int, keys: Sequence[int]) -> _SourceUnits:
        recent = self._recent.get(source_id)
        if recent is None:
            recent = self._recent[source_id] = _SourceUnits()
        if doc_id in recent.doc_ids:
            recent.drop(recent.doc_ids.index(doc_id))
        distinct = set(keys)
        recent.doc_ids.append(doc_id)
        recent.lengths.append(len(distinct))
        recent.keys.extend(distinct)
        while len(recent.doc_ids) > self.history:
            recent.drop(0)
        return recent

    @property
    def sources(self) -> int:
        """Sources with articles remembered."""
        return len(self._recent)

    @property
    def units(self) -> int:
        """Distinct units counted, over all sources."""
        return sum(len(set(recent.keys)) for recent in self._recent.values())

    @property
    def held(self) -> int:
        """Unit keys held, over all sources (a unit once per article that has it)."""
        return sum(len(recent.keys) for recent in self._recent.values())

    def is_boilerplate(self, source_id: int, unit: str) -> bool:
        recent = self._recent.get(source_id)
        return recent is not None and int(_counts(recent.keys, [unit_key(unit)])[0]) >= self.min_articles

    def clean(self, source_id: int, doc_id: int, text: str) -> list[str]:
        """Learn from the article, then return its units without the boilerplate."""
        doc_units = units(text)
        return [unit for unit, keep in zip(doc_units, self.learn_and_keep(source_id, doc_id, doc_units)) if keep]


def _counts(held: array, keys: Sequence[int]) -> np.ndarray:
    """How many times each of ``keys`` is in ``held``."""
    if not keys or not held:
        return np.zeros(len(keys), dtype=np.int64)
    ordered = np.sort(np.frombuffer(held, dtype=np.uint64))
    wanted = np.array(keys, dtype=np.uint64)
    return np.searchsorted(ordered, wanted, "right") - np.searchsorted(ordered, wanted, "left")


MAX_CHARS = 3000


def opening(text: str, limit: int = MAX_CHARS) -> str:
    """The first ``limit`` characters, cut at a line end where there is one. Copies of a story
    share its opening (syndicated copies are trimmed from the end, and edits are local), so
    comparing openings keeps the cost per article flat however long articles are."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[:cut if cut > limit // 2 else limit]


def unit_key(unit: str) -> int:
    """A unit's 64-bit key, as ``Boilerplate`` counts it."""
    return int.from_bytes(hashlib.blake2b(unit.encode(), digest_size=8).digest(), "little")


_GRAM_BASE = 1_000_003  # a gram's hash: its words' CRC-32s as the digits of a number in this base, mod 2**32
_WORD_CODES: dict[str, int] = {}  # word → CRC-32: a newswire's vocabulary repeats from article to article
_MAX_WORD_CODES = 100_000  # then start over: about 13 MB at most (500,000 held 60 MB in each process
# that prepares texts; a news vocabulary's 100,000 commonest words are nearly all of its running words)


def _word_codes(kept_units: list[str]) -> tuple[list[int], list[int]]:
    """Every word's CRC-32, units one after the other, and where each unit ends (an empty unit
    ends where it starts)."""
    if len(_WORD_CODES) > _MAX_WORD_CODES:
        _WORD_CODES.clear()
    known = _WORD_CODES.get
    codes: list[int] = []
    ends: list[int] = []
    for unit in kept_units:
        for word in unit.split():
            code = known(word)
            if code is None:
                code = _WORD_CODES[word] = zlib.crc32(word.encode())
            codes.append(code)
        ends.append(len(codes))
    return codes, ends


def unit_shingles(kept_units: list[str], size: int) -> list[np.ndarray]:
    """Each unit's word ``size``-gram hashes (32-bit, in word order, repeats kept): a unit
    shorter than a gram is one gram of all its words, an empty unit has none. Grams never span
    units, so a text's shingles over any choice of its units are those units' arrays together
    (``shingles``): a parse worker can hash every unit before the source's boilerplate is known.

    A gram's hash is computed from its words' CRC-32s with array arithmetic over the whole text
    at once, rather than by joining and hashing each gram's text: a 5 KB article has about 800
    grams, and hashing them one by one was the largest single cost of copy detection.
    Deterministic across processes (unlike ``hash()``): the same input, the same copies."""
    codes_list, ends = _word_codes(kept_units)
    empty = np.zeros(0, dtype=np.uint32)
    if not codes_list:
        return [empty] * len(kept_units)
    weights = np.array([pow(_GRAM_BASE, size - 1 - k, 2**32) for k in range(size)], dtype=np.uint64)
    codes = np.array(codes_list, dtype=np.uint64)
    total = len(codes)
    padded = np.concatenate([codes, np.zeros(size - 1, dtype=np.uint64)])
    grams = np.zeros(total, dtype=np.uint64)  # the gram starting at each word (wraps mod 2**64)
    for k in range(size):
        grams += padded[k:k + total] * weights[k]
    grams32 = (grams & 0xFFFFFFFF).astype(np.uint32)
    found: list[np.ndarray] = []
    start = 0
    for end in ends:
        words = end - start
        if words >= size:
            found.append(grams32[start:end - size + 1])
        elif words:
            short = int((codes[start:end] * weights[size - words:]).sum()) & 0xFFFFFFFF
            found.append(np.array([short], dtype=np.uint32))
        else:
            found.append(empty)
        start = end
    return found


def shingles(kept_units: list[str], size: int) -> np.ndarray:
    """The sorted distinct 32-bit hashes of each unit's word ``size``-grams (see
    ``unit_shingles``)."""
    return _joined(unit_shingles(kept_units, size))


def _joined(unit_grams: Sequence[np.ndarray]) -> np.ndarray:
    return np.unique(np.concatenate(unit_grams)) if unit_grams else np.zeros(0, dtype=np.uint32)


SHINGLE_SIZE = 5


@dataclass(frozen=True, slots=True)
class CopyText:
    """An article's text as copy detection reads it, made once per text by ``prepare_copy_text``
    (in a parse worker, where there are some, so the writer's process does not): the units of
    its ``opening``, each as its boilerplate key, its word count and its shingles (``grams``,
    all units' one after the other, unit i's ending at ``ends[i]``). Which units are
    boilerplate depends on the source's recent articles, so that is decided at indexing."""

    shingle_size: int
    keys: tuple[int, ...]
    words: tuple[int, ...]
    grams: np.ndarray
    ends: tuple[int, ...]
    # Made ahead (``prepare_copy_text(ahead=True)``, in the parse workers): the shingles of all
    # the units and their MinHash signature (``NUM_PERM`` permutations), which are the
    # document's when its source's boilerplate keeps every unit, as it does for most articles.
    whole: np.ndarray | None = None
    signature: np.ndarray | None = None

    def shingles(self, kept: Sequence[int]) -> np.ndarray:
        """The sorted distinct shingles of the units numbered ``kept``."""
        if self.whole is not None and len(kept) == len(self.keys):
            return self.whole
        starts = (0, *self.ends)
        return _joined([self.grams[starts[i]:self.ends[i]] for i in kept])

    def signature_of(self, kept: Sequence[int], num_perm: int) -> np.ndarray | None:
        """The MinHash signature of the units numbered ``kept`` when it was made ahead, else None."""
        if self.signature is not None and len(kept) == len(self.keys) and len(self.signature) == num_perm:
            return self.signature
        return None


def prepare_copy_text(text: str, shingle_size: int = SHINGLE_SIZE, *, ahead: bool = False) -> CopyText:
    """``ahead``: also the whole text's shingles and signature (see ``CopyText``): where the
    text is prepared ahead of its indexing, in a parse worker, and not where it is indexed."""
    doc_units = units(opening(text))
    grams = unit_shingles(doc_units, shingle_size)
    whole = signature = None
    if ahead:
        whole = _joined(grams)
        signature = _minhasher(NUM_PERM).signature(whole)
    return CopyText(shingle_size, tuple(map(unit_key, doc_units)), tuple(len(unit.split()) for unit in doc_units),
                    np.concatenate(grams) if grams else np.zeros(0, dtype=np.uint32),
                    tuple(itertools.accumulate(len(unit) for unit in grams)), whole, signature)


@functools.lru_cache(maxsize=4)
def _minhasher(num_perm: int) -> MinHasher:
    return MinHasher(num_perm, MINHASH_SEED)


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """|A∩B| / min(|A|, |B|) of two sorted distinct hash arrays."""
    return _containment(a, b)[0]


def _containment(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """``containment`` and |A∩B|."""
    if not len(a) or not len(b):
        return 0.0, 0
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / min(len(a), len(b)), shared


@dataclass(frozen=True, slots=True)
class CopyDecision:
    """What indexing one document decided. ``canonical_id``: the earlier copy it repeats, or None.
    ``repoint``: other documents whose ``duplicate_of`` changes, as (id, new duplicate_of) pairs:
    the members of its group when it is older than their canonical (the old canonical included),
    or the members of a group whose canonical was re-indexed."""

    doc_id: int
    canonical_id: int | None
    repoint: tuple[tuple[int, int | None], ...] = ()

    def writes(self) -> list[tuple[int, int | None]]:
        """Every (article id, duplicate_of) this decision sets, its own first."""
        return [(self.doc_id, self.canonical_id), *self.repoint]


@dataclass(slots=True)
class _Doc:
    """An indexed document: what a later candidate is checked against. Its shingles are held
    packed (``shingle_sets``: the detector holds a week of documents, and their shingles were
    the largest part of its memory): on their own (``base`` None), or, for a copy, against the
    packed shingles of the copy it matched most, ``base``, the same bytes object as that one's
    (so a group of copies holds its shared shingles once, as long as any of them needs them)."""

    source_id: int
    published_at: datetime
    packed: bytes
    base: bytes | None = None

    @property
    def shingles(self) -> np.ndarray:
        """The sorted distinct shingles, uint32."""
        if self.base is None:
            return shingle_sets.unpack(self.packed)
        return shingle_sets.unpack_against(self.packed, self.base)

    @property
    def standalone(self) -> bytes:
        """The packed shingles another document's are packed against: its own or its base
        (never a chain of bases)."""
        return self.packed if self.base is None else self.base

    @classmethod
    def packing(cls, source_id: int, published_at: datetime, shingles: np.ndarray,
                nearest: _Doc | None) -> _Doc:
        """A document holding ``shingles`` in the fewer bytes: packed on their own, or against
        ``nearest``'s (the matched copy sharing the most)."""
        packed = shingle_sets.pack(shingles)
        if nearest is not None:
            base = nearest.standalone
            against = shingle_sets.pack_against(shingles, shingle_sets.unpack(base))
            if len(against) < len(packed):
                return cls(source_id, published_at, against, base)
        return cls(source_id, published_at, packed)


@dataclass(slots=True)
class _Group:
    published_at: datetime  # the canonical's
    members: set[int] = field(default_factory=set)


class CopyDetector:
    """Incremental copy detection over a sliding window; see the module docstring.

    ``threshold`` is the containment a candidate needs to count as a copy (0.7: a trimmed or
    lightly edited copy keeps ≥ 0.85, different stories on one topic stay under 0.3)."""

    def __init__(self, *, threshold: float = 0.7, num_perm: int = NUM_PERM, shingle_size: int = SHINGLE_SIZE,
                 window: timedelta = timedelta(days=7), min_words: int = MIN_WORDS):
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.window = window
        self.min_words = min_words
        self.boilerplate = Boilerplate()
        self._lsh = BandIndex(threshold=CANDIDATE_JACCARD, num_perm=num_perm, weights=CANDIDATE_WEIGHTS)
        self._minhasher = _minhasher(num_perm)
        self._docs: dict[int, _Doc] = {}
        self._canonical_of: dict[int, int] = {}  # member → its group's canonical
        self._groups: dict[int, _Group] = {}  # canonical id → group (only groups with members)
        self._expiry: list[tuple[datetime, int]] = []  # heap of (published_at, id); stale entries skipped
        self._newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, doc_id: int, source_id: int, text: str, published_at: datetime) -> int | None:
        """Index a document; the canonical id it copies, or None (see ``index`` for re-pointing)."""
        return self.index(doc_id, source_id, text, published_at).canonical_id

    def index(self, doc_id: int, source_id: int, text: str, published_at: datetime, *,
              prepared: CopyText | None = None) -> CopyDecision:
        """Index a document (again, if its text changed) and decide what it copies. ``prepared``:
        ``prepare_copy_text(text)`` made beforehand (elsewhere), else it is made here."""
        changes: dict[int, int | None] = self._remove(doc_id) if doc_id in self._docs else {}
        if prepared is None or prepared.shingle_size != self.shingle_size:
            prepared = prepare_copy_text(text, self.shingle_size)
        keep = self.boilerplate.learn_and_keep_keys(source_id, doc_id, prepared.keys)
        kept = [i for i, stays in enumerate(keep) if stays]
        canonical: int | None = None
        if sum(prepared.words[i] for i in kept) >= self.min_words:
            shingles = prepared.shingles(kept).astype(np.uint32, copy=False)
            minhash = prepared.signature_of(kept, self.num_perm)
            if minhash is None:
                minhash = self._minhash(shingles)
            bands = self._lsh.band_keys(minhash)  # for the query and the insertion
            group, nearest = self._best_group(source_id, shingles, bands)
            if group is not None:
                canonical, moved = self._join(doc_id, published_at, group)
                changes.update(moved)
            self._store(doc_id, _Doc.packing(source_id, published_at, shingles, nearest), bands)
        changes.pop(doc_id, None)
        decision = CopyDecision(doc_id, canonical, tuple(changes.items()))
        if self._newest is None or published_at > self._newest:
            self._newest = published_at
        self.forget_before(self._newest - self.window)
        return decision

    def forget_before(self, moment: datetime) -> None:
        """Drop documents published before ``moment``; groups keep their canonical id while any
        member remains."""
        while self._expiry and self._expiry[0][0] < moment:
            published_at, doc_id = heapq.heappop(self._expiry)
            doc = self._docs.get(doc_id)
            if doc is None or doc.published_at != published_at:
                continue  # re-indexed or removed since
            del self._docs[doc_id]
            self._lsh.remove(doc_id)
            if not self._leave_group(doc_id) and doc_id in self._groups and not self._groups[doc_id].members:
                del self._groups[doc_id]

    def memory_counts(self) -> dict[str, int]:
        """What the detector holds, by count: flat over a long run (``bench/memory.py``, tests)."""
        return {"docs": len(self._docs), "lsh_docs": len(self._lsh), "lsh_entries": self._lsh.entries,
                "groups": len(self._groups), "copies": len(self._canonical_of), "expiry": len(self._expiry),
                "boilerplate_sources": self.boilerplate.sources, "boilerplate_units": self.boilerplate.units}

    def canonical_of(self, doc_id: int) -> int | None:
        """The canonical an indexed document copies, or None."""
        return self._canonical_of.get(doc_id)

    # internals

    def _minhash(self, hashes: np.ndarray) -> np.ndarray:
        return self._minhasher.signature(hashes)

    def _best_group(self, source_id: int, shingles: np.ndarray,
                    bands: np.ndarray) -> tuple[int | None, _Doc | None]:
        """The canonical of the group the document overlaps most (ties: the earliest group), and
        the matched document sharing the most shingles with it (its shingles are packed against
        that one's); (None, None) when nothing matches."""
        best: tuple[float, datetime, int] | None = None
        nearest: tuple[int, _Doc] | None = None
        for other_id in self._lsh.query_bands(bands):
            other = self._docs[other_id]
            if other.source_id == source_id:
                continue
            score, shared = _containment(shingles, other.shingles)
            if score < self.threshold:
                continue
            if nearest is None or shared > nearest[0]:
                nearest = (shared, other)
            canonical = self._canonical_of.get(other_id, other_id)
            when = self._groups[canonical].published_at if canonical in self._groups else other.published_at
            key = (-score, when, canonical)
            if best is None or key < best:
                best = key
        return (best[2], nearest[1]) if best and nearest else (None, None)

    def _join(self, doc_id: int, published_at: datetime, canonical: int) -> tuple[int | None, dict[int, int | None]]:
        """Put the document in ``canonical``'s group; returns what it copies and who moves."""
        group = self._groups.get(canonical)
        group_at = group.published_at if group else self._docs[canonical].published_at
        if group is None:
            group = self._groups[canonical] = _Group(group_at)
        if (group_at, canonical) <= (published_at, doc_id):
            group.members.add(doc_id)
            self._canonical_of[doc_id] = canonical
            return canonical, {}
        # the newcomer is older: it becomes the canonical, everyone else points to it
        del self._groups[canonical]
        members = group.members | ({canonical} if canonical in self._docs else set())
        for member in members:
            self._canonical_of[member] = doc_id
        self._groups[doc_id] = _Group(published_at, members)
        moved = {member: doc_id for member in group.members}
        moved[canonical] = doc_id
        return None, moved

    def _store(self, doc_id: int, doc: _Doc, bands: np.ndarray) -> None:
        if self._newest is not None and doc.published_at < self._newest - self.window:
            return  # already outside the window: looked up, not kept
        self._docs[doc_id] = doc
        self._lsh.insert_bands(doc_id, bands)
        heapq.heappush(self._expiry, (doc.published_at, doc_id))

    def _leave_group(self, doc_id: int) -> bool:
        """Take a copy out of its group (dropping a group left with no member and no indexed
        canonical); False when the document copies nothing."""
        canonical = self._canonical_of.pop(doc_id, None)
        if canonical is None:
            return False
        group = self._groups[canonical]
        group.members.discard(doc_id)
        if not group.members and canonical not in self._docs:
            del self._groups[canonical]
        return True

    def _remove(self, doc_id: int) -> dict[int, int | None]:
        """Take an indexed document out (to index it again). If it was a canonical, its earliest
        member takes over and the others are re-pointed: returned as (id → duplicate_of)."""
        del self._docs[doc_id]
        self._lsh.remove(doc_id)
        if self._leave_group(doc_id):
            return {}
        group = self._groups.pop(doc_id, None)
        if group is None or not group.members:
            return {}
        heir = min(group.members, key=lambda m: (self._docs[m].published_at, m))
        rest = group.members - {heir}
        del self._canonical_of[heir]
        for member in rest:
            self._canonical_of[member] = heir
        if rest:
            self._groups[heir] = _Group(self._docs[heir].published_at, rest)
        return {heir: None, **{member: heir for member in rest}}

