"""Kernel density on the victim's last hidden layer (Feinman, Curtin, Shintre and Gardner, "Detecting
Adversarial Samples from Artifacts", 2017, section 3.1).

``KD(x) = (1/|X_t|) sum_{z in X_t} k(f(x), f(z))`` with a Gaussian kernel ``k``, where ``f`` is the
victim's last hidden layer (its penultimate features) and ``X_t`` the training images of the class
``t`` the victim predicts for ``x``; here ``X_t`` is the reference images of that class (the victim's
clean training data of every class, a stratified sample, ``datasets.reference``). Score:
``-log KD(x)`` with the normalized Gaussian kernel of bandwidth ``h``, computed exactly in log
space (``log_density``), so that a low density scores high. A class without reference images is
never predicted (the prediction is the arg-max over the classes that have some).

Bandwidth: chosen by 5-fold cross-validated log-likelihood of the clean reference features (each
held-out image under its own class's density of the other folds, folds stratified by class and
shuffled with ``random_state``), over a grid relative to the features' scale: the median distance
from a reference image to its nearest neighbour of the same class times ``2**k``, ``k = -6, -5.5, ...,
1``. The paper's bandwidths (1.20 for MNIST, 0.26 for CIFAR-10, 1.00 for SVHN, in the authors'
code) belong to its networks' features and do not carry over to another network; the grid and its
scale are ours. KD alone, not the paper's logistic regression of KD and BU, which is trained on
adversarial examples. Differentiable: ``score_tensor`` serves detector-aware attacks (through the
features; the predicted class is piecewise constant).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold

from advbench.detectors.checks import check_int, check_list, check_number
from advbench.detectors.victim_detector import VictimDetector

#: The bandwidth grid in units of the median same-class nearest-neighbour distance (module docstring).
RELATIVE_GRID = tuple(float(2.0**k) for k in np.arange(-6.0, 1.01, 0.5))


def squared_distances(queries: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """``||q_i - z_j||^2`` for every pair, clipped at 0 against rounding (differentiable, unlike ``cdist`` at 0)."""
    out = (queries**2).sum(1)[:, None] + (points**2).sum(1)[None, :] - 2.0 * queries @ points.T
    return out.clamp_min(0.0)


def log_density(queries: torch.Tensor, points: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """Gaussian KDE log density of each query under ``points``: ``logsumexp_j(-||q - z_j||^2 / 2h^2) - log n
    - d log h - (d/2) log 2 pi``."""
    n, d = points.shape
    const = -math.log(n) - d * math.log(bandwidth) - 0.5 * d * math.log(2.0 * math.pi)
    return torch.logsumexp(-squared_distances(queries, points) / (2.0 * bandwidth**2), dim=1) + const


def nearest_neighbour_scale(features: torch.Tensor, labels: np.ndarray) -> float:
    """The median distance from a feature vector to its nearest other one of the same class."""
    found = []
    for c in np.unique(labels):
        group = features[torch.from_numpy(labels == c).to(features.device)]
        if len(group) > 1:
            sq = squared_distances(group, group).fill_diagonal_(math.inf)
            found.append(sq.amin(dim=1).sqrt())
    scale = float(torch.cat(found).median()) if found else 0.0
    if not scale > 0:
        raise ValueError("KD: the reference features have no two distinct images of one class")
    return scale


class KDDetector(VictimDetector):
    """Negative log kernel density of the victim's last hidden layer under the predicted class's reference images.

    Parameters
    ----------
    bandwidths : list of float > 0 or None
        Candidate bandwidths in feature units (None: ``RELATIVE_GRID`` times the nearest-neighbour
        scale); one value skips the search.
    cv : int >= 2
        Folds of the bandwidth search (5).
    random_state : int or None
        Shuffles the cross-validation folds.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    bandwidth_ : float
        The bandwidth used. ``cv_log_likelihood_``: per candidate, the held-out log-likelihood (None for one).
    """

    description = "KD (Feinman et al. 2017): -log Gaussian KDE of the victim's last hidden layer, predicted class"
    needs_reference = True

    def __init__(self, bandwidths=None, cv: int = 5, random_state=None, device: str = "cpu"):
        self.bandwidths = bandwidths
        self.cv = cv
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        if self.bandwidths is not None:
            check_list("bandwidths", self.bandwidths, "numbers > 0", partial(check_number, "bandwidths", low_open=True))
        check_int("cv", self.cv, low=2)
        super()._check_params()

    def _fit_victim(self, X, reference):
        features, labels = self._reference_features(reference)
        if self.bandwidths is None:
            grid = [scale * nearest_neighbour_scale(features, labels) for scale in RELATIVE_GRID]
        else:
            grid = [float(value) for value in self.bandwidths]
        self.cv_log_likelihood_ = None
        if len(grid) == 1:
            self.bandwidth_ = grid[0]
        else:
            self.cv_log_likelihood_ = self._cross_validate(features, labels, grid)
            self.bandwidth_ = grid[int(np.argmax(self.cv_log_likelihood_))]
        self.classes_ = np.unique(labels)
        self.points_ = [features[torch.from_numpy(labels == c).to(features.device)] for c in self.classes_]

    def _cross_validate(self, features: torch.Tensor, labels: np.ndarray, grid: list[float]) -> list[float]:
        """Per bandwidth, the summed log density of every held-out reference feature under its class's other folds."""
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        totals = np.zeros(len(grid))
        with torch.no_grad():
            for train, test in folds.split(np.zeros(len(labels)), labels):
                for c in np.unique(labels[test]):
                    fit_rows, held = train[labels[train] == c], test[labels[test] == c]
                    if len(fit_rows) == 0:
                        continue
                    for k, width in enumerate(grid):
                        totals[k] += float(log_density(features[held], features[fit_rows], width).sum())
        return totals.tolist()

    def _score_tensor(self, x):
        features, logits = self.victim_.features_and_logits(x)
        features = features.double()
        known = torch.as_tensor(self.classes_, device=logits.device)
        predicted = logits[:, known].argmax(dim=1)
        scores = torch.empty(len(x), dtype=torch.float64, device=features.device)
        for k in predicted.unique().tolist():
            rows = predicted == k
            scores = scores.index_put((rows,), -log_density(features[rows], self.points_[k], self.bandwidth_))
        return scores
