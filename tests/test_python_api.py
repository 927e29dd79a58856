"""The Python API: ``advbench.load`` and ``advbench.evaluate`` give what ``advbench run`` gives, bit for bit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from run_fixtures import NOISE, write_synthetic_benchmark

import advbench
from advbench import detectors
from advbench.cli import main
from advbench.errors import AdvbenchError, DataError, RunError
from advbench.runs import detection_metrics, metrics, results

ATTACKS = list(NOISE)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_synthetic_benchmark(tmp_path_factory.mktemp("data") / "bench.h5")


def _run(data: Path, out: Path, detector: str, seeds: str, table: str = "") -> list[dict]:
    """``advbench run`` of one detector (its ``[detectors.<name>]`` table in ``--config``); its lines."""
    argv = ["run", "--data", str(data), "--out", str(out), "--detectors", detector, "--seeds", seeds]
    if table:
        config = out.parent / f"{out.name}.toml"
        config.write_text(f'[detectors."{detector}"]\n{table}\n', encoding="utf-8")
        argv += ["--config", str(config)]
    assert main(argv) == 0
    return results.read_results(out)


def _values(frame, metric: str) -> dict:
    rows = frame[frame["metric"] == metric]
    return {(row.detector, row.seed, row.attack): row.value for row in rows.itertuples()}


class MeanIntensity:
    """A user's detector: the distance of an image's mean to the training images' mean."""

    def fit(self, X):
        self.shape_ = X.shape
        self.mean_ = X.mean()
        return self

    def decision_function(self, X):
        return np.abs(X.reshape(len(X), -1).mean(axis=1) - self.mean_)


class FailsOnSeedOne(MeanIntensity):
    def __init__(self, random_state=None):
        self.random_state = random_state

    def get_params(self, deep=True):
        return {"random_state": self.random_state}

    def set_params(self, **params):
        self.random_state = params.get("random_state", self.random_state)
        return self

    def fit(self, X):
        if self.random_state == 1:
            raise ValueError("seed one is unlucky")
        return super().fit(X)


