"""One-Class SVM with an RBF kernel on flattened pixels (Schoelkopf et al., 2001).

Defaults follow the GTSRB baseline of the Deep SVDD reference code (Ruff et al., ICML 2018,
``scripts/gtsrb_ocsvm.sh``): RBF kernel, pixels scaled to [0, 1] with the training min/max and
no global contrast normalization. The reference chose gamma by a grid search that looked at
labels; here nothing sees labels: ``nu = 0.1`` (the larger of the reference's two settings,
0.01 and 0.1, an a-priori bound on the fraction of training outliers) and ``gamma = "scale"``,
scikit-learn's train-only heuristic ``1 / (n_features * X_train.var())``.
"""

from __future__ import annotations

from sklearn.svm import OneClassSVM

from advbench.detectors.base import BaseDetector
from advbench.detectors.checks import check_choice, check_number
from advbench.detectors.feature_params import check_feature_params
from advbench.detectors.preprocessing import PixelFeatures


class OCSVMDetector(BaseDetector):
    """RBF One-Class SVM; score = negative signed distance to the separating hyperplane.

    Parameters
    ----------
    nu : float
        Upper bound on the fraction of training outliers, in (0, 1] (default 0.1, see module docstring).
    gamma : float > 0 or {"scale", "auto"}
        RBF width; ``"scale"`` = ``1 / (n_features * var(X_train))`` computed on training features.
    pca : int, float or None
        Optional PCA on the training features before the SVM (None: raw pixels, the default).
    gcn, scaling :
        Preprocessing, see ``ImagePreprocessor`` (default: no GCN, train min-max, as the reference).
    random_state : int or None
        Seeds the PCA solver; the SVM itself is deterministic.
    """

    description = "One-Class SVM, RBF kernel on pixels (nu=0.1, gamma=1/(d*var) from train)"

    def __init__(
        self, nu: float = 0.1, gamma="scale", pca=None, gcn: bool = False, scaling="minmax", random_state=None
    ):
        self.nu = nu
        self.gamma = gamma
        self.pca = pca
        self.gcn = gcn
        self.scaling = scaling
        self.random_state = random_state

    def _check_params(self):
        check_number("nu", self.nu, low=0.0, high=1.0, low_open=True)
        if isinstance(self.gamma, str):
            check_choice("gamma", self.gamma, ("scale", "auto"))
        else:
            check_number("gamma", self.gamma, low_open=True)
        check_feature_params(self)

    def _fit(self, X):
        self.features_ = PixelFeatures(self.gcn, self.scaling, self.pca, self.random_state)
        self.model_ = OneClassSVM(kernel="rbf", nu=self.nu, gamma=self.gamma).fit(self.features_.fit_transform(X))

    def _score(self, X):
        return -self.model_.decision_function(self.features_.transform(X))
