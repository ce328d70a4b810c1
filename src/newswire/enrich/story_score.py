"""The calibrated score story clustering joins on: P(article belongs to story | features).

A logistic regression over features that mean the same for a headline and for a full text
(Miranda et al., EMNLP 2018, learn such a merge score too). ``bench/stories.py --fit`` refits
the weights on labelled news and prints them; the values below come from that fit (see the
bench for the data and the split that checks them on stories left out of the fit).
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass


@dataclass(frozen=True, slots=True)
class Features:
    cosine: float  # TF-IDF cosine of the article with the story's centroid
    title_cosine: float  # the same, headline words only
    names: float  # IDF-weighted share of the article's rare names the story has
    log_terms: float  # log(1 + distinct terms of the article): long texts share generic words
    log_size: float  # log(1 + the story's articles)
    days: float  # time since the story's latest article

    def row(self) -> tuple[float, ...]:
        """The regression's inputs: the features and the length interactions."""
        c, t, n, length, size, days = astuple(self)
        return (c, t, length, size, days, c * length, t * length)


@dataclass(frozen=True, slots=True)
class Weights:
    bias: float
    coefficients: tuple[float, ...]


WEIGHTS = Weights(1.80, (5.96, 3.83, -0.78, -0.29, -16.29, 4.71, -1.96))
JOIN_PROBABILITY = 0.5
MIN_COSINE = 0.12  # and never on less than this cosine with the centroid: no joining on a name alone
MERGE_PROBABILITY = 0.7  # a second story this probable for the article ...
MERGE_CENTROID_COSINE = 0.4  # ... whose centroid agrees this much with the first is the same story


def probability(features: Features, weights: Weights = WEIGHTS) -> float:
    z = weights.bias + sum(w * x for w, x in zip(weights.coefficients, features.row()))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
