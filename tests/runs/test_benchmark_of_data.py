"""A run takes its benchmark from the data file, and every detector its parameters from one resolver
(``advbench.detectors.params``): the benchmark's defaults, recorded with their sources."""

from __future__ import annotations

import json

import pytest
import torch
from run_fixtures import write_synthetic_benchmark

from advbench.cli import main
from advbench.detectors.params import resolve
from advbench.runs.results import read_results


@pytest.fixture(scope="module")
def mnist_file(tmp_path_factory):
    return write_synthetic_benchmark(tmp_path_factory.mktemp("mnist") / "mnist_all_adv.h5", benchmark="mnist")


def test_a_run_on_an_mnist_file_records_mnist_and_uses_its_defaults(mnist_file, tmp_path):
    out = tmp_path / "run"
    argv = ["run", "--data", str(mnist_file), "--out", str(out), "--detectors", "iforest,mahalanobis", "--seeds", "1"]
    assert main(argv) == 0
    lines = read_results(out)
    assert {line["benchmark"] for line in lines} == {"mnist"}
    iforest = next(line for line in lines if line["detector"] == "iforest")
    assert iforest["params"]["gcn"] is True and iforest["params"]["pca"] == 0.95  # Deep SVDD's mnist_if.sh
    assert iforest["param_sources"]["gcn"] == iforest["param_sources"]["pca"] == "benchmark:mnist"
    assert iforest["param_sources"]["random_state"] == "run:seed"
    assert iforest["param_sources"]["n_estimators"] == "default"
    (entry,) = json.loads((out / "run.json").read_text())["runs"]
    assert entry["benchmark"] == "mnist" and entry["config"]["benchmark"] == "mnist"
    assert entry["detector_param_sources"]["iforest"]["pca"] == "benchmark:mnist"


def test_a_benchmark_flag_that_disagrees_with_the_file_is_one_line(mnist_file, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "--benchmark", "gtsrb", "--data", str(mnist_file), "--out", str(out), "--detectors", "iforest"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f"advbench run: error: --benchmark gtsrb: --data {mnist_file} is a MNIST benchmark file; leave --benchmark "
        "out (a file's benchmark is its own)\n"
    )
    assert not out.exists()
    agreeing = ["run", "--benchmark", "mnist", "--data", str(mnist_file), "--out", str(out), "--detectors", "iforest"]
    assert main([*agreeing, "--seeds", "1"]) == 0


def test_the_sources_of_each_value_in_priority_order():
    found = resolve("deep-svdd-soft", "fashion-mnist", seed=4, config={"batch_size": 64}, device="cpu")
    assert found.params["objective"] == "soft-boundary" and found.sources["objective"] == "preset:deep-svdd-soft"
    assert found.params["gcn"] is True and found.sources["gcn"] == "benchmark:fashion-mnist"
    assert found.params["batch_size"] == 64 and found.sources["batch_size"] == "config"
    assert found.sources["device"] == "run:device" and found.params["random_state"] == 4
    assert found.params["epochs"] is None and found.sources["epochs"] == "profile:default"  # filled when fitted
    overridden = resolve("dcae", "mnist", seed=0, config={"gcn": False})
    assert overridden.params["gcn"] is False and overridden.sources["gcn"] == "config"
    assert resolve("dcae", "gtsrb", seed=0).sources["gcn"] == "default"


def test_the_detector_aware_attack_fits_the_detector_with_the_benchmarks_defaults(tmp_path, monkeypatch):
    from advbench.attacks import adaptive
    from advbench.detectors.dcae import DCAEDetector

    monkeypatch.setattr(DCAEDetector, "fit", lambda self, images, **given: self)
    images = torch.zeros(4, 1, 28, 28, dtype=torch.uint8).numpy()
    _, record = adaptive.DetectorCache(tmp_path, "mnist", torch.device("cpu")).fitted("dcae", 2, images)
    assert record["detector_params"]["gcn"] is True and record["detector_params"]["random_state"] == 2
    assert record["detector_param_sources"]["gcn"] == "benchmark:mnist"
    _, record = adaptive.DetectorCache(tmp_path, "gtsrb", torch.device("cpu")).fitted("dcae", 2, images)
    assert record["detector_params"]["gcn"] is False


def _as_published_before(out) -> None:
    """Make the folder's lines what runs before the fix wrote: GTSRB's label, no parameter sources."""
    lines = read_results(out)
    for line in lines:
        line["benchmark"] = "gtsrb"
        del line["param_sources"]
    (out / "results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_republishing_recomputes_only_the_pairs_whose_parameters_change(mnist_file, tmp_path, capsys):
    out = tmp_path / "run"
    gtsrb_defaults = tmp_path / "gtsrb-defaults.toml"  # what an MNIST file got before: GTSRB's (none)
    gtsrb_defaults.write_text("[detectors.iforest]\ngcn = false\npca = false\n")
    argv = ["run", "--data", str(mnist_file), "--out", str(out), "--detectors", "iforest,mahalanobis", "--seeds", "2"]
    assert main([*argv, "--config", str(gtsrb_defaults)]) == 0
    _as_published_before(out)
    before = {(line["detector"], line["seed"], line["attack"]): line for line in read_results(out)}
    capsys.readouterr()

    assert main(argv) == 2
    assert "holds results of iforest with other parameters; --recompute-changed" in capsys.readouterr().err
    assert main([*argv, "--recompute-changed"]) == 0
    err = capsys.readouterr().err
    assert "--recompute-changed: 2 pair(s) of iforest will be computed again" in err
    assert "8 line(s) relabelled as computed on a mnist benchmark file" in err  # mahalanobis: 2 seeds x 4 attacks

    after = {(line["detector"], line["seed"], line["attack"]): line for line in read_results(out)}
    assert after.keys() == before.keys()
    for key, line in after.items():
        assert line["benchmark"] == "mnist" and line["param_sources"]["random_state"] == "run:seed"
        if key[0] == "mahalanobis":  # same parameters: the numbers and their provenance kept, only the label fixed
            assert {**line, "benchmark": "gtsrb"} == {**before[key], "param_sources": line["param_sources"]}
        else:
            assert line["params"]["pca"] == 0.95 and line["config_hash"] != before[key]["config_hash"]
