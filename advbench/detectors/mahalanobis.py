"""Gaussian model with a shrinkage covariance on PCA-reduced pixels; score = Mahalanobis distance.

Pixels are scaled to [0, 1] with the training min/max (as the other baselines), reduced by a PCA
fitted on the training images that keeps 95 % of their variance (the variance rule of the Deep
SVDD reference code's PCA option), and modelled by one Gaussian whose covariance is the
Ledoit-Wolf shrinkage estimate (Ledoit & Wolf, 2004), well conditioned even with few images.
"""

from __future__ import annotations

import numpy as np
from sklearn.covariance import LedoitWolf

from advbench.detectors.base import BaseDetector
from advbench.detectors.feature_params import check_feature_params
from advbench.detectors.preprocessing import PixelFeatures


class MahalanobisDetector(BaseDetector):
    """Ledoit-Wolf Gaussian; score = Mahalanobis distance to the training mean.

    Parameters
    ----------
    pca : int, float or None
        PCA before the Gaussian fit (default 0.95 of the training variance).
    gcn, scaling :
        Preprocessing, see ``ImagePreprocessor``.
    random_state : int or None
        Seeds the PCA solver (the fit is otherwise deterministic).
    """

    description = "Mahalanobis distance, Ledoit-Wolf covariance on PCA(95%) pixels"

    def __init__(self, pca=0.95, gcn: bool = False, scaling="minmax", random_state=None):
        self.pca = pca
        self.gcn = gcn
        self.scaling = scaling
        self.random_state = random_state

    def _check_params(self):
        check_feature_params(self)

    def _fit(self, X):
        if X.shape[0] < 2:
            raise ValueError(f"Mahalanobis needs at least 2 training images; got {X.shape[0]}")
        self.features_ = PixelFeatures(self.gcn, self.scaling, self.pca, self.random_state)
        self.model_ = LedoitWolf().fit(self.features_.fit_transform(X))

    def _score(self, X):
        return np.sqrt(self.model_.mahalanobis(self.features_.transform(X)))
