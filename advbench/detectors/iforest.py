"""Isolation Forest on flattened pixels (Liu et al., ICDM 2008).

Defaults follow the original paper and the Deep SVDD reference code (``scripts/gtsrb_if.sh``):
100 trees, 256 samples per tree, pixels scaled to [0, 1] with the training min/max, no global
contrast normalization. Score = negative scikit-learn ``score_samples`` (higher = more anomalous).

On MNIST (protocol 2) Deep SVDD's published IF numbers (its Table 1) are those of its ``--pca 1``,
PCA keeping 95 % of the variance after GCN: ``pca=0.95`` reproduces them within 0.4 points on every
digit, the default (no PCA) does not (``reports/mnist-oneclass``). The class keeps no PCA as its
default; the benchmark registry sets ``pca=0.95`` for MNIST-type benchmarks.
"""

from __future__ import annotations

from sklearn.ensemble import IsolationForest

from advbench.detectors.base import BaseDetector
from advbench.detectors.checks import check_int
from advbench.detectors.feature_params import check_feature_params
from advbench.detectors.preprocessing import PixelFeatures


class IForestDetector(BaseDetector):
    """Isolation Forest; score = mean path-length anomaly score.

    Parameters
    ----------
    n_estimators : int
        Number of trees (100, Liu et al.).
    max_samples : int
        Sub-sample size per tree (256, Liu et al.; capped at the training size by scikit-learn).
    pca : int, float or None
        Optional PCA before the forest (None: raw pixels).
    gcn, scaling :
        Preprocessing, see ``ImagePreprocessor``.
    random_state : int or None
        Seeds the sub-sampling and the random splits.
    """

    description = "Isolation Forest on pixels (100 trees, 256 samples per tree)"

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: int = 256,
        pca=None,
        gcn: bool = False,
        scaling="minmax",
        random_state=None,
    ):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.pca = pca
        self.gcn = gcn
        self.scaling = scaling
        self.random_state = random_state

    def _check_params(self):
        check_int("n_estimators", self.n_estimators)
        check_int("max_samples", self.max_samples)
        check_feature_params(self)

    def _fit(self, X):
        self.features_ = PixelFeatures(self.gcn, self.scaling, self.pca, self.random_state)
        Z = self.features_.fit_transform(X)
        self.model_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, Z.shape[0]),
            random_state=self.random_state,
        ).fit(Z)

    def _score(self, X):
        return -self.model_.score_samples(self.features_.transform(X))
