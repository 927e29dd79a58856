"""KD+BU, supervised (Feinman, Curtin, Shintre and Gardner, "Detecting Adversarial Samples from
Artifacts", 2017, section 4): a logistic regression on two features of each image, its kernel density
in the victim's last hidden layer (``kd.KDDetector``) and its Bayesian uncertainty under Monte-Carlo
dropout (``bu.BUDetector``), fitted on a training attack set (``supervised``).

Both features are computed as the unsupervised detectors compute them, fitted on the same clean
data: KD's bandwidth by cross-validated likelihood on the reference images (the paper's fixed
bandwidths belong to its networks), BU with 50 fixed dropout masks drawn from ``random_state``.
What is ours: the KD feature is ``-log`` density (the paper's density itself, a monotone change the
scaling does not undo); the negatives are clean images only (``supervised``).
"""

from __future__ import annotations

import numpy as np

from advbench.detectors.bu import BUDetector
from advbench.detectors.kd import KDDetector
from advbench.detectors.supervised import SupervisedDetector


class KDBUDetector(SupervisedDetector):
    """Logistic regression on KD and BU, fitted on a training attack set.

    Parameters
    ----------
    passes : int >= 2
        BU's dropout passes (50, the authors' code).
    bandwidths : list of float > 0 or None
        KD's candidate bandwidths (None: its relative grid, ``kd.RELATIVE_GRID``).
    regression_cv : int >= 2
        Folds of the regression's cross-validation (5).
    random_state : int or None
        KD's folds, BU's masks and the regression's folds.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    kd_, bu_ : the fitted KD and BU detectors whose scores are the features.
    """

    description = "KD+BU (Feinman et al. 2017): logistic regression on KD and BU, fitted on a training attack set"
    needs_reference = True

    def __init__(self, passes: int = 50, bandwidths=None, regression_cv: int = 5, random_state=None, device="cpu"):
        self.passes = passes
        self.bandwidths = bandwidths
        self.regression_cv = regression_cv
        self.random_state = random_state
        self.device = device

    def _parts(self) -> tuple[KDDetector, BUDetector]:
        kd = KDDetector(bandwidths=self.bandwidths, random_state=self.random_state, device=self.device)
        return kd, BUDetector(passes=self.passes, random_state=self.random_state, device=self.device)

    def _check_params(self):
        for part in self._parts():
            part.check_params()
        super()._check_params()

    def _fit_victim(self, X, reference):
        kd, bu = self._parts()
        self.kd_ = kd.fit(X, victim=self.victim_, reference=reference)
        self.bu_ = bu.fit(X, victim=self.victim_)

    def _features(self, X):
        return np.column_stack([self.kd_.decision_function(X), self.bu_.decision_function(X)])
