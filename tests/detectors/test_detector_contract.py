"""The detector contract (``advbench/detectors/base.py``) checked on every registered detector.

In the spirit of scikit-learn's ``check_estimator``: every name of ``detectors.names()`` (built-in
detectors and ablation presets), the plug-in of the ``plugin`` fixture (``conftest.py``) and the
members of the ``pyod`` group (skipped without PyOD) must

- store their constructor parameters unchanged (``get_params``, ``clone``, no other attribute);
- return ``self`` from ``fit``;
- give one finite float64 score per image in ``decision_scores_`` and ``decision_function``, and a
  planted outlier a higher score than every normal image;
- give exactly the same scores for the same ``random_state``;
- when ``differentiable``, give the same scores with gradients from ``score_tensor`` (else a TypeError);
- give their score variants (``score_variants``) under the names of ``variant_names()``, the default
  (``"paper"``) first and bit for bit ``decision_function``'s (the only one for most detectors), and
  the training images' in ``variant_scores_``;
- reject a bad parameter with a ValueError naming it from ``check_params()``, and from ``fit``
  before any fitting starts.

``FAST`` holds short settings per detector and ``BAD`` one bad parameter per detector;
``test_the_tables_cover_every_detector`` fails for a newly registered detector until it has both.

Victim-aware detectors (``needs_victim``) run the same checks on colour images, fitted with a tiny
victim trained on the synthetic GTSRB stand-in of ``_attack_data`` and its training images as the
reference data: the normal images are that stand-in's stop signs, the outlier pixel noise. Supervised
detectors (``needs_adversarial``) also take a training attack set: training images of every class
and copies of them with pixel noise added.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
from sklearn.base import clone

from advbench import detectors
from advbench.datasets.reference import Reference
from advbench.datasets.splits import FitAttack
from advbench.detectors.victim_access import Victim

#: The working plug-in detector that the ``plugin`` fixture (``conftest.py``) installs.
PLUGIN_DETECTOR = "mean-distance"

#: Short settings per detector (1 x 28 x 28 images, 32 training images): each fit takes well under a second.
DUAL = {"epochs": 1, "batch_size": 16, "channels": (4, 8, 8), "latent_dim": 8, "grad_batches": 0, "device": "cpu"}
FAST: dict[str, dict] = {
    "ocsvm": {"nu": 0.2},
    "kde": {"bandwidths": [0.5, 2.0], "cv": 3},
    "iforest": {"n_estimators": 100},
    "mahalanobis": {"pca": 0.9},
    "dcae": {"epochs": 2, "batch_size": 16, "lr_milestones": [1]},
    "deep-svdd": {"ae_epochs": 1, "epochs": 2, "batch_size": 16},
    "deep-svdd-soft": {"ae_epochs": 1, "epochs": 2, "batch_size": 16, "warm_up_epochs": 0},
    "rcae": {"pretrain_epochs": 1, "iterations": 1, "epochs_per_iteration": 1, "batch_size": 16},
    "dual-adversarial": DUAL,
    "ablation-single-ae": DUAL,
    "ablation-single-ae-d": DUAL,
    "ablation-dual-ae-d": DUAL,
    PLUGIN_DETECTOR: {"scale": 2.0},
    "pyod:ECOD": {},
    "pyod:COPOD": {},
    "pyod:HBOS": {"n_bins": 5},
    "pyod:IForest": {"n_estimators": 100},
    "pyod:KNN": {"n_neighbors": 3},
    "pyod:LOF": {"n_neighbors": 10},
    "feature-squeezing": {},
    "magnet": {"epochs": 2, "batch_size": 16},
    "victim-mahalanobis": {},
    "kd": {"cv": 3},
    "lid": {"k": 5, "batch_size": 20},
    "nic": {"components": 5, "max_samples": 50},
    "bu": {"passes": 5},
    "msp": {},
    "energy": {},
    "kd-bu": {"passes": 5, "regression_cv": 3},
    "lid-supervised": {"k": 5, "batch_size": 20, "batches": 2, "regression_cv": 3},
    "mahalanobis-supervised": {"magnitudes": [0.0, 0.002], "regression_cv": 3},
}

#: One bad parameter per detector: (parameters, the name the ValueError must contain).
BAD: dict[str, dict] = {
    "ocsvm": {"nu": 5.0},
    "kde": {"cv": 1},
    "iforest": {"n_estimators": 0},
    "mahalanobis": {"pca": 0},
    "dcae": {"random_state": "0"},
    "deep-svdd": {"nu": 0.0},
    "deep-svdd-soft": {"warm_up_epochs": -1},
    "rcae": {"sparse_quantile": 1.0},
    "dual-adversarial": {"reduction": "median"},
    "ablation-single-ae": {"random_state": -1},
    "ablation-single-ae-d": {"lr": 0.0},
    "ablation-dual-ae-d": {"latent_dim": 0},
    PLUGIN_DETECTOR: {"scale": -1.0},
    "pyod:ECOD": {"scaling": "zscore"},
    "pyod:COPOD": {"pca": 1.5},
    "pyod:HBOS": {"gcn": "yes"},
    "pyod:IForest": {"random_state": -1},
    "pyod:KNN": {"pca": 0},
    "pyod:LOF": {"scaling": "max"},
    "feature-squeezing": {"squeezers": ["blur-3"]},
    "magnet": {"temperatures": [0]},
    "victim-mahalanobis": {"covariance": "graphical-lasso"},
    "kd": {"bandwidths": [0.0]},
    "lid": {"k": 1},
    "nic": {"nu": 0.0},
    "bu": {"passes": 1},
    "msp": {"device": "tpu"},
    "energy": {"temperature": 0.0},
    "kd-bu": {"regression_cv": 1},
    "lid-supervised": {"batches": 0},
    "mahalanobis-supervised": {"magnitudes": [-0.1]},
}

NAMES = [*detectors.names(), PLUGIN_DETECTOR, *detectors.GROUPS["pyod"]]


def test_the_tables_cover_every_detector():
    """A newly registered detector (or pyod group member) fails here until ``FAST`` and ``BAD`` have it."""
    expected = set(NAMES)
    assert set(FAST) == expected, f"FAST: missing {sorted(expected - set(FAST))}, stale {sorted(set(FAST) - expected)}"
    assert set(BAD) == expected, f"BAD: missing {sorted(expected - set(BAD))}, stale {sorted(set(BAD) - expected)}"
    assert all(len(bad) == 1 for bad in BAD.values())


@pytest.fixture
def name(request):
    """The detector's name, with its plug-in installed or PyOD present; a name without settings fails."""
    name = request.param
    if name == PLUGIN_DETECTOR:
        assert PLUGIN_DETECTOR in request.getfixturevalue("plugin")
    elif name.startswith("pyod:"):
        pytest.importorskip("pyod")
    if name not in FAST or name not in BAD:
        pytest.fail(f"{name} has no entry in FAST or BAD of {__name__}: add one")
    return name


