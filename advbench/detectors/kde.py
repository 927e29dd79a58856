"""Gaussian kernel density estimation on PCA-reduced pixels (Parzen, 1962).

Follows the KDE baseline of the Deep SVDD reference code (Ruff et al., ICML 2018,
``scripts/gtsrb_kde.sh`` / ``baseline_kde.py``): Gaussian kernel, pixels scaled to [0, 1] with the
training min/max, no global contrast normalization, optional PCA keeping 95 % of the variance
(used by default here: it keeps the density estimate fast and better conditioned), and the
bandwidth chosen by 5-fold cross-validated log-likelihood on the training images only
(scikit-learn ``GridSearchCV``). The reference grid is ``2**0.5 ... 2**5``; ours, ``2**-3 ... 2**5``
in steps of ``2**0.5``, extends it downwards because 780 images in the PCA space are close
together. Score = negative log density.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KernelDensity

from advbench.detectors.base import BaseDetector
from advbench.detectors.checks import check_int, check_number
from advbench.detectors.feature_params import check_feature_params
from advbench.detectors.preprocessing import PixelFeatures

#: Default bandwidth grid (see module docstring).
DEFAULT_BANDWIDTHS = tuple(float(b) for b in np.logspace(-3, 5, num=17, base=2))


class KDEDetector(BaseDetector):
    """Gaussian KDE with a cross-validated bandwidth; score = -log p(x).

    Parameters
    ----------
    bandwidths : sequence of float > 0 or None
        Candidate bandwidths (None: ``DEFAULT_BANDWIDTHS``); a single value skips the search.
    cv : int >= 2
        Number of folds of the bandwidth search (5, as the reference).
    pca : int, float or None
        PCA before the KDE (default 0.95: keep 95 % of the training variance, as the reference's option).
    gcn, scaling :
        Preprocessing, see ``ImagePreprocessor``.
    random_state : int or None
        Seeds the shuffling of the cross-validation folds and the PCA solver.
    """

    description = "Gaussian KDE on PCA(95%) pixels, bandwidth by 5-fold CV log-likelihood on train"

    def __init__(self, bandwidths=None, cv: int = 5, pca=0.95, gcn: bool = False, scaling="minmax",
                 random_state=None):
        self.bandwidths = bandwidths
        self.cv = cv
        self.pca = pca
        self.gcn = gcn
        self.scaling = scaling
        self.random_state = random_state

    def _check_params(self):
        if self.bandwidths is not None:
            if isinstance(self.bandwidths, str) or not np.iterable(self.bandwidths) or not len(self.bandwidths):
                raise ValueError(f"bandwidths must be None or a non-empty list of numbers > 0; got {self.bandwidths!r}")
            for value in self.bandwidths:
                check_number("bandwidths", value, low_open=True)
        check_int("cv", self.cv, low=2)
        check_feature_params(self)

    def _fit(self, X):
        self.features_ = PixelFeatures(self.gcn, self.scaling, self.pca, self.random_state)
        Z = self.features_.fit_transform(X)
        grid = list(DEFAULT_BANDWIDTHS if self.bandwidths is None else self.bandwidths)
        if len(grid) == 1:
            self.bandwidth_ = float(grid[0])
        else:
            if Z.shape[0] < self.cv:
                raise ValueError(f"KDE bandwidth search needs at least cv={self.cv} training images; got {Z.shape[0]}")
            folds = KFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            search = GridSearchCV(KernelDensity(kernel="gaussian"), {"bandwidth": grid}, cv=folds)
            self.bandwidth_ = float(search.fit(Z).best_params_["bandwidth"])
        self.model_ = KernelDensity(kernel="gaussian", bandwidth=self.bandwidth_).fit(Z)

    def _score(self, X):
        return -self.model_.score_samples(self.features_.transform(X))