def test_import_advbench_stays_light_and_gives_the_api():
    code = (
        "import sys, advbench; light = not {'torch', 'pandas', 'sklearn'} & set(sys.modules); "
        "api = advbench.evaluate, advbench.load; print(light, 'torch' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.split() == ["True", "False"]


@pytest.mark.parametrize(
    ("name", "params", "table"),
    [
        ("ocsvm", {}, ""),
        ("iforest", {"n_estimators": 20}, "n_estimators = 20"),
        ("dcae", {"epochs": 1, "batch_size": 32}, "epochs = 1\nbatch_size = 32"),
        ("kde", None, ""),
    ],
    ids=["ocsvm", "iforest-table", "dcae-table", "kde-by-name"],
)
def test_evaluate_gives_the_runs_aucs_bit_for_bit(data, tmp_path, name, params, table):
    detector = name if params is None else detectors.create(name, **params)
    lines = _run(data, tmp_path / "cli", name, "0,3", table)
    frame = advbench.evaluate(detector, data, seeds=[0, 3], metrics="auroc,paired-auroc,matched-auroc")
    for metric, key in (("auroc", "auc"), ("paired-auroc", "paired_auc"), ("matched-auroc", "matched_auc")):
        expected = {(line["detector"], line["seed"], line["attack"]): line[key] for line in lines}
        assert _values(frame, metric) == expected  # exact equality: the same floats
    assert list(frame.columns) == ["detector", "seed", "attack", "metric", "value"]


def test_evaluate_of_a_pyod_model_by_our_wrapper_matches_the_run(data, tmp_path):
    pytest.importorskip("pyod")
    lines = _run(data, tmp_path / "cli", "pyod:HBOS", "1")
    frame = advbench.evaluate(detectors.create("pyod:HBOS"), data, seeds=1)
    assert _values(frame, "auroc") == {(line["detector"], 0, line["attack"]): line["auc"] for line in lines}


def test_out_writes_the_runs_folder(data, tmp_path):
    lines = _run(data, tmp_path / "cli", "ocsvm", "2")
    advbench.evaluate(detectors.create("ocsvm"), data, seeds=2, out=tmp_path / "api")
    made = results.read_results(tmp_path / "api")
    volatile = {"fit_seconds", "score_seconds", "finished", "versions"}
    assert [{k: v for k, v in line.items() if k not in volatile} for line in made] == [
        {k: v for k, v in line.items() if k not in volatile} for line in lines
    ]
    for seed in (0, 1):
        ours, theirs = (
            np.load(results.scores_path(folder, "ocsvm", seed)) for folder in (tmp_path / "api", tmp_path / "cli")
        )
        assert all(np.array_equal(ours[key], theirs[key]) for key in theirs.files)
    (entry,) = json.loads((tmp_path / "api" / "run.json").read_text())["runs"]
    assert entry["status"] == "finished" and entry["command_line"][0] == "advbench.evaluate"


def test_a_foreign_estimator_sees_flattened_pixels_is_seeded_and_negated_for_sklearn(data):
    from sklearn.ensemble import IsolationForest

    frame = advbench.evaluate(IsolationForest(n_estimators=10), data, seeds=[3])
    bench = advbench.load(data)

    def flat(images):
        return (images.astype(np.float32) / 255.0).reshape(len(images), -1)

    model = IsolationForest(n_estimators=10, random_state=3).fit(flat(bench.normal_train))
    clean = -model.decision_function(flat(bench.normal_test))
    expected = {
        ("IsolationForest", 3, name): metrics.roc_auc(clean, -model.decision_function(flat(attack.images)))
        for name, attack in bench.attacks.items()
    }
    assert _values(frame, "auroc") == expected


def test_a_users_class_gets_the_images_under_its_name_and_stays_unfitted(data, tmp_path):
    detector = MeanIntensity()
    frame = advbench.evaluate(detector, data, seeds=2, name="mean-intensity-of-mine", out=tmp_path / "run")
    assert set(frame["detector"]) == {"mean-intensity-of-mine"} and len(frame) == 2 * len(ATTACKS)
    assert not hasattr(detector, "mean_")
    (line, *_) = results.read_results(tmp_path / "run")
    assert line["params"]["estimator"] == f"{__name__}.MeanIntensity" and line["params"]["flatten"] is False
    assert line["param_sources"]["random_state"] == "run:seed"


def test_other_metrics_come_from_the_stored_scores(data, tmp_path):
    frame = advbench.evaluate("ocsvm", data, seeds=1, metrics="all", out=tmp_path / "run")
    assert list(frame["metric"].unique()) == list(detection_metrics.NAMES)
    scores = results.read_scores(results.scores_path(tmp_path / "run", "ocsvm", 0))
    for metric in detection_metrics.NAMES:
        expected = detection_metrics.compute(metric, scores["normal_test"], scores["attacks"]["fgsm"])
        assert _values(frame, metric)[("ocsvm", 0, "fgsm")] == expected


def test_a_folder_of_evaluate_renders_with_report_and_site(data, tmp_path):
    reports = tmp_path / "reports"
    advbench.evaluate(MeanIntensity(), data, seeds=1, out=reports / "mine")
    advbench.evaluate("iforest", data, seeds=1, out=reports / "mine")
    assert main(["report", str(reports / "mine"), "--resamples", "50"]) == 0
    assert "MeanIntensity" in (reports / "mine" / "auc_table.md").read_text()
    assert main(["site", str(reports), "--out", str(tmp_path / "site")]) == 0


def test_a_failing_detector_raises_naming_the_seed(data):
    with pytest.raises(RunError, match=r"^detector FailsOnSeedOne failed on seed 1 \(1 of 2 seeds failed\): "):
        advbench.evaluate(FailsOnSeedOne(), data, seeds=2)


def test_built_in_detectors_run_under_their_registry_name_and_table():
    from advbench.api.detector_spec import spec

    found = spec(detectors.create("deep-svdd-soft", epochs=3))
    assert (found.name, found.table, found.prototype) == ("deep-svdd-soft", {"epochs": 3}, None)
    assert spec(detectors.create("ablation-single-ae")).name == "ablation-single-ae"
    assert spec(detectors.create("iforest", random_state=7)).table == {}  # the seed comes from ``seeds``


@pytest.mark.parametrize(
    ("detector", "arguments", "error", "start"),
    [
        (42, {}, TypeError, "detector: "),
        ("nope", {}, ValueError, "detector: "),
        ("ocsvm", {"seeds": 0}, AdvbenchError, "seeds: "),
        ("ocsvm", {"attacks": "nope"}, AdvbenchError, "attacks: "),
        ("ocsvm", {"metrics": "nope"}, ValueError, "metrics: "),
        ("ocsvm", {"device": "gpu"}, ValueError, "device: "),
        ("ocsvm", {"profile": "fast"}, ValueError, "profile: "),
        ("ocsvm", {"threads": 0}, ValueError, "threads: "),
        ("ocsvm", {"name": "mine"}, ValueError, "name: "),
        (MeanIntensity(), {"name": "OCSVM"}, ValueError, "name: "),
        ("ocsvm", {"data": "missing.h5"}, DataError, "data missing.h5: "),
        ("ocsvm", {"data": 3}, TypeError, "data: "),
        (detectors.create("ocsvm", nu=2.0), {}, AdvbenchError, "detector: "),
        ("kd", {"victim": "missing.pt"}, AdvbenchError, "victim missing.pt: "),
    ],
)
def test_errors_are_one_line_naming_the_argument(data, detector, arguments, error, start):
    arguments = {"data": data, **arguments}
    with pytest.raises(error) as found:
        advbench.evaluate(detector, arguments.pop("data"), seeds=arguments.pop("seeds", 1), **arguments)
    assert str(found.value).startswith(start) and "\n" not in str(found.value)


def test_load_gives_the_file_with_its_path(data, tmp_path):
    bench = advbench.load(data)
    assert bench.path == data and bench.normal_train.shape[1:] == (3, 32, 32) and list(bench.attacks) == ATTACKS
    with pytest.raises(DataError, match="^path .*missing.h5: no such benchmark file"):
        advbench.load(tmp_path / "missing.h5")
    with pytest.raises(TypeError, match="^path: "):
        advbench.load(3)