def contract_test(function):
    """Run ``function`` once per detector name (see the ``name`` fixture)."""
    return pytest.mark.parametrize("name", NAMES, indirect=True)(function)


def _params(name: str) -> dict:
    return {"random_state": 0, **FAST[name]}


def _images():
    """``(X_train, X_test)``: smooth grey 1 x 28 x 28 uint8 images (level 0.47-0.53, a faint wave);
    ``X_test`` holds 8 more of them and, last, the outlier: bright pixel noise (200-255)."""
    rng = np.random.default_rng(0)
    grid = np.linspace(0.0, 1.0, 28)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")

    def smooth(n):
        level = rng.uniform(0.47, 0.53, (n, 1, 1, 1))
        phase = rng.uniform(0.0, 2 * np.pi, (n, 1, 1, 1))
        return np.round(255 * (level + 0.03 * np.sin(2 * np.pi * (yy + xx) + phase))).astype(np.uint8)

    outlier = rng.integers(200, 256, (1, 1, 28, 28)).astype(np.uint8)
    return smooth(32), np.concatenate([smooth(8), outlier])


X_TRAIN, X_TEST = _images()
_FITTED: dict[str, detectors.BaseDetector] = {}
_VICTIM_CASE: dict = {}


def _victim_case() -> tuple[np.ndarray, np.ndarray, dict]:
    """``(X_train, X_test, given)`` of the victim-aware detectors: the stand-in's training stop signs; its
    test stop signs and, last, pixel noise; the tiny victim and the stand-in's training images (built once)."""
    if not _VICTIM_CASE:
        from _attack_data import frozen_victim, synthetic_gtsrb

        data = synthetic_gtsrb()
        model, stop_signs, _ = frozen_victim(data)
        rng = np.random.default_rng(0)
        noise = rng.integers(0, 256, (1, 3, 32, 32)).astype(np.uint8)
        clean = data.train.images[::3]
        noisy = np.clip(clean + rng.normal(0, 60, clean.shape), 0, 255).astype(np.uint8)
        given = {
            "victim": Victim(model, "tiny"),
            "reference": Reference(data.train.images, data.train.labels),
            "adversarial": FitAttack("noise", clean, noisy, np.arange(len(clean))),
        }
        _VICTIM_CASE["case"] = (data.train.images[data.train.labels == 14], np.concatenate([stop_signs, noise]), given)
    return _VICTIM_CASE["case"]


