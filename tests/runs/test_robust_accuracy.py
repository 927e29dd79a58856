"""Detection-aware robust accuracy: the threshold convention of the TPR figures, and what counts as robust."""

from __future__ import annotations

import numpy as np
import pytest

from advbench.runs.detection_metrics import tpr_at_fpr
from advbench.runs.robust_accuracy import flagged, robust_accuracy, threshold


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fpr", [0.05, 0.01])
def test_the_share_flagged_is_the_tpr_at_the_same_rate(seed, fpr):
    rng = np.random.default_rng(seed)
    clean = np.round(rng.normal(size=270), 1)  # rounded: ties between clean and attacked scores
    attacked = np.round(rng.normal(1, 1, size=262), 1)
    assert flagged(clean, attacked, fpr).mean() == pytest.approx(tpr_at_fpr(clean, attacked, fpr))


def test_the_threshold_allows_floor_rate_times_n_false_positives():
    clean = np.arange(100.0)  # 5 % of 100: 5 false positives, the 6th highest score is the threshold
    assert threshold(clean, 0.05) == 94.0
    assert flagged(clean, clean, 0.05).sum() == 5
    assert threshold(clean[:10], 0.01) == 9.0  # floor(0.1) = 0: nothing clean may be flagged


def test_an_image_is_robust_when_it_does_not_fool_or_is_flagged():
    clean = np.arange(100.0)
    scores = np.array([0.0, 0.0, 99.0, 99.0])
    fooled = np.array([False, True, True, False])
    # robust: not fooled (0, 3), flagged (2, 3); not robust: fooled and unflagged (1)
    assert robust_accuracy(clean, scores, fooled, 0.05) == 0.75


def test_the_issue_example_counts_every_attacked_image():
    """262 of 270 fool the victim, 56 of them flagged: 64 / 270 robust, 23.7 %."""
    clean = np.arange(270.0)
    scores = np.r_[np.full(56, 1000.0), np.zeros(214)]
    fooled = np.r_[np.ones(262, bool), np.zeros(8, bool)]
    assert robust_accuracy(clean, scores, fooled, 0.05) == pytest.approx(64 / 270)


def test_mismatched_shapes_are_an_error():
    with pytest.raises(ValueError, match="fooled has shape"):
        robust_accuracy(np.zeros(3), np.zeros(4), np.zeros(3, bool), 0.05)
