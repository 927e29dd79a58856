"""``advbench run`` with detectors that look through the victim: ``--victim``, the reference data from
``--gtsrb-root``, what each result line records, and the bad inputs that stop a run before its first pair.

The benchmark file is built by ``generate`` from the synthetic GTSRB stand-in written in the official
layout (so ``--gtsrb-root`` reads it back), with the tiny victim and FGSM alone.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch
from _attack_data import synthetic_gtsrb, tiny_config, write_official_layout

from advbench.attacks.pipeline import generate
from advbench.cli import main
from advbench.datasets.benchmark_file import AttackSet, BenchmarkContents, write_benchmark
from advbench.datasets.gtsrb import load_gtsrb
from advbench.datasets.reference import REFERENCE_SEED, stratified_sample
from advbench.fileio import sha256_file

FAST = "[detectors.magnet]\nepochs = 1\nbatch_size = 32\n[detectors.kd]\ncv = 3\n[detectors.bu]\npasses = 5\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``(folder, GTSRB root, benchmark file, victim checkpoint, fast config)``."""
    folder = tmp_path_factory.mktemp("victim-run")
    root = write_official_layout(folder / "gtsrb", synthetic_gtsrb())
    bench = folder / "bench.h5"
    generate(load_gtsrb(root), bench, tiny_config(attacks=("fgsm",)), log=lambda message: None)
    (config := folder / "fast.toml").write_text(FAST)
    return folder, root, bench, next(folder.glob("victim-*.pt")), config


def _lines(out):
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_victim_aware_lines_record_the_victim_and_the_reference(built, tmp_path):
    folder, root, bench, victim, config = built
    out = tmp_path / "run"
    argv = ["run", "--data", str(bench), "--victim", str(victim), "--gtsrb-root", str(root), "--seeds", "1"]
    assert main([*argv, "--detectors", "victim,ocsvm", "--config", str(config), "--out", str(out)]) == 0
    lines = _lines(out)
    assert (out / "paper_comparison.md").is_file()  # ocsvm is a row of the paper's Table 4
    data = load_gtsrb(root)
    reference = stratified_sample(data.train.images, data.train.labels)
    victim_record = {"sha256": sha256_file(victim), "checkpoint": victim.name}
    reference_record = {"n": 180, "sha256": reference.sha256, "seed": REFERENCE_SEED, "source": "GTSRB training split"}
    by_name = {line["detector"]: line for line in lines}
    assert set(by_name) == {
        "feature-squeezing",
        "magnet",
        "magnet[reconstruction]",
        "magnet[jsd-t10]",
        "magnet[jsd-t40]",
        "victim-mahalanobis",
        "kd",
        "bu",
        "msp",
        "energy",
        "ocsvm",
    }
    for name in ("feature-squeezing", "bu", "msp", "energy"):
        assert by_name[name]["uses"] == {"victim": victim_record}
    for name in ("magnet", "magnet[jsd-t10]", "victim-mahalanobis", "kd"):
        assert by_name[name]["uses"] == {"victim": victim_record, "reference": reference_record}
    assert "uses" not in by_name["ocsvm"]  # one-class detectors' lines are as before
    assert all(line["error"] is None and 0.0 <= line["auc"] <= 1.0 for line in lines)
    entry = json.loads((out / "run.json").read_text())["runs"][-1]
    assert entry["victim_inputs"]["victim"]["sha256"] == victim_record["sha256"]
    assert entry["victim_inputs"]["reference"]["sha256"] == reference.sha256


def test_only_the_victim_the_file_records_runs_and_its_pairs_are_reused(built, tmp_path, capsys):
    folder, root, bench, victim, config = built
    out = tmp_path / "run"
    argv = ["run", "--data", str(bench), "--detectors", "msp", "--seeds", "1", "--out", str(out)]
    assert main([*argv, "--victim", str(victim)]) == 0
    other = tmp_path / victim.name
    model = torch.load(victim, weights_only=True)
    model["history"] = [*model["history"], {"epoch": 0}]  # the same weights in another file
    torch.save(model, other)
    assert main([*argv, "--victim", str(other)]) == 2  # the file records the victim its attacks were made against
    assert "not the victim the attacks of" in capsys.readouterr().err
    assert main([*argv, "--victim", str(victim)]) == 0  # the same victim: every pair is reused
    assert "1 pairs (1 reused, 0 computed)" in capsys.readouterr().err