def _case(name: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(X_train, X_test, what fit takes besides X)`` for the detector ``name``."""
    wanted = detectors.needs(detectors.lookup(name)[0])
    if not wanted:
        return X_TRAIN, X_TEST, {}
    train, test, given = _victim_case()
    return train, test, {key: given[key] for key in wanted}


def _fit(name: str, **params) -> detectors.BaseDetector:
    """The detector ``name`` (fast settings, ``params`` over them), fitted on its case."""
    train, _, given = _case(name)
    return detectors.create(name, **{**_params(name), **params}).fit(train, **given)


def _fitted(name: str) -> detectors.BaseDetector:
    """The detector with the fast settings fitted on its case, fitted once per test session."""
    if name not in _FITTED:
        _FITTED[name] = _fit(name)
    return _FITTED[name]


def _fitted_attributes(detector) -> list[str]:
    return [key for key in vars(detector) if key.endswith("_") and not key.startswith("__")]


@contract_test
def test_constructor_stores_parameters_unchanged_and_clone_works(name):
    passed = _params(name)
    detector = detectors.create(name, **passed)
    _, preset = detectors.lookup(name)
    defaults = {
        key: p.default for key, p in inspect.signature(type(detector).__init__).parameters.items() if key != "self"
    }
    params = detector.get_params()
    assert params == {**defaults, **preset, **passed}
    assert all(params[key] is value for key, value in passed.items())  # the very objects passed
    assert set(vars(detector)) == set(params)  # the constructor sets its parameters and nothing else
    copy = clone(detector)
    assert type(copy) is type(detector) and copy.get_params() == params


@contract_test
def test_fit_returns_self_and_scores_each_image_with_the_outlier_highest(name):
    x_train, x_test, given = _case(name)
    detector = detectors.create(name, **_params(name))
    assert detector.fit(x_train, **given) is detector
    _FITTED.setdefault(name, detector)
    train = detector.decision_scores_
    assert isinstance(train, np.ndarray) and train.dtype == np.float64 and train.shape == (len(x_train),)
    assert np.isfinite(train).all()
    scores = detector.decision_function(x_test)
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64 and scores.shape == (len(x_test),)
    assert np.isfinite(scores).all()
    assert scores[-1] > scores[:-1].max(), f"outlier {scores[-1]:.4g} not above the normal images {scores[:-1]}"


@contract_test
def test_same_random_state_gives_the_same_scores(name):
    first = _fitted(name)
    again = _fit(name)
    x_test = _case(name)[1]
    np.testing.assert_array_equal(again.decision_scores_, first.decision_scores_)
    np.testing.assert_array_equal(again.decision_function(x_test), first.decision_function(x_test))


@contract_test
def test_bad_parameter_raises_before_fitting(name, monkeypatch):
    ((parameter, value),) = BAD[name].items()
    detector = detectors.create(name, **{**_params(name), parameter: value})
    with pytest.raises(ValueError, match=re.escape(parameter)):
        detector.check_params()
    started = lambda self, X: pytest.fail(f"{name}: fit started with {parameter}={value!r}")  # noqa: E731
    monkeypatch.setattr(type(detector), "_fit", started)
    x_train, _, given = _case(name)
    with pytest.raises(ValueError, match=re.escape(parameter)):
        detector.fit(x_train, **given)
    assert _fitted_attributes(detector) == []


@contract_test
def test_score_tensor_matches_decision_function_or_is_refused(name):
    import torch

    detector = _fitted(name)
    x_test = _case(name)[1]
    x = torch.from_numpy(x_test.astype(np.float32) / 255.0)
    if not detector.differentiable:
        with pytest.raises(TypeError, match="no differentiable score"):
            detector.score_tensor(x)
        return
    x.requires_grad_(True)
    scores = detector.score_tensor(x)
    np.testing.assert_allclose(scores.detach().numpy(), detector.decision_function(x_test), rtol=1e-4, atol=1e-4)
    scores.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@contract_test
def test_score_variants_start_with_decision_function_bit_for_bit(name):
    detector = _fitted(name)
    x_train, x_test, _ = _case(name)
    names = detector.variant_names()
    assert names[0] == detectors.DEFAULT_VARIANT and len(set(names)) == len(names)
    found = detector.score_variants(x_test)
    assert list(found) == list(names)
    for values in found.values():
        assert isinstance(values, np.ndarray) and values.dtype == np.float64 and values.shape == (len(x_test),)
        assert np.isfinite(values).all()
    np.testing.assert_array_equal(found[detectors.DEFAULT_VARIANT], detector.decision_function(x_test))
    train = detector.variant_scores_  # the training images', scored by fit
    assert list(train) == list(names) and train[detectors.DEFAULT_VARIANT] is detector.decision_scores_
    for name, values in detector.score_variants(x_train).items():
        np.testing.assert_array_equal(train[name], values)
    with pytest.raises(ValueError, match="shape"):
        detector.score_variants(x_test[:, :, :20, :20])


class _Variants(detectors.BaseDetector):
    """A detector whose score variants are set per instance (``names``, ``give``), to test the contract's checks."""

    def __init__(self, names=("paper", "double"), give=None, random_state=None):
        self.names = names
        self.give = give
        self.random_state = random_state

    def _fit(self, X):
        pass

    def _score(self, X):
        return X.mean(axis=(1, 2, 3))

    def _variant_names(self):
        return self.names

    def _score_variants(self, X):
        found = {"paper": self._score(X), "double": 2 * self._score(X)}
        return found if self.give is None else self.give(X)


def test_score_variants_are_checked():
    good = _Variants().fit(X_TRAIN)
    found = good.score_variants(X_TEST)
    assert list(found) == ["paper", "double"] and found["double"].dtype == np.float64
    np.testing.assert_array_equal(found["paper"], good.decision_function(X_TEST))
    for names in (("double", "paper"), ("paper", "paper"), (), ("paper", "Double"), ("paper", "a[b]")):
        with pytest.raises(RuntimeError, match="score variant"):
            _Variants(names=names).variant_names()
    with pytest.raises(RuntimeError, match="returned score variants"):
        _Variants(give=lambda X: {"paper": X.mean(axis=(1, 2, 3))}).fit(X_TRAIN).score_variants(X_TEST)
    with pytest.raises(RuntimeError, match="scores for"):
        _Variants(give=lambda X: {"paper": X.mean(axis=(1, 2, 3)), "double": np.zeros(2)}).fit(X_TRAIN).score_variants(
            X_TEST
        )
