"""PyOD models as detectors (``pyod:<Class>``): contract, config, run, and a cross-check with ours."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from advbench import detectors
from advbench.cli import main
from advbench.runs.metrics import roc_auc


def _data(seed: int = 0):
    """Training images around one grey level; test images around it and, as anomalies, brighter."""
    rng = np.random.default_rng(seed)
    train = np.clip(rng.normal(100, 20, (120, 1, 8, 8)), 0, 255).astype(np.uint8)
    normal = np.clip(rng.normal(100, 20, (40, 1, 8, 8)), 0, 255).astype(np.uint8)
    anomalies = np.clip(rng.normal(112, 20, (40, 1, 8, 8)), 0, 255).astype(np.uint8)
    return train, normal, anomalies


def _auc(detector, train, normal, anomalies) -> float:
    detector.fit(train)
    return roc_auc(detector.decision_function(normal), detector.decision_function(anomalies))


def test_without_pyod_the_error_says_what_to_install(monkeypatch, capsys):
    from advbench.detectors import pyod_models

    monkeypatch.setitem(sys.modules, "pyod.models", None)
    pyod_models.detector_class.cache_clear()
    pyod_models.available.cache_clear()
    with pytest.raises(ValueError, match=r'pip install "advbench\[pyod\]"'):
        detectors.create("pyod:ECOD")
    assert main(["run", "--data", "x.h5", "--out", "o", "--detectors", "pyod:ECOD"]) == 2
    assert (
        'advbench run: error: --detectors: PyOD is not installed: pip install "advbench[pyod]"'
        in capsys.readouterr().err
    )
    pyod_models.detector_class.cache_clear()
    pyod_models.available.cache_clear()


pyod = pytest.importorskip("pyod")


def test_a_pyod_model_follows_the_contract():
    lof = detectors.create("pyod:LOF", n_neighbors=7, random_state=3)
    params = lof.get_params()
    assert params["n_neighbors"] == 7 and params["scaling"] == "minmax" and params["pca"] is None
    train, normal, anomalies = _data()
    assert _auc(lof, train, normal, anomalies) > 0.6
    with pytest.raises(ValueError, match="no PyOD model 'Nope'"):
        detectors.create("pyod:Nope")
    with pytest.raises(TypeError, match="unknown parameter"):
        detectors.create("pyod:LOF", neighbours=3)


@pytest.mark.parametrize("name", detectors.GROUPS["pyod"])
def test_the_pyod_group_runs_and_is_reproducible(name):
    """Each model scores every image differently, ranks the brighter images higher (AUC 0.65-0.89 at
    seed 0; constant scores give 0.5) and gives the same scores again with the same seed."""
    train, normal, anomalies = _data()
    detector = detectors.create(name, random_state=0)
    assert _auc(detector, train, normal, anomalies) > 0.6
    first = detector.decision_function(normal)
    assert first.shape == (len(normal),) and np.isfinite(first).all() and len(np.unique(first)) == len(normal)
    again = detectors.create(name, random_state=0).fit(train).decision_function(normal)
    np.testing.assert_array_equal(first, again)


def test_pyod_models_agree_with_ours():
    """Same features (no PCA), same parameters: PyOD's OCSVM and IForest wrap the scikit-learn models
    that ours wrap, so the scores order the images the same (AUC equal to 1e-12); PyOD's KDE sums the
    kernel with scikit-learn's tree, ours exactly, which agree to 1e-6 relative at a bandwidth where
    no term underflows (the test's 8 x 8 images at bandwidth 1), hence equal AUCs."""
    train, normal, anomalies = _data(1)
    pairs = [
        (detectors.create("ocsvm"), detectors.create("pyod:OCSVM", nu=0.1, gamma="scale")),
        (detectors.create("iforest", random_state=5), detectors.create("pyod:IForest", random_state=5)),
        (detectors.create("kde", bandwidths=[1.0], pca=None), detectors.create("pyod:KDE", bandwidth=1.0)),
    ]
    for ours, theirs in pairs:
        assert abs(_auc(ours, train, normal, anomalies) - _auc(theirs, train, normal, anomalies)) < 1e-12


def test_config_tables_and_a_run(tmp_path, capsys):
    from run_fixtures import write_synthetic_benchmark

    data = write_synthetic_benchmark(tmp_path / "bench.h5")
    config = tmp_path / "c.toml"
    config.write_text('[detectors."pyod:KNN"]\nn_neighbors = 3\n')
    out = tmp_path / "run"
    argv = [
        "run",
        "--data",
        str(data),
        "--detectors",
        "pyod:ECOD,pyod:KNN,ocsvm",
        "--seeds",
        "1",
        "--config",
        str(config),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    table = (out / "auc_table.md").read_text()
    assert "| pyod:ECOD |" in table and "| pyod:KNN |" in table and "| ocsvm |" in table
    config.write_text('[detectors."pyod:KNN"]\nneighbours = 3\n')
    capsys.readouterr()
    assert main([*argv[:-2], "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"advbench run: error: --config {config}: [detectors.pyod:KNN] has unknown or reserved ")
    assert "parameter(s) ['neighbours']" in err and "n_neighbors" in err and err.count("\n") == 1
    assert not (tmp_path / "bad").exists()