def test_without_victim_the_file_s_stored_victim_is_used(built, tmp_path):
    folder, root, bench, victim, config = built
    argv = ["run", "--data", str(bench), "--detectors", "msp,energy", "--seeds", "1"]
    assert main([*argv, "--out", str(stored := tmp_path / "stored")]) == 0
    assert main([*argv, "--victim", str(victim), "--out", str(checkpoint := tmp_path / "checkpoint")]) == 0
    with h5py.File(bench, "r") as handle:
        weights_sha = handle["victim"].attrs["sha256"]
    for line, same in zip(_lines(stored), _lines(checkpoint), strict=True):
        assert line["uses"]["victim"] == {"sha256": weights_sha, "checkpoint": "stored in the data file"}
        keys = ("detector", "auc", "paired_auc")
        assert [line[key] for key in keys] == [same[key] for key in keys]
    assert _lines(checkpoint)[0]["uses"]["victim"]["sha256"] == sha256_file(victim)
    assert not (stored / "paper_comparison.md").exists()  # no row of the paper's Table 4 ran


def _one_line_error(argv, capsys, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_bad_victim_inputs_stop_the_run_before_any_pair(built, tmp_path, capsys):
    folder, root, bench, victim, config = built
    out = tmp_path / "run"
    base = ["run", "--data", str(bench), "--seeds", "1", "--out", str(out)]
    old = tmp_path / "old.h5"  # a file without its victim, as files before schema 4
    with h5py.File(bench, "r") as handle:
        train, test = handle["normal/train"][()], handle["normal/test"][()]
    attack = AttackSet(test[:4], np.arange(4), np.zeros(4), np.ones(4), np.ones(4), {"attempted": 4})
    write_benchmark(old, BenchmarkContents(train, test, {"fgsm": attack}, {"normal_class": 14}))
    _one_line_error(
        ["run", "--data", str(old), "--seeds", "1", "--out", str(out), "--detectors", "msp,ocsvm"],
        capsys,
        f"--victim: msp look through the victim, and {old} carries none (files store theirs from schema 4 on); pass",
    )
    _one_line_error(
        [*base, "--detectors", "kd", "--victim", str(victim), "--gtsrb-root", str(tmp_path / "none")],
        capsys,
        f"--gtsrb-root {tmp_path / 'none'}: no such folder; the reference data",
    )
    other = write_official_layout(tmp_path / "other", synthetic_gtsrb(seed=1))
    _one_line_error(
        [*base, "--detectors", "kd", "--victim", str(victim), "--gtsrb-root", str(other)],
        capsys,
        f"--gtsrb-root {other}: not the copy {bench} was built from",
    )
    (junk := tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    _one_line_error([*base, "--detectors", "msp", "--victim", str(junk)], capsys, f"--victim {junk}: not a readable")
    for table, message in (
        ("[detectors.feature-squeezing]\nsqueezers = ['blur-3']", "squeezers: 'blur-3' is not a squeezer"),
        ("[detectors.magnet]\ntemperatures = [10, 0]", "temperatures must be an integer >= 1; got 0"),
        ("[detectors.energy]\ntemperature = -1.0", "temperature must be a finite number in (0.0, inf]"),
    ):
        (bad := tmp_path / "bad.toml").write_text(table)
        argv = [*base, "--detectors", "victim", "--victim", str(victim), "--config", str(bad)]
        _one_line_error(argv, capsys, message)
    assert not out.exists()


def test_a_victim_that_takes_other_images_stops_the_run(built, tmp_path, capsys):
    folder, root, bench, victim, config = built
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (12, 3, 28, 28)).astype(np.uint8)
    attack = AttackSet(small[:4], np.arange(4), np.zeros(4), np.ones(4), np.ones(4), {"attempted": 4})
    write_benchmark(
        data := tmp_path / "small.h5", BenchmarkContents(small, small[:6], {"fgsm": attack}, {"normal_class": 14})
    )
    out = tmp_path / "run"
    argv = ["run", "--data", str(data), "--detectors", "msp", "--victim", str(victim), "--out", str(out)]
    _one_line_error(argv, capsys, f"--victim {victim}: the victim does not take the data's images of shape (3, 28, 28)")
    assert not out.exists()
