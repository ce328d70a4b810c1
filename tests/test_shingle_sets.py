"""Packed shingle sets read back exactly, and take fewer bytes than the uint32 arrays they hold."""

from __future__ import annotations

import numpy as np
import pytest

from newswire.enrich import shingle_sets


def sorted_distinct(rng: np.random.Generator, count: int) -> np.ndarray:
    return np.unique(rng.integers(0, 2**32, size=count, dtype=np.uint64).astype(np.uint32))


@pytest.mark.parametrize("count", [0, 1, 2, 7, 320, 4000])
def test_a_packed_set_reads_back_as_the_same_array(count):
    values = sorted_distinct(np.random.default_rng(count), count)
    packed = shingle_sets.pack(values)
    back = shingle_sets.unpack(packed)
    assert back.dtype == np.uint32 and np.array_equal(back, values)
    if count >= 100:  # 3 bytes and a bit a hash, and 36 bytes
        assert len(packed) == 3 * count + (count + 256 + 7) // 8 + 4 < 4 * count


def test_the_edges_of_the_top_byte_and_of_the_range_read_back():
    for values in (np.array([0, 1, 2**24 - 1, 2**24, 2**31, 2**32 - 1], dtype=np.uint32),
                   np.arange(2**32 - 600, 2**32, dtype=np.uint64).astype(np.uint32),  # one top byte
                   np.arange(0, 2**32, 2**24, dtype=np.uint64).astype(np.uint32)):  # one value a top byte
        assert np.array_equal(shingle_sets.unpack(shingle_sets.pack(values)), values)


def test_a_copy_packed_against_the_other_reads_back_and_is_small():
    rng = np.random.default_rng(3)
    base = sorted_distinct(rng, 330)
    trimmed = base[: 250]  # a copy cut short, with a few shingles of its own
    copy = np.union1d(trimmed[rng.random(250) < 0.97], sorted_distinct(rng, 12))
    packed = shingle_sets.pack_against(copy, base)
    back = shingle_sets.unpack_against(packed, shingle_sets.pack(base))
    assert back.dtype == np.uint32 and np.array_equal(back, copy)
    assert len(packed) < len(shingle_sets.pack(copy)) / 4
    # nothing in common, and everything
    for values in (sorted_distinct(rng, 50), base, np.zeros(0, dtype=np.uint32)):
        back = shingle_sets.unpack_against(shingle_sets.pack_against(values, base), shingle_sets.pack(base))
        assert np.array_equal(back, values)
