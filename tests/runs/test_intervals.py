"""The two-level bootstrap of ``advbench.runs.intervals`` against cases computed independently: the
weighted AUC against scikit-learn's, the replicates' distribution against an exact enumeration of
every resample, an images-only interval against ``scipy.stats.bootstrap``, Holm's adjustment and
the test's p-value by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from advbench.runs import intervals


def test_weighted_auc_is_scikit_learns_with_sample_weights():
    rng = np.random.default_rng(0)
    negatives, positives = rng.integers(0, 6, 40).astype(float), rng.integers(2, 9, 30).astype(float)  # many ties
    neg_weights, pos_weights = rng.integers(0, 4, (5, 40)), rng.integers(0, 4, (5, 30))
    found = intervals.weighted_auc(negatives, positives, neg_weights, pos_weights)
    labels = np.r_[np.zeros(40), np.ones(30)]
    for row in range(5):
        weights = np.r_[neg_weights[row], pos_weights[row]]
        expected = roc_auc_score(labels, np.r_[negatives, positives], sample_weight=weights)
        assert found[row] == pytest.approx(expected, abs=1e-12)


def test_weighted_paired_auc_counts_each_pair_as_often_as_drawn():
    adversarial, own = np.array([3.0, 1.0, 2.0, 5.0]), np.array([1.0, 2.0, 2.0, 4.0])  # above, below, tie, above
    weights = np.array([[1, 1, 1, 1], [2, 0, 0, 0], [0, 3, 1, 0]])
    assert intervals.weighted_paired_auc(adversarial, own, weights).tolist() == [2.5 / 4, 1.0, 0.5 / 4]


def _exact_distribution(scores: dict[int, tuple]) -> dict[float, float]:
    """Every equally likely resample of the crossed design, enumerated: two seeds drawn from the two,
    the two negatives and the two positives drawn once and used for both drawn seeds."""
    probabilities: dict[float, float] = {}
    draws = list(itertools.product(range(2), repeat=2))
    for seed_draw, neg_draw, pos_draw in itertools.product(draws, draws, draws):
        aucs = []
        for seed in seed_draw:
            negatives, positives = scores[seed]
            labels = np.r_[np.zeros(2), np.ones(2)]
            values = np.r_[negatives[list(neg_draw)], positives[list(pos_draw)]]
            aucs.append(roc_auc_score(labels, values))
        key = round(float(np.mean(aucs)), 10)
        probabilities[key] = probabilities.get(key, 0.0) + 1 / 64
    return probabilities


def test_two_level_replicates_follow_the_exact_bootstrap_distribution():
    scores = {0: (np.array([0.1, 0.5]), np.array([0.4, 0.9])), 1: (np.array([0.2, 0.6]), np.array([0.3, 0.7]))}
    exact = _exact_distribution(scores)
    bootstrap = intervals.Bootstrap(resamples=40_000, seed=3)
    rows = np.arange(2)
    per_seed = {
        seed: intervals.weighted_auc(
            negatives,
            positives,
            bootstrap.image_counts("normal", rows, rows),
            bootstrap.image_counts("attack", rows, rows),
        )
        for seed, (negatives, positives) in scores.items()
    }
    replicates = intervals.mean_over_seeds(per_seed, bootstrap.seed_counts([0, 1]), [0, 1])
    found = {value: np.mean(np.isclose(replicates, value)) for value in exact}
    assert sum(found.values()) == pytest.approx(1.0)
    for value, probability in exact.items():
        assert found[value] == pytest.approx(probability, abs=0.01), value


def test_images_only_interval_matches_scipy_bootstrap():
    rng = np.random.default_rng(1)
    adversarial, own = rng.normal(0.3, 1.0, 200), rng.normal(0.0, 1.0, 200)
    bootstrap = intervals.Bootstrap(resamples=20_000, seed=0)
    rows = np.arange(200)
    replicates = intervals.weighted_paired_auc(adversarial, own, bootstrap.image_counts("pairs", rows, rows))
    low, high = intervals.interval(replicates)
    above = (adversarial > own) + 0.5 * (adversarial == own)
    reference = stats.bootstrap(
        (above,), np.mean, n_resamples=20_000, method="percentile", random_state=np.random.default_rng(2)
    ).confidence_interval
    assert low == pytest.approx(reference.low, abs=0.01) and high == pytest.approx(reference.high, abs=0.01)


def test_draws_depend_on_seed_and_pool_only():
    rows = np.arange(50)
    a, b = intervals.Bootstrap(100, seed=5), intervals.Bootstrap(100, seed=5)
    assert np.array_equal(a.image_counts("x", rows, rows[10:20]), b.image_counts("x", rows, rows)[:, 10:20])
    assert not np.array_equal(a.image_counts("x", rows, rows), a.image_counts("y", rows, rows))
    assert not np.array_equal(
        a.image_counts("x", rows, rows), intervals.Bootstrap(100, 6).image_counts("x", rows, rows)
    )
    assert (a.counts("x", 50).sum(axis=1) == 50).all()


def test_holm_by_hand():
    # sorted p: 0.01, 0.02, 0.03, 0.5 -> 4 * 0.01, 3 * 0.02, max(0.06, 2 * 0.03), max(0.06, 1 * 0.5)
    assert intervals.holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert intervals.holm([0.4, 0.9]) == pytest.approx([0.8, 0.9])
    assert intervals.holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])


def test_worse_p_value_counts_replicates_where_the_best_is_not_ahead():
    best = np.array([0.9, 0.8, 0.7, 0.6])
    assert intervals.worse_p_value(best, np.array([0.5, 0.9, 0.7, 0.1])) == pytest.approx((1 + 2) / 5)
    assert intervals.worse_p_value(best, best - 0.1) == pytest.approx(1 / 5)


def test_mean_over_seeds_uses_only_the_seeds_a_cell_has():
    counts = np.array([[2, 0, 1], [0, 3, 0]])
    found = intervals.mean_over_seeds({0: np.array([0.6, 0.6]), 2: np.array([0.9, 0.9])}, counts, [0, 1, 2])
    assert found[0] == pytest.approx((2 * 0.6 + 0.9) / 3) and np.isnan(found[1])
