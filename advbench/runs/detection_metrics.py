"""The figures detection papers report, each computed from one attack set's scores against the clean test images.

Convention, the same for every figure: an adversarial image is a positive, a clean test image a
negative, a higher score is more anomalous (flagged), and an image is flagged when its score is at
least the threshold, so that images of equal score are flagged together (ties are never split).

- ``auroc``: the area under the ROC curve, ties counting one half (``advbench.runs.metrics.roc_auc``).
- ``aupr-out``: average precision with the adversarial images positive (scikit-learn's
  ``average_precision_score``: the precision at each distinct score, weighted by the recall it
  adds; no interpolation).
- ``aupr-in``: average precision with the clean images positive and the scores negated (a lower
  score is more clean).
- ``fpr95``: the false-positive rate at the first ROC point (highest threshold) whose true-positive
  rate is at least 95%.
- ``tpr@5%``, ``tpr@1%``, ``tpr@0.2%``: the true-positive rate at the ROC point of largest
  false-positive rate not above the rate. The threshold depends on the clean scores only: with
  ``k = floor(rate * n)`` false positives allowed among ``n`` clean images, it is the smallest
  threshold that flags at most ``k`` of them, so the figure is the share of adversarial images
  scoring strictly above the ``(k + 1)``-th highest clean score.

``compute`` reads each figure off scikit-learn's ``roc_curve`` and ``average_precision_score``;
``weighted`` computes the same figures for many weightings of the images at once (an image of
weight k counts k times), which the bootstrap of ``advbench.runs.intervals`` draws.
"""

from __future__ import annotations

import numpy as np

from advbench.runs.intervals import weighted_auc
from advbench.runs.metrics import roc_auc

#: Every figure, in the order of the tables.
NAMES = ("auroc", "aupr-out", "aupr-in", "fpr95", "tpr@5%", "tpr@1%", "tpr@0.2%")
#: The true-positive rate that ``fpr95`` holds.
TPR = 0.95
#: The false-positive rate of each ``tpr@`` figure.
FPR = {"tpr@5%": 0.05, "tpr@1%": 0.01, "tpr@0.2%": 0.002}
#: The figures of which a lower value is better.
LOWER_IS_BETTER = frozenset({"fpr95"})
#: What each figure is called in a table.
LABELS = {
    "auroc": "AUROC",
    "aupr-out": "AUPR-Out",
    "aupr-in": "AUPR-In",
    "fpr95": "FPR at 95% TPR",
    "tpr@5%": "TPR at 5% FPR",
    "tpr@1%": "TPR at 1% FPR",
    "tpr@0.2%": "TPR at 0.2% FPR",
}
#: The convention of every figure, as a table's footnote states it.
CONVENTION = (
    "Positives are the anomalous images (an attack's adversarial images; in a one-class table, the other classes'), "
    "negatives the clean test images (of the normal class); a higher score is more anomalous and an image is flagged "
    "when its score reaches the threshold (tied images together); the threshold of a TPR at a fixed FPR is set on the "
    "clean test images' scores alone."
)
#: Replicates times images computed at once by ``weighted``, which bounds its memory.
BLOCK = 4_000_000
#: Slack of the rate comparisons, so that a rate computed as a ratio equals the rate it should.
TOLERANCE = 1e-12


def parse(spec: str) -> list[str]:
    """The figures of a comma list (``auroc,fpr95``), ``all`` standing for every one, in the order
    given, each once; ``ValueError`` naming the unknown ones and the valid ones."""
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES and name != "all"]
    if unknown or not names:
        problem = f"unknown metric(s): {', '.join(unknown)}" if unknown else "no metric given"
        raise ValueError(f"{problem}; valid: {', '.join(NAMES)}, or all")
    expanded = [each for name in names for each in (NAMES if name == "all" else (name,))]
    return list(dict.fromkeys(expanded))


def compute(name: str, clean: np.ndarray, adversarial: np.ndarray) -> float:
    """The figure ``name`` of ``adversarial`` (positives) against ``clean`` (negatives)."""
    from sklearn.metrics import average_precision_score, roc_curve

    clean, adversarial = np.asarray(clean, dtype=float), np.asarray(adversarial, dtype=float)
    if name == "auroc":
        return roc_auc(clean, adversarial)
    labels = np.r_[np.zeros(len(clean)), np.ones(len(adversarial))]
    scores = np.r_[clean, adversarial]
    if name == "aupr-out":
        return float(average_precision_score(labels, scores))
    if name == "aupr-in":
        return float(average_precision_score(1 - labels, -scores))
    if name == "fpr95":
        false, true, _ = roc_curve(labels, scores, drop_intermediate=False)
        return float(false[np.argmax(true >= TPR - TOLERANCE)])
    if name in FPR:
        return tpr_at_fpr(clean, adversarial, FPR[name])
    raise ValueError(f"unknown metric {name!r}; valid: {', '.join(NAMES)}")


