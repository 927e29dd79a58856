"""Classic baseline detectors (OC-SVM, KDE, IF, Mahalanobis) under the detector contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from synthetic_images import assert_detects, check_shortcuts_fail, structure_dataset

from advbench import detectors

CLASSIC = ["ocsvm", "kde", "iforest", "mahalanobis"]
#: The AUC each detector must beat on ``structure_dataset(120, 40, seed=0)``. Measured with seeds 0-4 of the data
#: (detector seed 0): OC-SVM 0.989-0.999, KDE 1.000, IF 0.887-0.948, Mahalanobis 0.998-1.000; the training-free
#: shortcuts 0.485-0.519.
MIN_AUC = {"ocsvm": 0.93, "kde": 0.95, "iforest": 0.8, "mahalanobis": 0.95}


@pytest.fixture(scope="module")
def data():
    return structure_dataset(n_train=120, n_test=40, seed=0)


@pytest.fixture(scope="module")
def fitted(data):
    X_train, _, _ = data
    return {name: detectors.create(name, random_state=0).fit(X_train) for name in CLASSIC}


@pytest.mark.parametrize("name", CLASSIC)
def test_detects_anomalies_of_structure(name, data, fitted):
    _, X_test, y_test = data
    scores = fitted[name].decision_function(X_test)
    assert scores.shape == (len(X_test),) and scores.dtype == np.float64
    assert_detects(y_test, scores, MIN_AUC[name], name)


def test_training_free_shortcuts_fail_the_same_assertion(data):
    check_shortcuts_fail(*data, min(MIN_AUC.values()))


@pytest.mark.parametrize("name", CLASSIC)
def test_scores_not_degenerate(name, data, fitted):
    _, X_test, _ = data
    scores = fitted[name].decision_function(X_test)
    assert np.isfinite(scores).all()
    assert len(np.unique(scores)) > 1 and scores.std() > 0
    assert fitted[name].decision_scores_.shape == (len(data[0]),)


@pytest.mark.parametrize("name", CLASSIC)
def test_same_seed_same_scores(name, data, fitted):
    X_train, X_test, _ = data
    again = detectors.create(name, random_state=0).fit(X_train)
    np.testing.assert_array_equal(again.decision_function(X_test), fitted[name].decision_function(X_test))


@pytest.mark.parametrize("name", CLASSIC)
def test_uint8_and_float_inputs_agree(name, data, fitted):
    _, X_test, _ = data
    np.testing.assert_allclose(
        fitted[name].decision_function(X_test.astype(np.float32) / 255.0),
        fitted[name].decision_function(X_test),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("name", CLASSIC)
def test_clone_keeps_params_and_drops_fit(name, fitted):
    copy = clone(fitted[name])
    assert copy.get_params() == fitted[name].get_params()
    assert not hasattr(copy, "decision_scores_")


@pytest.mark.parametrize("name", CLASSIC)
@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 32, 32), dtype=np.uint8), "shape"),
        (np.zeros((0, 3, 32, 32), dtype=np.uint8), "empty"),
        (np.full((4, 3, 32, 32), np.nan, dtype=np.float32), "NaN"),
        (np.full((4, 3, 32, 32), 2.0, dtype=np.float32), r"\[0, 1\]"),
    ],
)
def test_bad_input_raises_value_error(name, bad, message, fitted):
    with pytest.raises(ValueError, match=message):
        detectors.create(name).fit(bad)
    with pytest.raises(ValueError, match=message):
        fitted[name].decision_function(bad)


def test_kde_bandwidth_searched_on_grid_and_reproducible(data):
    from advbench.detectors.kde import DEFAULT_BANDWIDTHS

    X_train, _, _ = data
    kde = detectors.create("kde", random_state=0).fit(X_train)
    assert kde.bandwidth_ in DEFAULT_BANDWIDTHS
    assert detectors.create("kde", random_state=0).fit(X_train).bandwidth_ == kde.bandwidth_
    # A single value is taken as given, without a search.
    assert detectors.create("kde", bandwidths=[0.5]).fit(X_train).bandwidth_ == 0.5
    with pytest.raises(ValueError, match="bandwidths"):
        detectors.create("kde", bandwidths=[]).fit(X_train)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("ocsvm", {"nu": 5.0}, "nu must"),
        ("ocsvm", {"nu": 0.0}, "nu must"),
        ("ocsvm", {"gamma": "wide"}, "gamma must"),
        ("ocsvm", {"gamma": -1.0}, "gamma must"),
        ("ocsvm", {"pca": 1.5}, "pca must"),
        ("kde", {"bandwidths": []}, "bandwidths must"),
        ("kde", {"bandwidths": [0.5, 0.0]}, "bandwidths must"),
        ("kde", {"cv": 1}, "cv must"),
        ("iforest", {"n_estimators": 0}, "n_estimators must"),
        ("iforest", {"max_samples": 0.5}, "max_samples must"),
        ("mahalanobis", {"scaling": "zscore"}, "scaling must"),
        ("mahalanobis", {"gcn": "yes"}, "gcn must"),
        ("mahalanobis", {"pca": 0}, "pca must"),
        ("mahalanobis", {"random_state": -1}, "random_state must"),
    ],
)
def test_bad_parameters_are_found_without_data_and_before_fitting(name, params, message, data, monkeypatch):
    detector = detectors.create(name, **params)
    with pytest.raises(ValueError, match=message):
        detector.check_params()
    monkeypatch.setattr(type(detector), "_fit", lambda self, X: pytest.fail("fit started with a bad parameter"))
    with pytest.raises(ValueError, match=message):
        detector.fit(data[0])


@pytest.mark.parametrize("name", CLASSIC)
def test_defaults_and_documented_values_pass_the_checks(name):
    detectors.create(name, random_state=0).check_params()
    detectors.create(name, pca=10, scaling="standard", gcn=True).check_params()


def test_pca_false_is_no_pca(data):
    """``pca = false`` is how a TOML table turns PCA off (TOML has no null): the scores of ``pca=None``."""
    X_train, X_test, _ = data
    off = detectors.create("iforest", pca=False, random_state=0).fit(X_train).decision_function(X_test)
    none = detectors.create("iforest", pca=None, random_state=0).fit(X_train).decision_function(X_test)
    reduced = detectors.create("iforest", pca=0.95, random_state=0).fit(X_train).decision_function(X_test)
    assert np.array_equal(off, none) and not np.array_equal(off, reduced)
