"""Detection-aware robust accuracy: the figure the adaptive-attack papers report for a detector.

Bryniarski et al. (2022, "Evading Adversarial Example Detection Defenses with Orthogonal
Projected Gradient Descent") and Tramèr et al. (2020, "On Adaptive Attacks to Adversarial Example
Defenses") count an attacked image as robust when the victim still classifies it correctly or
the detector flags it. The detector's threshold is set on the clean test images at a
false-positive rate (5 %, also 1 %), with the convention of ``detection_metrics``: with
``k = floor(rate * n)`` false positives allowed among ``n`` clean images, an image is flagged when
its score is strictly above the ``(k + 1)``-th highest clean score (ties are never split), so that
the detection rate is ``detection_metrics.tpr_at_fpr`` of the same scores.

The denominator is every attacked image: one the attack could not make fool the victim counts as
robust whatever its score.
"""

from __future__ import annotations

import numpy as np

from advbench.runs.detection_metrics import TOLERANCE

#: The false-positive rates of the figure, as its names: ``dara@5%`` and ``dara@1%``.
RATES = {"dara@5%": 0.05, "dara@1%": 0.01}


def threshold(clean: np.ndarray, fpr: float) -> float:
    """The score above which an image is flagged: the ``(k + 1)``-th highest clean score, ``k =
    floor(fpr * n)`` (``-inf`` when ``k >= n``: every image is flagged)."""
    clean = np.sort(np.asarray(clean, dtype=np.float64))[::-1]
    k = int(np.floor(fpr * len(clean) + TOLERANCE))
    return float(clean[k]) if k < len(clean) else float("-inf")


def flagged(clean: np.ndarray, scores: np.ndarray, fpr: float) -> np.ndarray:
    """Which of ``scores`` the detector flags at ``fpr`` on the clean test scores ``clean``."""
    return np.asarray(scores, dtype=np.float64) > threshold(clean, fpr)


def robust(clean: np.ndarray, scores: np.ndarray, fooled: np.ndarray, fpr: float) -> np.ndarray:
    """Per attacked image: robust (True) if it does not fool the victim or the detector flags it."""
    fooled = np.asarray(fooled, dtype=bool)
    if fooled.shape != np.shape(scores):
        raise ValueError(f"fooled has shape {fooled.shape}, scores {np.shape(scores)}")
    return ~fooled | flagged(clean, scores, fpr)


def robust_accuracy(clean: np.ndarray, scores: np.ndarray, fooled: np.ndarray, fpr: float) -> float:
    """The share of attacked images that are robust (``robust``), in [0, 1]."""
    return float(robust(clean, scores, fooled, fpr).mean())
