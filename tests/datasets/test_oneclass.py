"""One-class benchmarks (MNIST, Fashion-MNIST): protocols 1 and 2, the run and its tables, detectors
on 1 x 28 x 28 images, and (slow, real files) the classic detectors against Deep SVDD's Table 1."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from idx_files import REAL_MNIST, write_arrays

from advbench import detectors
from advbench.cli import main
from advbench.datasets import mnist, oneclass, registry
from advbench.detectors.params import resolve as resolve_params
from advbench.errors import AdvbenchError
from advbench.runs.results import read_results, read_scores, scores_path

N_TRAIN, N_TEST = 200, 60


def write_levels(folder: Path) -> Path:
    """IDX files where class ``c`` images are grey level ``20 c`` plus a little noise (labels cycle 0-9)."""
    rng = np.random.default_rng(1)
    arrays = []
    for n in (N_TRAIN, N_TEST):
        labels = np.arange(n) % 10
        images = 20 * labels[:, None, None] + rng.integers(0, 10, (n, 28, 28))
        arrays += [images, labels]
    return write_arrays(folder, arrays)


@pytest.fixture(scope="module")
def levels(tmp_path_factory) -> Path:
    return write_levels(tmp_path_factory.mktemp("levels") / "mnist")


def test_protocol_2_trains_on_the_class_and_tests_on_the_whole_test_split(levels):
    data = mnist.load("mnist", levels)
    split = oneclass.split(data, "2", 3, seed=0)
    assert len(split.train) == N_TRAIN // 10 and (split.train // 20 == 3).all()
    assert len(split.test) == N_TEST // 10 and len(split.anomalies["other-classes"]) == N_TEST - N_TEST // 10
    assert not (split.anomalies["other-classes"].images // 20 == 3).all(axis=(1, 2, 3)).any()
    assert split.anomalies["other-classes"].source_index is None
    np.testing.assert_array_equal(oneclass.split(data, "2", 3, seed=5).rows["train_rows"], split.rows["train_rows"])


def test_protocol_1_pools_the_class_and_draws_by_the_seed(levels):
    data = mnist.load("mnist", levels)
    first, again, other = (oneclass.split(data, "1", 4, seed) for seed in (2, 2, 3))
    pool = N_TRAIN // 10 + N_TEST // 10
    assert len(first.train) == int(0.8 * pool) and len(first.test) == pool - int(0.8 * pool)
    rows = first.rows
    assert not set(rows["train_rows"]) & set(rows["test_rows"])
    assert set(rows["train_rows"]) | set(rows["test_rows"]) == set(
        np.flatnonzero(np.r_[data.train_labels, data.test_labels] == 4)
    )
    assert len(first.anomalies["other-classes"]) == len(first.test)
    assert (data.test_labels[rows["anomaly_rows"]] != 4).all() and len(set(rows["anomaly_rows"])) == len(first.test)
    for key in rows:
        np.testing.assert_array_equal(rows[key], again.rows[key])
    assert not np.array_equal(rows["test_rows"], other.rows["test_rows"])
    assert (first.train // 20 == 4).all() and (first.test // 20 == 4).all()


@pytest.mark.parametrize(("spec", "expected"), [("all", list(range(10))), ("7,0", [7, 0]), (" 3 ", [3])])
def test_classes(spec, expected):
    assert oneclass.parse_classes(spec, list(range(10))) == expected


@pytest.mark.parametrize("spec", ["10", "1,1", "a", "", "-1"])
def test_bad_classes_are_one_line_errors(spec):
    with pytest.raises(AdvbenchError, match="--classes"):
        oneclass.parse_classes(spec, list(range(10)))


def test_run_writes_one_line_per_class_and_resumes(levels, tmp_path, mean_intensity, capsys):
    out = tmp_path / "p2"
    argv = [
        "run",
        "--benchmark",
        "mnist",
        "--root",
        str(levels),
        "--classes",
        "0,9,4",
        "--detectors",
        "mean-intensity",
        "--seeds",
        "2",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    records = read_results(out)
    assert len(records) == 6 and {r["normal_class"] for r in records} == {0, 4, 9}
    for record in records:
        assert (record["benchmark"], record["protocol"], record["attack"]) == ("mnist", "2", "other-classes")
        assert (record["n_train"], record["n_normal"], record["n_adversarial"]) == (20, 6, 54)
        assert record["paired_auc"] is None and record["matched_auc"] is None
        expected = {0: 1.0, 9: 0.0}.get(record["normal_class"])  # the darkest class and the brightest
        if expected is not None:
            assert record["auc"] == expected
    stored = read_scores(scores_path(out, "mean-intensity", 1, 9))
    assert stored["attacks"]["other-classes"].shape == (54,) and "anomaly_rows" in stored
    table = (out / "auc_table.md").read_text()
    assert "| 0 | 100.0 ± 0.0 |\n| 4 | 55.6 ± 0.0 |\n| 9 | 0.0 ± 0.0 |\n| mean | 51.9 ± 0.0 |" in table
    assert (out / "figures" / "auc_per_class.png").is_file()
    capsys.readouterr()
    assert main(argv) == 0
    assert "6 pairs (6 reused, 0 computed)" in capsys.readouterr().err
    runs = json.loads((out / "run.json").read_text())
    entry = (runs["runs"] if isinstance(runs, dict) else runs)[-1]
    assert entry["benchmark"] == "mnist" and entry["classes"] == [0, 9, 4]


def test_score_variants_of_a_one_class_run(levels, tmp_path, monkeypatch, capsys):
    """A detector with a score variant (``fake_detectors``: ``darker`` is minus the mean pixel value) on
    MNIST-type pairs: its lines per class, its scores in the class's scores file, its column in the table."""
    from fake_detectors import MEAN_INTENSITY_VARIANTS

    monkeypatch.setitem(detectors._REGISTRY, "mean-intensity", MEAN_INTENSITY_VARIANTS)
    out = tmp_path / "variants"
    argv = ["run", "--benchmark", "mnist", "--root", str(levels), "--classes", "0,9", "--detectors", "mean-intensity"]
    assert main([*argv, "--seeds", "1", "--out", str(out)]) == 0
    aucs = {(r["detector"], r["normal_class"]): r["auc"] for r in read_results(out)}
    assert aucs == {
        ("mean-intensity", 0): 1.0,
        ("mean-intensity", 9): 0.0,
        ("mean-intensity[darker]", 0): 0.0,
        ("mean-intensity[darker]", 9): 1.0,
    }
    path = scores_path(out, "mean-intensity[darker]", 0, 9)
    assert path == scores_path(out, "mean-intensity", 0, 9)
    np.testing.assert_array_equal(read_scores(path, "darker")["normal_test"], -read_scores(path)["normal_test"])
    table = (out / "auc_table.md").read_text()
    assert "| Normal class | mean-intensity | mean-intensity[darker] |" in table
    assert "| 0 | **100.0** | 0.0 |\n| 9 | 0.0 | **100.0** |" in table  # bold: the best of each class's row
    capsys.readouterr()
    assert main([*argv, "--seeds", "1", "--out", str(out)]) == 0
    assert "2 pairs (2 reused, 0 computed)" in capsys.readouterr().err