def tpr_at_fpr(clean: np.ndarray, adversarial: np.ndarray, fpr: float) -> float:
    """The true-positive rate at the ROC point of largest false-positive rate not above ``fpr`` (the
    ``tpr@`` figures at any rate)."""
    from sklearn.metrics import roc_curve

    labels = np.r_[np.zeros(len(clean)), np.ones(len(adversarial))]
    false, true, _ = roc_curve(labels, np.r_[clean, adversarial], drop_intermediate=False)
    return float(true[false <= fpr + TOLERANCE].max())


def _curve(negatives, positives, neg_weights, pos_weights) -> tuple[np.ndarray, np.ndarray]:
    """``(true, false)``, each ``(B, thresholds)``: the weight of the positives and of the negatives
    scoring at least each distinct score, highest score first (ties form one threshold)."""
    scores = np.r_[negatives, positives]
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    last = np.r_[np.flatnonzero(ranked[1:] != ranked[:-1]), len(ranked) - 1]  # each tie group's last image
    positive = np.r_[np.zeros(len(negatives), bool), np.ones(len(positives), bool)][order]
    weights = np.concatenate([neg_weights, pos_weights], axis=1)[:, order]
    true = np.cumsum(np.where(positive, weights, 0.0), axis=1)[:, last]
    false = np.cumsum(np.where(positive, 0.0, weights), axis=1)[:, last]
    return true, false


def _reversed(true: np.ndarray, false: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``_curve`` of the negated scores with the roles swapped: the clean images positive."""
    clean = np.diff(false, axis=1, prepend=0.0)[:, ::-1]
    adversarial = np.diff(true, axis=1, prepend=0.0)[:, ::-1]
    return np.cumsum(clean, axis=1), np.cumsum(adversarial, axis=1)


def _average_precision(true: np.ndarray, false: np.ndarray) -> np.ndarray:
    """Average precision of each row of a ``_curve``: precision at each threshold times the recall it adds."""
    recall = true / true[:, -1:]
    added = np.diff(recall, axis=1, prepend=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = true / (true + false)
    return np.where(added > 0, added * precision, 0.0).sum(axis=1)


def _from_curve(name: str, true: np.ndarray, false: np.ndarray) -> np.ndarray:
    """The figure ``name`` (not ``auroc``) of each row of a ``_curve``."""
    if name == "aupr-out":
        return _average_precision(true, false)
    if name == "aupr-in":
        return _average_precision(*_reversed(true, false))
    tpr, fpr = true / true[:, -1:], false / false[:, -1:]
    rows = np.arange(len(tpr))
    if name == "fpr95":
        return fpr[rows, np.argmax(tpr >= TPR - TOLERANCE, axis=1)]
    kept = np.count_nonzero(fpr <= FPR[name] + TOLERANCE, axis=1)  # the rates rise along the curve
    return np.where(kept > 0, tpr[rows, np.maximum(kept - 1, 0)], 0.0)


def weighted(
    clean, adversarial, clean_weights, adversarial_weights, names: tuple[str, ...] | list[str] = NAMES
) -> dict[str, np.ndarray]:
    """``{name: figure per row of weights}`` for each of ``names``, the weights ``(B, len(clean))``
    and ``(B, len(adversarial))``: an image of weight k counts k times, one of weight 0 not at all.
    ``auroc`` is ``intervals.weighted_auc``; the others are read off one curve."""
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        raise ValueError(f"unknown metric(s): {', '.join(unknown)}; valid: {', '.join(NAMES)}")
    clean, adversarial = np.asarray(clean, dtype=float), np.asarray(adversarial, dtype=float)
    clean_weights = np.asarray(clean_weights, dtype=float)
    adversarial_weights = np.asarray(adversarial_weights, dtype=float)
    out = {name: [] for name in names if name != "auroc"}
    step = max(1, BLOCK // (len(clean) + len(adversarial)))
    for start in range(0, len(clean_weights) if out else 0, step):
        block = slice(start, start + step)
        curve = _curve(clean, adversarial, clean_weights[block], adversarial_weights[block])
        for name, found in out.items():
            found.append(_from_curve(name, *curve))
    found = {name: np.concatenate(blocks) for name, blocks in out.items()}
    if "auroc" in names:
        found["auroc"] = weighted_auc(clean, adversarial, clean_weights, adversarial_weights)
    return {name: found[name] for name in names}
