"""A compact MinHash LSH index: the copy detector's candidates at about 0.5 KB a document.

datasketch's ``MinHashLSH`` keeps, for every document and every band, a bytes key, a set in
the band's table and a list entry to remove it by: with the copy detector's 42 bands, about
14 KB a document, the largest part of a long run's memory (a week of articles in the window).
This index keeps the same bands (datasketch's own choice of bands × rows for the threshold and
weights, ``minhash.optimal_params``), each band's rows folded into one 64-bit key, in sorted
numpy arrays (the key, and the document's serial as 32 bits: 12 bytes per band per document).

Entries pass through three stages, so that both memory and the cost of an insertion stay small:
the last few documents' (at most ``NEWEST_MAX``) wait in a dict (about 170 bytes an entry);
then they are merged into a young run of arrays, small, so rewriting it costs little; the young
run is merged into the old one, which holds most entries, when a 32nd of the documents indexed
(at least ``MERGE_MIN``) have come or gone since the last such merge. When all waited in the
dict, it held up to a 32nd of the week's entries at 170 bytes: some 20 MB at 100,000 documents.
Removals are filtered out of answers at once and out of the arrays at the old run's merge, so
memory follows the documents indexed, however long the run. A merge rewrites one array at a
time, so it briefly holds one more copy of the keys, not of both arrays.

A query's candidates are datasketch's, except where two different bands fold to one 64-bit key
(about 1 in 10^11 a query at 100,000 documents): an extra candidate, which the copy detector
checks by exact containment like any other.
"""

from __future__ import annotations

from typing import Hashable

import numpy as np

from newswire.enrich.minhash import optimal_params

MERGE_MIN = 1024  # insertions (and removals) held before the old run is rewritten ...
MERGE_SHARE = 32  # ... or this fraction of the documents indexed, when more
NEWEST_MAX = 64  # documents whose entries wait in a dict before they join the young run
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GONE = object()  # a removed document's place in ``BandIndex._doc_of``


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, a bijection on 64-bit values (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


class _Run:
    """Band entries sorted by key: the keys (uint64) and, beside each, its document's serial
    (uint32)."""

    __slots__ = ("keys", "serials")

    def __init__(self, keys: np.ndarray | None = None, serials: np.ndarray | None = None) -> None:
        self.keys = np.zeros(0, dtype=np.uint64) if keys is None else keys
        self.serials = np.zeros(0, dtype=np.uint32) if serials is None else serials

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, keys: np.ndarray) -> list[int]:
        """The serials of the entries under any of ``keys``."""
        if not len(self.keys):
            return []
        low = np.searchsorted(self.keys, keys, "left")
        high = np.searchsorted(self.keys, keys, "right")
        found = high > low
        if not found.any():
            return []
        return np.concatenate([self.serials[start:end] for start, end in
                               zip(low[found].tolist(), high[found].tolist())]).tolist()

    def keep(self, live: np.ndarray) -> None:
        """Keep only the entries where ``live`` (a bool per entry) is set; one array at a time,
        the old one let go before the next is copied."""
        if not live.all():
            self.keys = self.keys[live]
            self.serials = self.serials[live]

    def add(self, keys: np.ndarray, serials: np.ndarray) -> None:
        """Merge entries in (``keys`` in any order); an equal key's older entries stay first."""
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")
        keys, serials = keys[order], serials[order]
        del order
        at = np.searchsorted(self.keys, keys, "right")
        self.keys = np.insert(self.keys, at, keys)
        del keys
        self.serials = np.insert(self.serials, at, serials)


