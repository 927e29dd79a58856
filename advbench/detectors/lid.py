"""Local intrinsic dimensionality of the victim's last hidden layer, without adversarial examples (after
Ma et al., "Characterizing Adversarial Subspaces Using Local Intrinsic Dimensionality", ICLR 2018).

The paper's estimate (its equation 4, the maximum-likelihood estimator of Amsaleg et al. 2015): for
a point ``x`` and the distances ``r_1 <= ... <= r_k`` to its ``k`` nearest neighbours in a minibatch,
``LID(x) = -((1/k) sum_i log(r_i / r_k))^-1``. It estimates LID within minibatches of 100
(``batch_size``) with ``k = 20`` (``k``), its MNIST setting, and found adversarial regions of higher
LID than clean ones.

What is ours: the paper fits a logistic regression on the LIDs of every layer, computed on clean,
noisy and adversarial minibatches, so it sees adversarial examples. This detector fits nothing on
them: an image's score is its LID in the victim's last hidden layer (its penultimate features)
against minibatches of clean reference features only (the victim's clean training data of every
class, ``datasets.reference``), shuffled with ``random_state`` and cut into ``batch_size`` images
each, averaged over those minibatches; a higher LID scores as more anomalous. Differentiable:
``score_tensor`` serves detector-aware attacks (the neighbours' distances are, almost everywhere).
"""

from __future__ import annotations

import numpy as np
import torch

from advbench.detectors.checks import check_int
from advbench.detectors.kd import squared_distances
from advbench.detectors.victim_detector import VictimDetector

#: Below this, a neighbour's distance counts as this (a query equal to a reference point).
_TINY = 1e-12


def lid_mle(distances: torch.Tensor) -> torch.Tensor:
    """The maximum-likelihood LID of each row of ``distances`` (``N x k``, each row ascending, every
    entry > 0): ``-1 / mean_i log(r_i / r_k)``."""
    logs = torch.log(distances / distances[:, -1:])
    return -1.0 / logs.mean(dim=1).clamp_max(-_TINY)


def mean_lid(features: torch.Tensor, batches, k: int) -> torch.Tensor:
    """Each row of ``features``' LID (``lid_mle``, ``k`` nearest neighbours) against each minibatch of
    ``batches`` (points of the same width), averaged over the minibatches; float64."""
    estimates = []
    for batch in batches:
        nearest = squared_distances(features, batch).topk(k, dim=1, largest=False).values
        estimates.append(lid_mle(nearest.double().clamp_min(_TINY**2).sqrt()))
    return torch.stack(estimates).mean(dim=0)


class LIDDetector(VictimDetector):
    """LID of the victim's last hidden layer against clean reference minibatches (see the module docstring).

    Parameters
    ----------
    k : int >= 2
        Nearest neighbours per estimate (20, the paper's MNIST setting).
    batch_size : int > k
        Reference images per minibatch (100, the paper's).
    random_state : int or None
        Shuffles the reference images into minibatches.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    batches_ : list of tensors
        The reference minibatches' features; a last, incomplete one is left out.
    """

    description = "LID (after Ma et al. 2018): local intrinsic dimensionality of the victim's last hidden layer"
    needs_reference = True

    def __init__(self, k: int = 20, batch_size: int = 100, random_state=None, device: str = "cpu"):
        self.k = k
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        check_int("k", self.k, low=2)
        check_int("batch_size", self.batch_size, low=self.k + 1)
        super()._check_params()

    def _fit_victim(self, X, reference):
        features, _ = self._reference_features(reference)
        if len(features) < self.batch_size:
            raise ValueError(
                f"LID: the reference sample holds {len(features)} images, fewer than batch_size {self.batch_size}"
            )
        order = np.random.default_rng(self.random_state).permutation(len(features))
        full = len(order) // self.batch_size * self.batch_size
        rows = torch.from_numpy(order[:full].reshape(-1, self.batch_size)).to(features.device)
        self.batches_ = [features[row] for row in rows]

    def _score_tensor(self, x):
        return mean_lid(self.victim_.features_and_logits(x)[0].double(), self.batches_, self.k)
