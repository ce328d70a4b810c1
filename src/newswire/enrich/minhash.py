"""MinHash signatures and LSH band parameters, bit for bit datasketch's, without importing it.

datasketch's package imports all of its sketches when any one is imported, and with them scipy
(``MinHashLSH`` integrates its error probabilities with ``scipy.integrate.quad``): about 60 MB
of each process's memory, a third of ``newswire run``'s at start, for two small functions.
Copy detection needs only these two, so here they are, on numpy alone:

- ``MinHasher.signature``: datasketch 2's default ``MinHash`` ("affine32": each 32-bit input
  hash pre-mixed by the MurmurHash3 finaliser, then ``a·h + b`` mod 2**32 with odd ``a``,
  permutations drawn from ``numpy.random.RandomState(seed)`` as datasketch draws them), the
  same values for the same seed and input (``tests/test_enrichment_memory.py`` compares them);
- ``optimal_params``: datasketch's choice of bands × rows for a Jaccard threshold and weights.
  Its integrands are polynomials of degree bands × rows ≤ ``num_perm``, which Gauss–Legendre
  quadrature with ``num_perm // 2 + 1`` nodes integrates exactly (datasketch's adaptive
  quadrature agrees to about 1e-14), so the same pair comes out.

datasketch stays the reference the tests check these against.
"""

from __future__ import annotations

import numpy as np

_EMPTY = np.uint32(0xFFFFFFFF)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (uint32 arithmetic wraps, as intended)."""
    s1, m1, s2, m2, s3 = _FMIX32
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    return hv ^ (hv >> s3)


class MinHasher:
    """``num_perm`` permutations drawn from ``seed``; ``signature`` of a set of 32-bit hashes."""

    def __init__(self, num_perm: int = 128, seed: int = 1):
        gen = np.random.RandomState(seed)
        self.num_perm = num_perm
        self._a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self._b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """The MinHash values (uint32, ``num_perm`` of them) of ``hashes``: datasketch's
        ``MinHash(num_perm, seed, hashfunc=identity)`` after ``update_batch(hashes)``."""
        values = np.full(self.num_perm, _EMPTY, dtype=np.uint32)
        if len(hashes):
            hv = _fmix32(np.asarray(hashes, dtype=np.uint32).reshape(-1, 1))
            values = np.minimum(values, (hv * self._a + self._b).min(axis=0))
        return values


def optimal_params(threshold: float, num_perm: int, false_positive_weight: float,
                   false_negative_weight: float) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false positive and negative probabilities, as
    ``datasketch.lsh._optimal_param`` chooses them."""
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def integral(probability, low: float, high: float) -> float:
        half = (high - low) / 2
        return half * float(np.dot(weights, probability(half * nodes + (high + low) / 2)))

    min_error = float("inf")
    opt = (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, int(num_perm / b) + 1):
            fp = integral(lambda s: 1 - (1 - s ** float(r)) ** float(b), 0.0, threshold)
            fn = integral(lambda s: 1 - (1 - (1 - s ** float(r)) ** float(b)), threshold, 1.0)
            error = fp * false_positive_weight + fn * false_negative_weight
            if error < min_error:
                min_error = error
                opt = (b, r)
    return opt