class BandIndex:
    """Documents by their MinHash bands: ``insert``, ``query`` (the documents sharing at least
    one band), ``remove``. Keys are any hashable (the copy detector's are article ids)."""

    def __init__(self, *, threshold: float, num_perm: int, weights: tuple[float, float]):
        self.bands, self.rows = optimal_params(threshold, num_perm, weights[0], weights[1])
        self.num_perm = num_perm
        self._salt = (np.arange(self.bands, dtype=np.uint64) + np.uint64(1)) * _GOLDEN
        self._old = _Run()  # most entries
        self._young = _Run()  # the entries of the documents inserted since the old run's merge ...
        self._newest: dict[int, list[int]] = {}  # ... but the last few's: key → serials
        self._newest_docs = 0  # documents whose entries are in ``_newest``
        self._pending = 0  # insertions and removals since the old run's merge
        self._serial_of: dict[Hashable, int] = {}
        # serial → document, from serial ``_first`` on (``_GONE`` once removed): documents come
        # and go in about the same order, so this list spans about the documents indexed, at 8
        # bytes a document where a dict took some 60
        self._doc_of: list = []
        self._first = 0
        self._next = 0

    def __len__(self) -> int:
        return len(self._serial_of)

    def __contains__(self, doc: Hashable) -> bool:
        return doc in self._serial_of

    @property
    def entries(self) -> int:
        """Band entries held, live and not yet compacted away: what the memory follows."""
        return len(self._old) + len(self._young) + sum(map(len, self._newest.values()))

    def band_keys(self, hashvalues: np.ndarray) -> np.ndarray:
        """One 64-bit key per band: the band's number and its rows' values, folded."""
        if len(hashvalues) != self.num_perm:
            raise ValueError(f"expected {self.num_perm} hash values, got {len(hashvalues)}")
        rows = np.asarray(hashvalues[: self.bands * self.rows], dtype=np.uint64).reshape(self.bands, self.rows)
        key = self._salt
        for row in range(self.rows):
            key = _mix(key ^ rows[:, row])
        return key

    def insert(self, doc: Hashable, hashvalues: np.ndarray) -> None:
        self.insert_bands(doc, self.band_keys(hashvalues))

    def insert_bands(self, doc: Hashable, bands: np.ndarray) -> None:
        """``insert`` for the document's ``band_keys``, taken once for its query and its insertion."""
        if doc in self._serial_of:
            raise ValueError("The given key already exists")
        serial = self._next
        if serial > 0xFFFFFFFF:
            raise OverflowError("BandIndex: over 2**32 insertions in one index")
        keys = bands.tolist()
        self._next += 1
        self._serial_of[doc] = serial
        self._doc_of.append(doc)
        newest = self._newest
        for key in keys:
            found = newest.get(key)
            if found is None:
                newest[key] = [serial]
            else:
                found.append(serial)
        self._newest_docs += 1
        if self._newest_docs >= NEWEST_MAX:
            self._to_young()
        self._note_change()

    def remove(self, doc: Hashable) -> None:
        serial = self._serial_of.pop(doc, None)
        if serial is None:
            raise ValueError(f"The given key does not exist: {doc!r}")
        self._doc_of[serial - self._first] = _GONE
        self._note_change()

    def query(self, hashvalues: np.ndarray) -> set[Hashable]:
        """The documents sharing at least one band with ``hashvalues``."""
        return self.query_bands(self.band_keys(hashvalues))

    def query_bands(self, keys: np.ndarray) -> set[Hashable]:
        """``query`` for ``band_keys``."""
        serials = set(self._old.find(keys))
        serials.update(self._young.find(keys))
        if self._newest:
            newest = self._newest
            for key in keys.tolist():
                found = newest.get(key)
                if found:
                    serials.update(found)
        doc_of, first = self._doc_of, self._first
        docs = {doc_of[serial - first] for serial in serials if serial >= first}
        docs.discard(_GONE)
        return docs

    def _note_change(self) -> None:
        self._pending += 1
        if self._pending >= max(MERGE_MIN, len(self._serial_of) // MERGE_SHARE):
            self._merge()

    def _to_young(self) -> None:
        """Move the newest documents' entries into the young run."""
        keys: list[int] = []
        serials: list[int] = []
        for key, found in self._newest.items():
            keys.extend([key] * len(found))
            serials.extend(found)
        self._newest = {}
        self._newest_docs = 0
        self._young.add(np.array(keys, dtype=np.uint64), np.array(serials, dtype=np.uint32))

    def _merge(self) -> None:
        """Drop the removed documents' entries and merge the young run into the old one."""
        self._to_young()
        self._trim()
        old, young = self._old, self._young
        old.keep(self._live(old.serials))
        young.keep(self._live(young.serials))
        old.add(young.keys, young.serials)
        self._young = _Run()
        self._pending = 0

    def _trim(self) -> None:
        """Let go of the removed documents at the front of ``_doc_of``."""
        doc_of = self._doc_of
        gone = 0
        while gone < len(doc_of) and doc_of[gone] is _GONE:
            gone += 1
        if gone:
            del doc_of[:gone]
            self._first += gone

    def _live(self, serials: np.ndarray) -> np.ndarray:
        """Whether each of ``serials`` is a document still indexed."""
        live = np.fromiter((doc is not _GONE for doc in self._doc_of), dtype=bool, count=len(self._doc_of))
        at = serials.astype(np.int64) - self._first
        found = at >= 0
        found[found] = live[at[found]]
        return found
