"""A document's shingles held compactly, and read back exactly: the copy detector's largest part.

The copy detector keeps, for each document of its window (a week, some 100,000 documents at a
newswire's volume), the sorted distinct 32-bit hashes of its shingles, about 320 of them: 1.3 KB
a document as a uint32 array. Copies are confirmed by containment over these exact sets, so
they are held without loss, in one of two ways:

- ``pack``: the hashes' low 24 bits as 3 bytes each, and their top 8 bits, which only grow along
  the sorted array, as a bitmap with one bit set per hash (at its top byte plus its rank): an
  Elias–Fano code with byte-aligned low parts, 3 bytes and 1 bit a hash plus 36 bytes (1.0 KB for
  320 hashes). Hashes are uniform, so no exact code of a set this size does much better;
- ``pack_against``: a copy's shingles as those of the copy it matched (``base``, that one's
  packed bytes: the same object, shared, not a copy of it) it has, one bit per shingle of the
  base, followed by its own others, packed. A syndicated copy has nearly all of its shingles in
  the other copy: some 0.1 KB instead of 1.0.

``unpack`` and ``unpack_against`` give back the very array that was packed.
"""

from __future__ import annotations

import numpy as np

_HEADER = np.dtype("<u4")  # the number of hashes
_BUCKETS = 256  # values of the top byte


def pack(values: np.ndarray) -> bytes:
    """Sorted distinct uint32 ``values`` as bytes (see the module docstring)."""
    values = np.asarray(values, dtype=np.uint32)
    count = len(values)
    parts = values.astype("<u4").view(np.uint8).reshape(count, 4)  # little-endian: the top byte last
    bits = np.zeros(count + _BUCKETS, dtype=bool)
    bits[parts[:, 3].astype(np.int64) + np.arange(count)] = True
    return (np.array([count], dtype=_HEADER).tobytes() + parts[:, :3].tobytes()
            + np.packbits(bits, bitorder="little").tobytes())


def unpack(packed: bytes) -> np.ndarray:
    """The sorted uint32 array ``pack`` was given."""
    count = int(np.frombuffer(packed, dtype=_HEADER, count=1)[0])
    start = _HEADER.itemsize
    parts = np.empty((count, 4), dtype=np.uint8)
    parts[:, :3] = np.frombuffer(packed, dtype=np.uint8, count=3 * count, offset=start).reshape(count, 3)
    bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8, offset=start + 3 * count), bitorder="little")
    parts[:, 3] = np.flatnonzero(bits)[:count] - np.arange(count)
    return parts.view("<u4").reshape(count).astype(np.uint32)


def pack_against(values: np.ndarray, base_values: np.ndarray) -> bytes:
    """Sorted distinct uint32 ``values`` as which of ``base_values`` (sorted distinct) they
    hold, a bit each, and the others, ``pack``ed: read back with ``unpack_against``."""
    held = np.isin(base_values, values, assume_unique=True)
    others = np.setdiff1d(values, base_values[held], assume_unique=True)
    return np.packbits(held, bitorder="little").tobytes() + pack(others)


def unpack_against(packed: bytes, base: bytes) -> np.ndarray:
    """The sorted uint32 array ``pack_against`` was given, with ``base`` the ``pack`` of its
    ``base_values``."""
    base_values = unpack(base)
    mask_bytes = (len(base_values) + 7) // 8
    held = np.unpackbits(np.frombuffer(packed, dtype=np.uint8, count=mask_bytes), bitorder="little",
                         count=len(base_values)).astype(bool)
    values = np.concatenate([base_values[held], unpack(memoryview(packed)[mask_bytes:])])
    values.sort()
    return values
