"""The three AUCs of a (detector, seed, attack), each answering its own question.

- ``auc`` (unpaired): clean test images (label 0) against the attack's images (label 1), the
  paper's number. It mixes how far apart the clean images are from each other with how much the
  attack moves one image's score.
- ``paired_auc``: the share of adversarial images that score higher than their own clean source
  (``source_index``), ties counting one half. 50% when the detector ignores the perturbation,
  whatever the natural spread of clean scores: did the attack move the score at all?
- ``matched_auc``: the kept adversarial images against the clean sources of exactly those images,
  unpaired, as a deployed detector would see them. It removes the selection effect of an attack
  that succeeds on unusual images only (small budgets keep the images nearest the victim's
  boundary, which are not typical stop signs).

``sources`` are the detector's scores of the official clean test images (the attacks' sources),
whatever the protocol's normal test set is.
"""

from __future__ import annotations

import numpy as np


def roc_auc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """ROC AUC of ``positives`` (label 1) against ``negatives`` (label 0), scikit-learn's."""
    from sklearn.metrics import roc_auc_score

    labels = np.r_[np.zeros(len(negatives)), np.ones(len(positives))]
    return float(roc_auc_score(labels, np.r_[negatives, positives]))


def paired_auc(adversarial: np.ndarray, own_sources: np.ndarray) -> float:
    """Share of rows with ``adversarial[i] > own_sources[i]``, ties counting one half."""
    adversarial, own_sources = np.asarray(adversarial), np.asarray(own_sources)
    return float(np.mean((adversarial > own_sources) + 0.5 * (adversarial == own_sources)))


def attack_metrics(
    normal_test: np.ndarray, sources: np.ndarray, adversarial: np.ndarray, source_index: np.ndarray
) -> dict:
    """``auc``, ``paired_auc`` and ``matched_auc`` of one attack set (see the module docstring)."""
    own = np.asarray(sources)[np.asarray(source_index)]
    return {
        "auc": roc_auc(normal_test, adversarial),
        "paired_auc": paired_auc(adversarial, own),
        "matched_auc": roc_auc(own, adversarial),
    }
