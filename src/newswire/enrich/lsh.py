"""A compact MinHash LSH index: the copy detector's candidates at about 0.5 KB a document.

datasketch's ``MinHashLSH`` keeps, for every document and every band, a bytes key, a set in
the band's table and a list entry to remove it by: with the copy detector's 42 bands, about
14 KB a document, the largest part of a long run's memory (a week of articles in the window).
This index keeps the same bands (datasketch's own choice of bands × rows for the threshold and
weights, ``minhash.optimal_params``), each band's rows folded into one 64-bit key, in two sorted numpy arrays (the key, and
the document's serial as 32 bits: 12 bytes per band per document). Insertions wait in a small
dict until there are enough to merge (a 32nd of the documents indexed, at least ``MERGE_MIN``:
a waiting entry costs about 170 bytes, a merged one 12); removals are filtered out of answers at
once and out of the arrays at the next compaction, so memory follows the documents indexed,
however long the run. A merge rewrites one array at a time, so it briefly holds one more copy
of the keys, not of both arrays.

A query's candidates are datasketch's, except where two different bands fold to one 64-bit key
(about 1 in 10^11 a query at 100,000 documents): an extra candidate, which the copy detector
checks by exact containment like any other.
"""

from __future__ import annotations

from typing import Hashable

import numpy as np

from newswire.enrich.minhash import optimal_params

MERGE_MIN = 1024  # insertions (and removals) held before the arrays are rewritten ...
MERGE_SHARE = 32  # ... or this fraction of the documents indexed, when more
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, a bijection on 64-bit values (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


class BandIndex:
    """Documents by their MinHash bands: ``insert``, ``query`` (the documents sharing at least
    one band), ``remove``. Keys are any hashable (the copy detector's are article ids)."""

    def __init__(self, *, threshold: float, num_perm: int, weights: tuple[float, float]):
        self.bands, self.rows = optimal_params(threshold, num_perm, weights[0], weights[1])
        self.num_perm = num_perm
        self._salt = (np.arange(self.bands, dtype=np.uint64) + np.uint64(1)) * _GOLDEN
        self._keys = np.zeros(0, dtype=np.uint64)  # sorted
        self._serials = np.zeros(0, dtype=np.uint32)  # the document each key is of, by serial
        self._recent: dict[int, list[int]] = {}  # key → serials inserted since the last merge
        self._pending = 0  # insertions and removals since the last merge
        self._serial_of: dict[Hashable, int] = {}
        self._doc_of: dict[int, Hashable] = {}  # serial → document, for the live ones only
        self._next = 0

    def __len__(self) -> int:
        return len(self._doc_of)

    def __contains__(self, doc: Hashable) -> bool:
        return doc in self._serial_of

    @property
    def entries(self) -> int:
        """Band entries held, live and not yet compacted away: what the memory follows."""
        return len(self._keys) + sum(map(len, self._recent.values()))

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
        if doc in self._serial_of:
            raise ValueError("The given key already exists")
        serial = self._next
        if serial > 0xFFFFFFFF:
            raise OverflowError("BandIndex: over 2**32 insertions in one index")
        self._next += 1
        self._serial_of[doc] = serial
        self._doc_of[serial] = doc
        recent = self._recent
        for key in self.band_keys(hashvalues).tolist():
            found = recent.get(key)
            if found is None:
                recent[key] = [serial]
            else:
                found.append(serial)
        self._note_change()

    def remove(self, doc: Hashable) -> None:
        serial = self._serial_of.pop(doc, None)
        if serial is None:
            raise ValueError(f"The given key does not exist: {doc!r}")
        del self._doc_of[serial]
        self._note_change()

    def query(self, hashvalues: np.ndarray) -> set[Hashable]:
        """The documents sharing at least one band with ``hashvalues``."""
        keys = self.band_keys(hashvalues)
        serials: set[int] = set()
        if len(self._keys):
            low = np.searchsorted(self._keys, keys, "left")
            high = np.searchsorted(self._keys, keys, "right")
            for start, end in zip(low[high > low].tolist(), high[high > low].tolist()):
                serials.update(self._serials[start:end].tolist())
        if self._recent:
            recent = self._recent
            for key in keys.tolist():
                found = recent.get(key)
                if found:
                    serials.update(found)
        doc_of = self._doc_of
        return {doc_of[serial] for serial in serials if serial in doc_of}

    def _note_change(self) -> None:
        self._pending += 1
        if self._pending >= max(MERGE_MIN, len(self._doc_of) // MERGE_SHARE):
            self._merge()

    def _merge(self) -> None:
        """Drop the removed documents' entries and merge the recent insertions into the arrays."""
        if len(self._serials):
            live = np.fromiter(self._doc_of, dtype=np.uint32, count=len(self._doc_of))
            keep = (np.isin(self._serials, live, kind="table") if len(live)
                    else np.zeros(len(self._serials), dtype=bool))
            del live
            if not keep.all():  # one array at a time: the old one goes before the next is copied
                self._keys = self._keys[keep]
                self._serials = self._serials[keep]
            del keep
        new_keys: list[int] = []
        new_serials: list[int] = []
        doc_of = self._doc_of
        for key, found in self._recent.items():
            for serial in found:
                if serial in doc_of:
                    new_keys.append(key)
                    new_serials.append(serial)
        self._recent = {}
        self._pending = 0
        if new_keys:
            added_keys = np.array(new_keys, dtype=np.uint64)
            del new_keys
            order = np.argsort(added_keys, kind="stable")
            added_keys = added_keys[order]
            added_serials = np.array(new_serials, dtype=np.uint32)[order]
            del new_serials, order
            at = np.searchsorted(self._keys, added_keys, "right")
            self._keys = np.insert(self._keys, at, added_keys)
            del added_keys
            self._serials = np.insert(self._serials, at, added_serials)
