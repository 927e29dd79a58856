"""Any object with ``fit(X)`` and ``decision_function(X)`` as an advbench detector (``ForeignDetector``).

``advbench.evaluate`` wraps a detector that is not an ``advbench.detectors.BaseDetector`` (a PyOD
model, a scikit-learn outlier detector, a class of the user's) in this class, so the run loop fits
and scores it as any other. Per fit the estimator is copied (``sklearn.base.clone`` where it has
``get_params``, else ``copy.deepcopy``), given ``random_state`` through ``set_params`` where its
parameters have one, and fitted after NumPy's global generator is seeded with it (as the run seeds
PyOD models). It sees the images as float32 in [0, 1]: flattened to ``N x (C*H*W)`` when ``flatten``,
else ``N x C x H x W``. ``negate`` turns scikit-learn's convention (lower ``decision_function`` is
more anomalous) into advbench's (higher is more anomalous).

``flatten_default`` and ``negate_default`` say what ``evaluate`` uses: flattened images for PyOD and
scikit-learn estimators (by the package that defines the estimator's class), the images as they are
for any other class; negated scores for scikit-learn's outlier detectors only.
"""

from __future__ import annotations

import copy

import numpy as np

from advbench.detectors.base import BaseDetector

#: The packages whose estimators take flattened images.
FLATTENED_PACKAGES = ("sklearn", "pyod")


def _package(estimator) -> str:
    return type(estimator).__module__.partition(".")[0]


def flatten_default(estimator) -> bool:
    """Whether ``estimator`` sees flattened images unless told otherwise."""
    return _package(estimator) in FLATTENED_PACKAGES


def negate_default(estimator) -> bool:
    """Whether ``estimator`` is a scikit-learn outlier detector (lower scores are more anomalous)."""
    from sklearn.base import is_outlier_detector

    return _package(estimator) == "sklearn" and is_outlier_detector(estimator)


def _copy(estimator):
    if hasattr(estimator, "get_params"):
        from sklearn.base import clone

        return clone(estimator)
    return copy.deepcopy(estimator)


class ForeignDetector(BaseDetector):
    """An estimator with ``fit(X)`` and ``decision_function(X)`` fitted and scored as a detector."""

    description = "an estimator given to advbench.evaluate"

    def __init__(self, estimator=None, *, flatten: bool = True, negate: bool = False, random_state=None):
        self.estimator = estimator
        self.flatten = flatten
        self.negate = negate
        self.random_state = random_state

    def _fit(self, X):
        model = _copy(self.estimator)
        if self.random_state is not None:
            if "random_state" in getattr(model, "get_params", dict)():
                model.set_params(random_state=self.random_state)
            np.random.seed(int(self.random_state) % 2**32)
        model.fit(self._input(X))
        self.model_ = model

    def _score(self, X):
        scores = np.asarray(self.model_.decision_function(self._input(X)), dtype=np.float64)
        return -scores if self.negate else scores

    def _input(self, X: np.ndarray) -> np.ndarray:
        return X.reshape(len(X), -1) if self.flatten else X
