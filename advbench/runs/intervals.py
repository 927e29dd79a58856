"""Intervals and tests for AUCs averaged over seeds: a seeded two-level bootstrap.

A table cell is the mean over seeds of an AUC computed on a finite set of images, so its
uncertainty has two sources: the seeds (a detector's own randomness) and the images (the test
and anomaly sets are samples). One bootstrap replicate draws both:

1. the seeds: ``len(seeds)`` draws with replacement from the table's seeds (``seed_counts``);
2. the images: each image set (``pool``: a normal test set, an attack's images) is drawn with
   replacement from its images (``image_counts``), the same draw for every seed that uses those
   images. A set that is the same for every seed (the official test stop signs, an attack set)
   is drawn once per replicate and applied to every seed, since the mean over seeds is measured
   on that one set (seeds and images are crossed: Owen's "pigeonhole" bootstrap, Ann. Appl. Stat.
   2007); sets drawn per seed (held-out normals, protocol 1's images) draw each seed's rows from
   the union of the seeds' rows, which resamples within each seed.

Each seed's AUC is then computed on the drawn images (a drawn image counts as many times as it
was drawn: ``weighted_auc``, ``weighted_paired_auc``) and the replicate is the mean over the
drawn seeds (``mean_over_seeds``). A detector whose scores do not depend on the seed gets the same
AUC for every seed, so for it only the images vary. The interval is the replicates' percentile
interval (``interval``).

Comparisons are paired: two detectors' replicates share every draw (seeds and images), so their
difference is bootstrapped on the same images and seeds. ``worse_p_value`` is the one-sided
bootstrap p-value that a detector's mean is below the best one's, and ``holm`` Holm's step-down
adjustment (Holm, "A simple sequentially rejective multiple test procedure", Scand. J. Stat. 1979)
over a column.

Too few replicates cannot support either: a percentile interval needs an order statistic beyond
each end (``resamples_for_interval``: ``(B + 1) (1 - LEVEL) / 2 >= 1``, 39 at 95%; fewer give an
interval that may exclude the mean), and no p-value of ``B`` replicates is below ``1 / (B + 1)``
(``p_value``), which Holm's correction multiplies by the column's number of comparisons, so a
column of ``m`` comparisons can find a detector significantly worse at ``ALPHA`` only from
``resamples_for_test(m)`` replicates on (20 for one comparison at 5%; with fewer, every cell
is bold). Both minimums are computed from ``LEVEL``, ``ALPHA`` and the formulas the code uses.
DeLong's test for correlated AUCs (DeLong et al., Biometrics 1988) is not used: it
covers the image sampling of one unpaired AUC only, whereas the seeds vary as much as the images
here (a deep detector's AUC moves by up to 10 points between seeds) and the paired AUC is not an
ROC AUC of two samples; the bootstrap treats the three AUCs and both sources alike.

Every draw comes from ``numpy.random.default_rng`` seeded by the bootstrap's ``seed`` and the
pool's name (``Bootstrap.rng``), so a cell's numbers do not depend on which other cells a table
has, and the same seed gives the same numbers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

#: Resamples and seed of ``advbench report`` unless given.
RESAMPLES = 1000
SEED = 0
#: The intervals' coverage and the tests' level.
LEVEL = 0.95
ALPHA = 0.05
#: What a table's footnote says of the test (``advbench.reports`` adds the resamples and seed).
METHOD = "two-level bootstrap over seeds and images (percentile interval)"
TEST = (
    "paired two-level bootstrap test (one-sided, same seeds and images as the column's best), "
    "Holm's correction over the column"
)


@dataclass(frozen=True)
class Bootstrap:
    """The resampling plan: ``resamples`` replicates drawn from ``seed`` (see the module docstring)."""

    resamples: int = RESAMPLES
    seed: int = SEED

    def rng(self, key: str) -> np.random.Generator:
        """The generator of one named draw (``seeds`` or a pool's name), independent of the others."""
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return np.random.default_rng([self.seed, *np.frombuffer(digest, dtype=np.uint32).tolist()])

    def counts(self, key: str, n: int) -> np.ndarray:
        """``(resamples, n)``: how often each of ``n`` items is drawn in ``n`` draws with replacement."""
        draws = self.rng(key).integers(0, n, size=(self.resamples, n))
        offsets = np.arange(self.resamples)[:, None] * n
        return np.bincount((draws + offsets).ravel(), minlength=self.resamples * n).reshape(self.resamples, n)

    def seed_counts(self, seeds: list[int]) -> np.ndarray:
        """``(resamples, len(seeds))``: how often each of the table's seeds is drawn."""
        return self.counts("seeds", len(seeds))

    def image_counts(self, pool: str, universe: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(resamples, len(rows))``: how often each of ``rows`` is drawn when the pool's images
        (``universe``, the sorted rows of every seed) are drawn with replacement."""
        counts = self.counts(f"pool:{pool}", len(universe))
        return counts[:, np.searchsorted(universe, rows)]


def weighted_auc(negatives, positives, neg_weights, pos_weights) -> np.ndarray:
    """ROC AUC of ``positives`` against ``negatives`` (ties count one half) for each row of weights
    (``(B, n_negatives)``, ``(B, n_positives)``): an image of weight k counts k times."""
    negatives, positives = np.asarray(negatives, dtype=float), np.asarray(positives, dtype=float)
    order = np.argsort(negatives, kind="stable")
    ranked = negatives[order]
    low, high = np.searchsorted(ranked, positives, "left"), np.searchsorted(ranked, positives, "right")
    neg_weights = np.asarray(neg_weights, dtype=float)[:, order]
    pos_weights = np.asarray(pos_weights, dtype=float)
    cumulative = np.zeros((len(neg_weights), len(negatives) + 1))
    np.cumsum(neg_weights, axis=1, out=cumulative[:, 1:])
    below = cumulative[:, low] + 0.5 * (cumulative[:, high] - cumulative[:, low])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos_weights * below).sum(axis=1) / (neg_weights.sum(axis=1) * pos_weights.sum(axis=1))


def weighted_paired_auc(adversarial, own_sources, weights) -> np.ndarray:
    """The paired AUC (share of ``adversarial[i] > own_sources[i]``, ties one half) for each row of
    ``weights`` (``(B, n)``, one weight per pair)."""
    adversarial, own_sources = np.asarray(adversarial, dtype=float), np.asarray(own_sources, dtype=float)
    above = (adversarial > own_sources) + 0.5 * (adversarial == own_sources)
    weights = np.asarray(weights, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return weights @ above / weights.sum(axis=1)


def mean_over_seeds(per_seed: dict[int, np.ndarray], seed_counts: np.ndarray, seeds: list[int]) -> np.ndarray:
    """Each replicate's mean over its drawn seeds of ``per_seed`` (``{seed: (B,)}``); a cell missing
    some of the table's ``seeds`` averages over those it has (NaN where none of them was drawn)."""
    columns = [seeds.index(seed) for seed in per_seed]
    counts = seed_counts[:, columns].astype(float)
    values = np.stack(list(per_seed.values()), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (counts * values).sum(axis=1) / counts.sum(axis=1)


def interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of ``replicates`` (NaN replicates left out)."""
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


def p_value(count: int, resamples: int) -> float:
    """The bootstrap p-value of ``count`` replicates out of ``resamples`` at least as extreme as the
    null: ``(1 + count) / (1 + resamples)`` (Davison and Hinkley, "Bootstrap Methods and their
    Application", 1997, eq. 4.11)."""
    return (1 + count) / (1 + resamples)


def worse_p_value(best: np.ndarray, other: np.ndarray) -> float:
    """One-sided bootstrap p-value (``p_value``) of "``other``'s mean is below ``best``'s" from paired
    replicates, the count being ``#{best* - other* <= 0}``, NaN replicates left out."""
    difference = np.asarray(best) - np.asarray(other)
    difference = difference[~np.isnan(difference)]
    return float(p_value(np.count_nonzero(difference <= 0), len(difference)))


def resamples_for_interval(level: float = LEVEL) -> int:
    """The fewest resamples whose percentile interval at ``level`` has an order statistic for each
    end: ``(B + 1) (1 - level) / 2 >= 1`` (Davison and Hinkley 1997, section 5.2.1; 39 at 95%),
    in exact arithmetic on the level as written."""
    tail = (1 - Fraction(str(level))) / 2
    return max(1, math.ceil(1 / tail) - 1)


def resamples_for_test(comparisons: int, alpha: float = ALPHA) -> int:
    """The fewest resamples with which one of a column's ``comparisons`` tests can be significant at
    ``alpha``: the smallest p-value (``p_value`` of a count of 0), Holm-adjusted over the column,
    below ``alpha`` in the very arithmetic that decides the bold marks; 1 when there is nothing to
    compare. Counted up from the closed form's estimate, so that rounding cannot move it by one."""
    if comparisons < 1:
        return 1

    def significant(resamples: int) -> bool:
        return holm([p_value(0, resamples)] * comparisons)[0] < alpha

    resamples = max(1, math.floor(comparisons / alpha) - 1)
    while not significant(resamples):
        resamples += 1
    return resamples


def holm(p_values: list[float]) -> list[float]:
    """Holm's adjusted p-values (step-down, monotone, capped at 1), in the order given."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order])
    out = np.empty_like(p)
    out[order] = np.minimum(adjusted, 1.0)
    return out.tolist()
