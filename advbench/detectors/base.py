"""The detector contract shared by every detector (PyOD / scikit-learn conventions).

A detector is trained on clean images of the normal class only and scores new images;
a higher score means more anomalous.

- The constructor takes hyperparameters only (``random_state`` included, and ``device`` for
  deep detectors) and stores them unchanged, so ``sklearn.base.clone`` works.
- ``check_params()`` validates the hyperparameters without fitting (a ValueError naming the
  parameter); ``fit`` calls it first, and ``advbench run`` calls it before the first pair.
- ``fit(X)`` returns ``self`` and sets ``decision_scores_`` (the training images' scores) and
  ``variant_scores_`` (the training images' scores of every score variant, below).
- ``decision_function(X)`` returns one float64 per image.
- ``X`` is an ``N x C x H x W`` array (``3 x 32 x 32`` for GTSRB, ``1 x 28 x 28`` for MNIST), ``uint8``
  in [0, 255] or float in [0, 1]. Classic detectors take any shape; the deep ones build their
  networks from the shape of the training images (and say so when they have none for it).

Victim-aware detectors (``victim_detector.py``) look through the classifier that was attacked: a
class that sets ``needs_victim`` takes ``fit(X, victim=...)`` (a ``victim_access.Victim``), and one
that also sets ``needs_reference`` takes ``reference=...`` too (``datasets.reference.Reference``:
the victim's clean training images of every class). ``fit`` refuses a victim or reference that the
class does not declare and asks for one it declares (``needs`` lists them; ``advbench run`` hands
over exactly those); the detector keeps what it needs for scoring. The other detectors never see
either: they take ``fit(X)``.

Supervised detectors (``supervised.py``) break the one-class rule on purpose, for the adversarial-
detection literature's own protocol (``advbench run --protocol supervised``): a class that sets
``needs_adversarial`` also takes ``adversarial=...`` (``datasets.splits.FitAttack``: clean training
images and adversarial images made from them, a file's training attack set), never a test set.

Subclasses implement ``_fit(X)`` (``_fit(X, victim[, reference])`` for victim-aware ones) and
``_score(X)`` on float32 images in [0, 1]. Detectors whose
score is a differentiable function of the image (the deep ones) also implement
``_score_tensor(x)`` and set ``differentiable = True``: ``score_tensor(x)`` then gives the same
scores as ``decision_function`` as a torch tensor with gradients, for detector-aware attacks.

Score variants: a detector may give several anomaly scores of each image from its one fit
(``score_variants(X)``, a dict by name, ``variant_names()`` the names from the hyperparameters
alone, no fit needed). The first is always ``DEFAULT_VARIANT`` (``"paper"``): the detector's own
score, exactly ``decision_function(X)``, the one the benchmark's tables report under the
detector's name. A detector without variants gives only that one, and needs nothing more;
one with variants implements ``_variant_names()`` and ``_score_variants(X)`` (float32 images in
[0, 1], one array per name), computing them together so that one forward pass feeds all.
``fit`` scores the training images' variants in that same pass (``variant_scores_``, of which
``decision_scores_`` is the default's entry), so a run scores each image once.
``advbench run`` records every other variant as a row of its own, ``<detector>[<variant>]``
(``advbench.score_variants``, whose names this module re-exports). Variant names are lowercase
words joined by hyphens (``VARIANT_NAME``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from advbench.score_variants import DEFAULT_VARIANT, VARIANT_NAME, split_variant, variant_name

__all__ = ["DEFAULT_VARIANT", "BaseDetector", "check_images", "needs", "split_variant", "variant_name"]


#: What ``fit`` may take besides the images, and the class flag that declares each.
_INPUTS = (("victim", "needs_victim"), ("reference", "needs_reference"), ("adversarial", "needs_adversarial"))


def needs(detector) -> tuple[str, ...]:
    """What a detector (or detector class) takes besides the images: ``"victim"``, ``"reference"``,
    ``"adversarial"`` (a supervised detector), or nothing."""
    return tuple(name for name, flag in _INPUTS if getattr(detector, flag))


def check_images(X, *, name: str = "X") -> np.ndarray:
    """Validate an image batch and return it as float32 in [0, 1].

    Raises ValueError with a readable message for a wrong shape, an empty batch,
    non-finite values or values outside the valid range.
    """
    X = np.asarray(X)
    if X.ndim != 4 or 0 in X.shape[1:]:
        raise ValueError(f"{name} must have shape (N, C, H, W); got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one image is needed")
    if X.dtype == np.uint8:
        return X.astype(np.float32) / 255.0
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{name} must be uint8 or float in [0, 1]; got dtype {X.dtype}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if X.min() < 0.0 or X.max() > 1.0:
        raise ValueError(f"{name} must lie in [0, 1] when float; got [{X.min():.3g}, {X.max():.3g}]")
    return X.astype(np.float32, copy=False)


class BaseDetector(BaseEstimator):
    """Base class of all detectors: validation, ``fit`` / ``decision_function`` plumbing."""

    #: One-line description shown by ``advbench list``.
    description: str = ""
    #: Whether ``score_tensor`` is available (a differentiable torch score).
    differentiable: bool = False
    #: Whether ``fit`` takes the victim (``victim=``), and the victim's clean training data (``reference=``).
    needs_victim: bool = False
    needs_reference: bool = False
    #: Whether ``fit`` takes a training attack set (``adversarial=``): a supervised detector.
    needs_adversarial: bool = False

    def check_params(self) -> BaseDetector:
        """Validate the hyperparameters without fitting; raise ValueError naming the bad one."""
        self._check_params()
        return self

    def fit(self, X, y=None, *, victim=None, reference=None, adversarial=None):
        """Fit on clean normal-class images; ``y`` is ignored (one-class setting). ``victim``,
        ``reference`` and ``adversarial``: for a detector that ``needs`` them only (ValueError when one
        it needs is missing, TypeError for one it does not use)."""
        self.check_params()
        X = check_images(X)
        given = {"victim": victim, "reference": reference, "adversarial": adversarial}
        wanted = needs(self)
        missing = [name for name in wanted if given[name] is None]
        if missing:
            role = "is supervised" if missing[0] == "adversarial" else "looks through the victim"
            raise ValueError(f"{type(self).__name__} {role}: fit(X, {missing[0]}=...) needs it")
        unused = [name for name, value in given.items() if value is not None and name not in wanted]
        if unused:
            raise TypeError(f"{type(self).__name__} does not use the {unused[0]}")
        self.input_shape_ = tuple(X.shape[1:])
        self._fit(X, **{name: given[name] for name in wanted})
        self.variant_scores_ = self._variant_scores(X)
        self.decision_scores_ = self.variant_scores_[DEFAULT_VARIANT]
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly score of each image (higher = more anomalous)."""
        return self._checked_scores(self._fitted_input(X))

    def variant_names(self) -> tuple[str, ...]:
        """The names of the score variants (``score_variants``), ``DEFAULT_VARIANT`` first; known from
        the hyperparameters, before fitting. ``(DEFAULT_VARIANT,)`` for a detector without variants."""
        names = tuple(self._variant_names())
        if not names or names[0] != DEFAULT_VARIANT or len(set(names)) != len(names):
            raise RuntimeError(
                f"{type(self).__name__} gives score variants {names!r}: distinct names, {DEFAULT_VARIANT!r} first"
            )
        bad = [name for name in names if not VARIANT_NAME.fullmatch(name)]
        if bad:
            raise RuntimeError(f"{type(self).__name__}: score variant names {bad!r} are not {VARIANT_NAME.pattern}")
        return names

    def score_variants(self, X) -> dict[str, np.ndarray]:
        """Every score variant of each image from the one fit: ``{name: float64 scores}`` in the order of
        ``variant_names()``; ``DEFAULT_VARIANT``'s scores equal ``decision_function(X)`` exactly."""
        return self._variant_scores(self._fitted_input(X))

    def _variant_scores(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """``score_variants`` of checked images; for a detector without variants, ``_score`` alone."""
        names = self.variant_names()
        if names == (DEFAULT_VARIANT,):
            return {DEFAULT_VARIANT: self._checked_scores(X)}
        found = self._score_variants(X)
        if set(found) != set(names):
            raise RuntimeError(f"{type(self).__name__} returned score variants {sorted(found)}, not {list(names)}")
        return {name: self._as_scores(found[name], X) for name in names}

    def _fitted_input(self, X) -> np.ndarray:
        """``X`` checked (``check_images``) against a fitted detector's image shape, as float32 in [0, 1]."""
        check_is_fitted(self, "decision_scores_")
        X = check_images(X)
        if tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has images of shape {tuple(X.shape[1:])}; the detector was fitted on {self.input_shape_}"
            )
        return X

    def score_tensor(self, x):
        """The anomaly scores of float images ``x`` (a torch tensor ``N x C x H x W`` in [0, 1] on the
        detector's device) as a torch tensor that carries gradients back to ``x``; equal to
        ``decision_function`` within float tolerance. TypeError for a detector without one."""
        check_is_fitted(self, "decision_scores_")
        if not self.differentiable:
            raise TypeError(
                f"{type(self).__name__} has no differentiable score; attack it through a surrogate detector"
            )
        if tuple(x.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"x has images of shape {tuple(x.shape[1:])}; the detector was fitted on {self.input_shape_}"
            )
        return self._score_tensor(x).reshape(-1)

    def _checked_scores(self, X: np.ndarray) -> np.ndarray:
        return self._as_scores(self._score(X), X)

    def _as_scores(self, values, X: np.ndarray) -> np.ndarray:
        """One float64 score per image of ``X`` (RuntimeError for another count)."""
        scores = np.asarray(values, dtype=np.float64).reshape(-1)
        if scores.shape[0] != X.shape[0]:
            raise RuntimeError(f"{type(self).__name__} returned {scores.shape[0]} scores for {X.shape[0]} images")
        return scores

    def _check_params(self) -> None:
        """Subclasses raise ValueError for a hyperparameter out of range (no data needed)."""

    def _fit(self, X: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_tensor(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _variant_names(self) -> tuple[str, ...]:
        """Subclasses with score variants return their names, ``DEFAULT_VARIANT`` first."""
        return (DEFAULT_VARIANT,)

    def _score_variants(self, X: np.ndarray) -> dict:  # pragma: no cover - abstract
        """Subclasses with score variants return one array per name of ``_variant_names()``."""
        raise NotImplementedError