def test_report_of_a_one_class_folder_needs_every_scores_file(levels, tmp_path, mean_intensity, capsys):
    out = tmp_path / "missing"
    argv = ["run", "--benchmark", "mnist", "--root", str(levels), "--classes", "0,9", "--detectors", "mean-intensity"]
    assert main([*argv, "--seeds", "1", "--out", str(out)]) == 0
    missing = scores_path(out, "mean-intensity", 0, 9)
    missing.unlink()
    (out / "auc_table.md").unlink()
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"advbench report: error: {missing}: missing scores file of a finished pair; run `advbench run` again to "
        "recompute it\n"
    )
    assert not (out / "auc_table.md").exists()


def test_protocol_1_run_and_table_2(levels, tmp_path, mean_intensity):
    out = tmp_path / "p1"
    argv = [
        "run",
        "--benchmark",
        "mnist",
        "--root",
        str(levels),
        "--protocol",
        "1",
        "--classes",
        "0",
        "--detectors",
        "mean-intensity",
        "--seeds",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    (record,) = read_results(out)
    assert record["protocol"] == "1" and record["n_normal"] == record["n_adversarial"] == 6 and record["auc"] == 1.0
    assert "Proposed method" in (out / "paper_table2.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--benchmark", "gtsrb", "--data", "x.h5", "--root", "r"], "--root: not with --data"),
        (["--benchmark", "gtsrb", "--data", "x.h5", "--classes", "1"], "--classes: not with --data"),
        (["--benchmark", "gtsrb", "--root", "r"], "--root: only for --benchmark mnist|fashion-mnist"),
        (["--benchmark", "mnist", "--data", "x.h5"], "--data x.h5: no such benchmark file"),
        (["--benchmark", "mnist", "--protocol", "official"], "--protocol: expected one of 2, 1"),
        (["--benchmark", "cifar"], "--benchmark: expected one of"),
        (["--benchmark", "mnist", "--classes", "12"], "--classes"),
    ],
)
def test_flags_that_do_not_fit_the_benchmark(levels, tmp_path, capsys, argv, message):
    extra = ["--root", str(levels)] if "mnist" in argv and "--data" not in argv else []
    assert main(["run", *argv, *extra, "--out", str(tmp_path / "o"), "--detectors", "iforest"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o" / "results.jsonl").exists()


def _params(name: str, benchmark: str, config: dict | None = None) -> dict:
    return resolve_params(name, benchmark, seed=0, config=config, device="cpu", profile="default").params


def test_reference_preprocessing_on_mnist_and_overrides():
    assert _params("ocsvm", "mnist")["gcn"] is False
    assert _params("dcae", "mnist")["gcn"] is True
    assert _params("dcae", "fashion-mnist", {"gcn": False})["gcn"] is False
    assert _params("dcae", "gtsrb")["gcn"] is False
    assert _params("iforest", "mnist")["pca"] == 0.95
    assert _params("iforest", "gtsrb")["pca"] is None
    assert _params("iforest", "mnist", {"pca": False})["pca"] is False


@pytest.mark.parametrize("name", ["dcae", "deep-svdd-soft", "rcae", "dual-adversarial", "ablation-single-ae-d"])
def test_deep_detectors_build_their_networks_for_28_by_28(name):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (24, 1, 28, 28), dtype=np.uint8)
    short = {
        "dcae": {"epochs": 1},
        "deep-svdd-soft": {"epochs": 1, "ae_epochs": 1},
        "rcae": {"pretrain_epochs": 1, "iterations": 1, "epochs_per_iteration": 1},
    }.get(name, {"epochs": 1})
    detector = detectors.create(name, random_state=0, device="cpu", **short).fit(X)
    scores = detector.decision_function(X[:5])
    assert scores.shape == (5,) and np.isfinite(scores).all()
    with pytest.raises(ValueError, match=r"shape \(3, 28, 28\)"):
        detector.decision_function(np.zeros((2, 3, 28, 28), dtype=np.uint8))


def test_lenet_has_no_network_for_other_shapes():
    with pytest.raises(ValueError, match="no LeNet-type reference network for 3 x 28 x 28"):
        detectors.create("dcae", epochs=1).fit(np.zeros((4, 3, 28, 28), dtype=np.uint8))


def test_kde_log_density_is_exact_where_the_tree_sum_underflows():
    from sklearn.neighbors import KernelDensity

    from advbench.detectors.kde import log_density

    rng = np.random.default_rng(0)
    Z, Q = rng.normal(size=(300, 40)), rng.normal(size=(20, 40))
    sq = ((Q[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
    for h in (0.2, 3.0):
        a = -sq / (2 * h * h)
        top = a.max(axis=1, keepdims=True)
        brute = (
            (top[:, 0] + np.log(np.exp(a - top).sum(axis=1))) - np.log(300) - 40 * np.log(h) - 20 * np.log(2 * np.pi)
        )
        np.testing.assert_allclose(log_density(Q, Z, [h])[:, 0], brute, rtol=1e-10)
    np.testing.assert_allclose(
        log_density(Q, Z, [3.0])[:, 0], KernelDensity(bandwidth=3.0).fit(Z).score_samples(Q), rtol=1e-8
    )
    far = log_density(Q + 5.0, Z, [0.2])[:, 0]
    assert np.isfinite(far).all() and len(np.unique(far)) == len(far)


REAL = pytest.mark.skipif(not (REAL_MNIST / mnist.FILES[0]).is_file(), reason="../shared/data/mnist not present")


IF_GAP = pytest.mark.xfail(
    strict=True, reason="without PCA: 91.1 against the published 98.0; see reports/mnist-oneclass"
)
#: IF without the reference's ``--pca 1`` (PCA keeping 95 % of the variance), the MNIST default
#: (``datasets.registry``) that its published IF numbers match on all ten digits.
NO_PCA = {"pca": False}


@pytest.mark.slow
@REAL
@pytest.mark.parametrize(
    ("name", "digit", "overrides"),
    [
        # One digit per detector, the digits alternating.
        ("ocsvm", 0, {}),
        ("kde", 1, {}),
        ("iforest", 1, {}),
        pytest.param("iforest", 0, NO_PCA, marks=IF_GAP, id="iforest-no-pca-0"),
    ],
)
def test_classic_detectors_near_deep_svdd_table_1(tmp_path, name, digit, overrides):
    """Protocol 2, seed 0, the run's preprocessing (plus ``overrides``): within 3 points of Deep
    SVDD's published AUC."""
    from advbench.reports.published import DEEP_SVDD_MNIST
    from advbench.runs import pair, sources
    from advbench.runs.pair import PairTask

    source = sources.open_source(registry.LABELLED_IMAGES, "mnist", REAL_MNIST)
    resolved = resolve_params(name, "mnist", seed=0, config=overrides, device="cpu", profile="default")
    task = {
        "source_kind": registry.LABELLED_IMAGES,
        "benchmark": "mnist",
        "data": str(REAL_MNIST),
        "data_sha256": source.sha256,
        "out": str(tmp_path),
        "attacks": None,
        "threads": 1,
        "profile": "default",
        "protocol": "2",
        "versions": {},
        "detector": name,
        "seed": 0,
        "normal_class": digit,
        "config_hash": "",
        "params": resolved.params,
        "param_sources": resolved.sources,
    }
    (line,) = pair.fit_and_score(PairTask(**task))
    assert line.error is None
    assert abs(100 * line.auc - DEEP_SVDD_MNIST[name][digit][0]) <= 3.0
