"""Deep Mahalanobis on the victim's features (Lee, Lee, Lee and Shin, "A Simple Unified Framework for
Detecting Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018).

Class-conditional Gaussians with one covariance shared by every class ("tied", the paper's
equation 1) on the victim's penultimate features ``f(x)``: the mean ``mu_c`` of each class and the
covariance of ``f(x) - mu_{y(x)}`` over the reference images (the victim's clean training data
of every class, ``datasets.reference``), estimated by scikit-learn's ``EmpiricalCovariance`` as
the paper's code does (its precision is the pseudo-inverse). Score: the smallest squared
Mahalanobis distance over classes, ``min_c (f(x) - mu_c)^T Sigma^-1 (f(x) - mu_c)``: the paper's
confidence score ``M(x)``, negated so that it grows with anomaly.

Left out, as the protocol fits nothing on adversarial data: the input preprocessing (its
perturbation size is chosen on adversarial or out-of-distribution validation data) and the
logistic regression that weighs the layers. Only the penultimate layer is used. Ours: the option
``covariance="ledoit-wolf"`` (a shrinkage estimate, for few reference images per feature).
Deterministic given the victim and the reference: the score does not depend on the seed.
Differentiable: ``score_tensor`` serves detector-aware attacks.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.covariance import EmpiricalCovariance, LedoitWolf

from advbench.detectors.checks import check_choice
from advbench.detectors.victim_detector import VictimDetector

#: scikit-learn's estimator per ``covariance`` value.
ESTIMATORS = {"empirical": EmpiricalCovariance, "ledoit-wolf": LedoitWolf}


def class_means(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classes present in ``labels`` and the mean feature vector of each."""
    classes = np.unique(labels)
    return classes, np.stack([features[labels == c].mean(axis=0) for c in classes])


def tied_gaussians(features: np.ndarray, labels: np.ndarray, estimator=EmpiricalCovariance):
    """The classes, their mean feature vectors and the precision of one covariance shared by the
    classes (``estimator`` fitted on the features centred on their class means)."""
    classes, means = class_means(features, labels)
    centred = features - means[np.searchsorted(classes, labels)]
    return classes, means, estimator(assume_centered=True).fit(centred).precision_


def squared_distances(features: torch.Tensor, means: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    """``(f_i - mu_c)^T P (f_i - mu_c)`` for every image ``i`` and class ``c``: ``N x K``."""
    diff = features[:, None, :] - means[None, :, :]
    return torch.einsum("nkd,de,nke->nk", diff, precision, diff)


class VictimMahalanobisDetector(VictimDetector):
    """Smallest class-conditional Mahalanobis distance of the victim's penultimate features.

    Parameters
    ----------
    covariance : {"empirical", "ledoit-wolf"}
        The tied covariance's estimator ("empirical", the paper's).
    random_state : int or None
        Unused (the fit is deterministic); taken as every detector takes it.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    classes_ : ndarray
        The classes of the reference data, one Gaussian each.
    means_, precision_ : tensor
        Class means (``K x d``) and the shared precision matrix (``d x d``), float64.
    """

    description = "Deep Mahalanobis (Lee et al. 2018): min class distance, tied covariance, victim's features"
    needs_reference = True

    def __init__(self, covariance: str = "empirical", random_state=None, device: str = "cpu"):
        self.covariance = covariance
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        check_choice("covariance", self.covariance, tuple(ESTIMATORS))
        super()._check_params()

    def _fit_victim(self, X, reference):
        features, labels = self._reference_features(reference)
        features = features.cpu().numpy()
        self.classes_, means, precision = tied_gaussians(features, labels, ESTIMATORS[self.covariance])
        self.means_ = torch.from_numpy(means).to(self.device_)
        self.precision_ = torch.from_numpy(precision).to(self.device_)

    def _score_tensor(self, x):
        features, _ = self.victim_.features_and_logits(x)
        return squared_distances(features.double(), self.means_, self.precision_).amin(dim=1)
