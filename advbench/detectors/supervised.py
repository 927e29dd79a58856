"""The base of the supervised detectors: features read through the victim, and a logistic regression
fitted on a training attack set.

The adversarial-detection literature's published detectors (KD+BU, Feinman et al. 2017; LID, Ma et
al. 2018; deep Mahalanobis, Lee et al. 2018) compute a few features of each image through the
classifier and fit a logistic regression that tells adversarial images from clean ones, on the
adversarial examples of one attack. ``SupervisedDetector`` is that shape, for ``advbench run
--protocol supervised --fit-attack NAME`` (``datasets.protocols``):

- ``fit(X, victim=..., reference=..., adversarial=...)``: ``X`` (the normal training images) and
  ``reference`` (the victim's clean training images of every class) are clean; they fit the
  unsupervised parts (class densities, Gaussians, LID minibatches). ``adversarial``
  (``datasets.splits.FitAttack``) is the training attack set: clean training images outside both,
  labelled 0, and the adversarial images made from them, labelled 1.
- A subclass computes the features (``_features(X)``: ``N x F``, float64); the regression is
  scikit-learn's ``LogisticRegressionCV`` after ``StandardScaler``, its regularization chosen by
  ``regression_cv``-fold cross-validation (stratified, shuffled with ``random_state``) on the
  training attack set alone, as the papers' code does (each scales the features, then fits
  ``LogisticRegressionCV``). A subclass that chooses a setting on the training attack set
  (deep Mahalanobis' input noise) overrides ``_training_features``.
- Score: the regression's log-odds that an image is adversarial.

What is ours, for all three: the negatives are the attacked images' clean sources only (Feinman et
al. and Ma et al. add noisy copies of them); the features are scaled by ``StandardScaler`` fitted on
the training attack set. Nothing is fitted or chosen on a test attack set: ``advbench run`` hands
over the training attack set of ``--fit-attack`` only. Not differentiable.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from advbench.detectors.base import check_images
from advbench.detectors.checks import check_int
from advbench.detectors.victim_detector import VictimDetector


def folds(n_splits: int, random_state) -> StratifiedKFold:
    """The shuffled, stratified folds of every cross-validation on a training attack set."""
    return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


def regression(n_splits: int, random_state) -> Pipeline:
    """Standardized features, then a logistic regression whose regularization is cross-validated by
    accuracy (the papers' code: scikit-learn's default then)."""
    found = LogisticRegressionCV(cv=folds(n_splits, random_state), max_iter=1000, scoring="accuracy")
    return make_pipeline(StandardScaler(), found)


@contextlib.contextmanager
def sklearn_notices_off() -> Iterator[None]:
    """Silence scikit-learn's notices of coming changes of defaults (the settings that decide the
    numbers are given explicitly in ``regression``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


class SupervisedDetector(VictimDetector):
    """A logistic regression on features read through the victim (see the module docstring); subclasses
    take ``regression_cv``, ``random_state`` and ``device`` and implement ``_features``.

    Attributes
    ----------
    regression_ : sklearn Pipeline
        The standardization and the fitted ``LogisticRegressionCV``.
    fit_attack_ : str
        The name of the training attack set it was fitted on.
    """

    needs_adversarial = True
    differentiable = False

    def _check_params(self):
        check_int("regression_cv", self.regression_cv, low=2)
        super()._check_params()

    def _fit(self, X, victim, reference=None, adversarial=None):
        super()._fit(X, victim, reference)
        clean = check_images(adversarial.clean, name=f"the clean images of training attack set {adversarial.name}")
        attacked = check_images(adversarial.adversarial, name=f"training attack set {adversarial.name}")
        for images in (clean, attacked):
            if tuple(images.shape[1:]) != tuple(X.shape[1:]):
                raise ValueError(
                    f"training attack set {adversarial.name}: images of shape {tuple(images.shape[1:])}, the "
                    f"training images {tuple(X.shape[1:])}"
                )
        labels = np.concatenate([np.zeros(len(clean), dtype=int), np.ones(len(attacked), dtype=int)])
        features = self._training_features(clean, attacked, labels)
        with sklearn_notices_off():
            self.regression_ = regression(self.regression_cv, self.random_state).fit(features, labels)
        self.fit_attack_ = adversarial.name

    def _training_features(self, clean: np.ndarray, attacked: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """The features of the training attack set's clean then adversarial images (``labels`` 0, then 1)."""
        return np.concatenate([self._features(clean), self._features(attacked)])

    def _features(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, X):
        return self.regression_.decision_function(self._features(X))
