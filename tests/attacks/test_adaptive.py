"""Detector-aware PGD: differentiable scores, the lambda = 0 case, the sets in the file, bad flags."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from _attack_data import frozen_victim, synthetic_gtsrb, tiny_config, write_official_layout

from advbench import cli, detectors
from advbench.attacks.adaptive import Schedule, run_adaptive, set_name
from advbench.attacks.pipeline import generate
from advbench.attacks.runners import resolve_params, run_attack
from advbench.attacks.victim import to_float
from advbench.datasets.benchmark_file import read_benchmark, summary

DIFFERENTIABLE = ["dcae", "rcae", "deep-svdd", "deep-svdd-soft", "dual-adversarial", "ablation-single-ae"]
PGD = {"eps": 0.3, "alpha": 0.05, "steps": 5, "batch_size": 4}


@pytest.fixture(scope="module")
def data():
    return synthetic_gtsrb()


@pytest.fixture(scope="module")
def victim(data):
    model, stop_signs, _ = frozen_victim(data)
    return model, to_float(stop_signs), torch.full((len(stop_signs),), 14)


@pytest.fixture(scope="module")
def dcae(data):
    return detectors.create("dcae", random_state=0, epochs=3).fit(data.train.images[data.train.labels == 14])


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_score_tensor_equals_decision_function(data, name):
    stop = data.train.images[data.train.labels == 14]
    detector = detectors.create(name, random_state=0, **({} if name == "rcae" else {"epochs": 1})).fit(stop)
    test = data.test.images[:12]
    x = torch.from_numpy(test.astype(np.float32) / 255).requires_grad_(True)
    scores = detector.score_tensor(x)
    np.testing.assert_allclose(scores.detach().numpy(), detector.decision_function(test), rtol=1e-5, atol=1e-6)
    scores.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_classic_detectors_have_no_differentiable_score(data):
    detector = detectors.create("ocsvm").fit(data.train.images[:20])
    with pytest.raises(TypeError, match="surrogate"):
        detector.score_tensor(torch.zeros(1, 3, 32, 32))


@pytest.mark.parametrize("norm, eps", [("linf", 0.3), ("l2", 8.0)])
def test_lambda_zero_is_plain_pgd(victim, dcae, norm, eps):
    model, x, y = victim
    params = resolve_params("pgd", {**PGD, "norm": norm, "eps": eps, "alpha": eps / 6})
    plain = torch.round(run_attack("pgd", model, x, y, params, seed=3) * 255) / 255
    adaptive, chosen = run_adaptive(model, dcae, x, y, params, Schedule((0.0,), seed=3))
    assert torch.equal(plain, adaptive)
    fooled = (model(plain).argmax(1) != y).numpy()
    assert fooled.any() and np.all(chosen[fooled] == 0) and np.isnan(chosen[~fooled]).all()
    norms = (plain - x).flatten(1).norm(p=float("inf") if norm == "linf" else 2, dim=1)
    assert norms.max() <= eps + (1 / 255 if norm == "linf" else 0.05 * eps)  # in budget, up to 8-bit rounding


def test_adaptive_never_scores_higher_than_plain_where_plain_succeeds(victim, dcae):
    model, x, y = victim
    params = resolve_params("pgd", PGD)
    plain, _ = run_adaptive(model, dcae, x, y, params, Schedule((0.0,), seed=0))
    adaptive, chosen = run_adaptive(model, dcae, x, y, params, Schedule((0.0, 1.0, 100.0), seed=0))
    with torch.no_grad():
        ok = model(plain).argmax(1) != y
        assert (model(adaptive).argmax(1) != y)[ok].all()
        assert (dcae.score_tensor(adaptive)[ok] <= dcae.score_tensor(plain)[ok]).all()
    assert (adaptive - x).abs().max() <= params["eps"] + 1 / 255  # in budget, up to the 8-bit rounding
    assert np.nanmax(chosen) > 0  # a positive weight won somewhere on this data


def test_set_names():
    assert set_name("pgd@eps=16/255", "dcae", 0) == "pgd-adaptive-dcae@eps=16/255"
    assert set_name("pgd", "dual-adversarial", 2) == "pgd-adaptive-dual-adversarial@seed=2"
    assert set_name("pgd@eps=16/255", "dcae", 1) == "pgd-adaptive-dcae@eps=16/255,seed=1"


def test_generate_writes_one_set_per_detector_and_seed(tmp_path, data):
    out = tmp_path / "bench.h5"
    config = tiny_config(attacks=("pgd@eps=0.3,alpha=0.05,steps=5",), adaptive=("dcae",), adaptive_seeds=(0, 1))
    logs: list[str] = []
    generate(data, out, config, log=logs.append)
    bench = read_benchmark(out)
    plain = "pgd@alpha=0.05,eps=0.3,steps=5"
    assert list(bench.attacks) == [
        plain,
        "pgd-adaptive-dcae@alpha=0.05,eps=0.3,steps=5",
        "pgd-adaptive-dcae@alpha=0.05,eps=0.3,seed=1,steps=5",
    ]
    record = bench.attacks["pgd-adaptive-dcae@alpha=0.05,eps=0.3,seed=1,steps=5"].attrs
    assert record["family"] == "pgd-adaptive" and record["adaptive"]["detector_seed"] == 1
    assert record["adaptive"]["plain"] == plain and record["adaptive"]["lambdas"] == [0.0, 0.1, 1.0, 10.0, 100.0]
    assert sum(record["adaptive"]["chosen_lambda_counts"].values()) == record["kept"]
    shown = summary(out)["attacks"]  # advbench info shows the record beside the counts
    assert shown["pgd-adaptive-dcae@alpha=0.05,eps=0.3,seed=1,steps=5"]["adaptive"] == record["adaptive"]
    assert "adaptive" not in shown[plain]
    assert len(list(tmp_path.glob("detector-dcae-*.pt"))) == 2
    generate(data, tmp_path / "again.h5", config, log=logs.append)  # the fitted detectors are reused
    assert sum("reusing fitted dcae" in line for line in logs) == 2
    again = read_benchmark(tmp_path / "again.h5")
    for name, attack in bench.attacks.items():
        np.testing.assert_array_equal(attack.images, again.attacks[name].images)


def test_bad_adaptive_options_are_one_line_errors(tmp_path, capsys, data):
    root = write_official_layout(tmp_path / "gtsrb", synthetic_gtsrb(n_train=2, n_test=1))
    base = [
        "generate-attacks",
        "--gtsrb-root",
        str(root),
        "--data-dir",
        str(tmp_path / "d"),
        "--out",
        str(tmp_path / "o.h5"),
        "--quiet",
        "--attacks",
        "pgd@eps=16/255",
    ]
    cases = [
        (["--adaptive", "nope"], "--adaptive: unknown detector 'nope'"),
        (["--adaptive", "ocsvm"], "--adaptive: ocsvm has no differentiable score; attack a surrogate instead"),
        (["--adaptive", ""], "--adaptive: no detector given"),
        (
            ["--adaptive", "dcae", "--adaptive-lambdas", "1,10"],
            "--adaptive-lambdas: need finite values >= 0 that include 0",
        ),
        (
            ["--adaptive", "dcae", "--adaptive-lambdas", "0,x"],
            "--adaptive-lambdas '0,x': expected comma-separated floats",
        ),
        (["--adaptive", "dcae", "--adaptive-seeds", "1.5"], "--adaptive-seeds '1.5': expected comma-separated ints"),
        (["--adaptive", "dcae", "--attacks", "fgsm"], "--adaptive: needs a pgd variant in --attacks"),
    ]
    for extra, message in cases:
        assert cli.main(base + extra) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.h5").exists()


def test_run_scores_adaptive_sets_with_the_attacked_detector_and_reports_them(tmp_path, data):
    bench_path = tmp_path / "bench.h5"
    config = tiny_config(attacks=("pgd@eps=0.3,alpha=0.05,steps=5",), adaptive=("dcae",), adaptive_seeds=(0, 1))
    bench = generate(data, bench_path, config, log=lambda message: None)
    out = tmp_path / "run"
    argv = ["run", "--data", str(bench_path), "--detectors", "dcae,ocsvm", "--seeds", "2", "--out", str(out)]
    assert cli.main(argv) == 0
    adaptive_set = "pgd-adaptive-dcae@alpha=0.05,eps=0.3,steps=5"
    # the run's dcae of seed 0 is the detector the set was made against: same scores
    fitted = [torch.load(path, weights_only=False) for path in tmp_path.glob("detector-dcae-*.pt")]
    attacked = next(detector for detector in fitted if detector.random_state == 0)
    stored = np.load(out / "scores" / "dcae" / "seed-0.npz")[f"attack:{adaptive_set}"]
    np.testing.assert_allclose(stored, attacked.decision_function(bench.attacks[adaptive_set].images), rtol=1e-6)
    table = (out / "adaptive_table.md").read_text()
    assert "| dcae | pgd@alpha=0.05,eps=0.3,steps=5 | 0, 1 |" in table
    assert "vs dcae (PGD alpha=0.05, eps=0.3, steps=5)" in table and "| ocsvm |" in table
    assert (out / "adaptive_table.tex").is_file()
    # with --ci: intervals from the same bootstrap as every table (the plain cell is the AUC table's cell)
    assert cli.main(["report", str(out), "--ci", "--resamples", "50"]) == 0
    row = next(line for line in (out / "adaptive_table.md").read_text().splitlines() if line.startswith("| dcae |"))
    plain, adaptive, change = (cell.strip() for cell in row.strip("|").split("|")[3:6])
    assert all(re.fullmatch(r"-?\d+\.\d \[-?\d+\.\d, -?\d+\.\d\]", cell) for cell in (plain, adaptive, change)), row
    auc_row = next(line for line in (out / "auc_table.md").read_text().splitlines() if line.startswith("| dcae |"))
    assert plain in auc_row.replace("**", "")
    assert "[low, high]: 95% two-level bootstrap" in (out / "adaptive_table.md").read_text()
