"""``--protocol supervised``: training attack sets in the file (``generate-attacks --attack-train``),
supervised detectors fitted on one of them (``run --fit-attack``), never on a test attack set."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _attack_data import TINY_VICTIM_TOML
from idx_files import write_patterns

from advbench import cli
from advbench.attacks.victim import load_file_victim, predict, to_float
from advbench.datasets import mnist
from advbench.datasets.benchmark_file import read_benchmark, write_benchmark
from advbench.detectors.supervised import SupervisedDetector

TINY_TOML = TINY_VICTIM_TOML + "\n[deepfool]\nsteps = 5\n"
TRAIN_SIZE, LIMIT, ATTACK_TRAIN = 60, 20, 30
FGSM, DEEPFOOL = "fgsm@eps=0.3", "deepfool@steps=5"


def _generate(root, base, out, *extra) -> int:
    argv = ["generate-attacks", "--benchmark", "mnist", "--root", str(root), "--data-dir", str(base / "data")]
    argv += ["--config", str(base / "tiny.toml"), "--device", "cpu", "--quiet", "--out", str(out)]
    return cli.main([*argv, *extra])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An every-class MNIST-type file with training attack sets (FGSM and DeepFool on 30 held-out images)."""
    base = tmp_path_factory.mktemp("supervised")
    root = write_patterns(base / "mnist")
    (base / "tiny.toml").write_text(TINY_TOML)
    out = base / "all.h5"
    extra = ["--normal-class", "all", "--train-size", str(TRAIN_SIZE), "--limit", str(LIMIT)]
    assert _generate(root, base, out, *extra, "--attacks", "fgsm,deepfool", "--attack-train", str(ATTACK_TRAIN)) == 0
    return base, root, out


def _run(data, folder, *extra) -> int:
    argv = ["run", "--data", str(data), "--seeds", "1", "--device", "cpu", "--out", str(folder)]
    return cli.main([*argv, *extra])


def _lines(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]


def test_training_attack_sets_start_from_held_out_training_images(built):
    _, root, out = built
    data, bench = mnist.load("mnist", root), read_benchmark(out)
    training = bench.training
    assert list(training.sets) == list(bench.attacks) == [FGSM, DEEPFOOL]
    # held out: none is a detector's training image, and they are training images, not test images
    assert not set(training.index) & set(bench.train_index)
    np.testing.assert_array_equal(training.sources, data.train_images[training.index])
    np.testing.assert_array_equal(training.labels, data.train_labels[training.index])
    assert np.bincount(training.labels).tolist() == [ATTACK_TRAIN // 10] * 10  # class-stratified
    model, *_ = load_file_victim(out)
    np.testing.assert_array_equal(predict(model, to_float(training.sources)).numpy(), training.labels)
    for name, attack in training.sets.items():
        assert attack.attrs["attempted"] == ATTACK_TRAIN and len(attack) > 0, name
        assert np.all(predict(model, to_float(attack.images)).numpy() != training.labels[attack.source_index]), name
    fgsm = training.sets[FGSM]
    moved = np.abs(fgsm.images.astype(int) - training.sources[fgsm.source_index].astype(int)).max()
    assert moved <= round(0.3 * 255) + 1  # the budget, after 8-bit rounding
    assert bench.attrs["attack_train"] == ATTACK_TRAIN
    assert bench.version != read_benchmark(out).version.replace(bench.version, "") and bench.version.startswith(
        "mnist-all-"
    )


def test_the_training_sets_are_part_of_the_version(built, tmp_path):
    _, _, out = built
    bench = read_benchmark(out)
    without = tmp_path / "without.h5"
    bench.training = None
    write_benchmark(without, bench)
    assert read_benchmark(without).version != read_benchmark(out).version
    assert read_benchmark(without).training is None


def test_attack_train_needs_every_class_normal(built, tmp_path, capsys):
    base, root, _ = built
    out = tmp_path / "one.h5"
    assert _generate(root, base, out, "--normal-class", "3", "--attack-train", "5", "--attacks", "fgsm") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error: --attack-train: only with --normal-class all" in err[0]
    assert not out.exists()


def test_a_supervised_run_fits_on_the_training_set_and_scores_every_test_attack(built, tmp_path):
    _, _, out = built
    folder = tmp_path / "run"
    extra = ["--detectors", "kd-bu,kd", "--protocol", "supervised", "--fit-attack", DEEPFOOL]
    assert _run(out, folder, *extra) == 0
    lines = _lines(folder)
    assert {(line["detector"], line["attack"]) for line in lines} == {
        (d, a) for d in ("kd-bu", "kd") for a in (FGSM, DEEPFOOL)
    }
    assert all(line["protocol"] == "supervised" and line["fit_attack"] == DEEPFOOL for line in lines)
    assert all(line["error"] is None and 0.0 <= line["auc"] <= 1.0 for line in lines)
    caption = (folder / "auc_table.md").read_text()
    assert "protocol supervised (supervised detectors fitted on the training attack set deepfool@steps=5)" in caption
    # another training attack set in the same folder is refused: its lines would mix two fits
    assert _run(out, folder, *extra[:-1], FGSM) == 2


def test_a_supervised_detector_never_sees_a_test_attack_set(built, tmp_path, monkeypatch):
    """Every test attack image carries a marker no clean or training image has (a corner of pixels set to a
    pattern); the detector's fit must never receive one, while its scoring does."""
    _, _, out = built
    bench = read_benchmark(out)
    marker = np.arange(1, 9, dtype=np.uint8).reshape(1, 8) * 31

    def marked(images: np.ndarray) -> np.ndarray:
        images = images.copy()
        images[:, 0, 0, :8] = marker
        return images

    for attack in bench.attacks.values():
        attack.images = marked(attack.images)
    planted = tmp_path / "planted.h5"
    write_benchmark(planted, bench)
    seen: dict[str, list[np.ndarray]] = {"fit": [], "score": []}
    fit, score = SupervisedDetector._fit, SupervisedDetector._score

    def spy_fit(self, X, victim, reference=None, adversarial=None):
        seen["fit"] += [X, reference.images, adversarial.clean, adversarial.adversarial]
        return fit(self, X, victim, reference, adversarial)

    def spy_score(self, X):
        seen["score"].append(X)
        return score(self, X)

    monkeypatch.setattr(SupervisedDetector, "_fit", spy_fit)
    monkeypatch.setattr(SupervisedDetector, "_score", spy_score)
    config = tmp_path / "lid.toml"
    config.write_text("[detectors.lid-supervised]\nk = 5\nbatch_size = 20\nbatches = 2\n")
    extra = ["--detectors", "lid-supervised", "--protocol", "supervised", "--fit-attack", FGSM, "--config", str(config)]
    assert _run(planted, tmp_path / "run", *extra) == 0

    def has_marker(images: np.ndarray) -> bool:
        values = np.asarray(images)
        if values.dtype != np.uint8:
            values = np.round(values * 255).astype(np.uint8)
        return bool(np.all(values[:, 0, 0, :8] == marker, axis=1).any())

    assert seen["fit"] and not any(has_marker(images) for images in seen["fit"])
    assert any(has_marker(images) for images in seen["score"])  # the marker survives to scoring: the test can fail
    np.testing.assert_array_equal(seen["fit"][3], bench.training.sets[FGSM].images)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--detectors", "kd-bu"],
            "--detectors: kd-bu fit on a training attack set; run them with --protocol supervised",
        ),
        (["--detectors", "kd", "--protocol", "supervised"], "--fit-attack: required with --protocol supervised"),
        (["--detectors", "kd", "--fit-attack", "deepfool"], "--fit-attack deepfool: only with --protocol supervised"),
        (
            ["--detectors", "kd-bu", "--protocol", "supervised", "--fit-attack", "cw"],
            "--fit-attack cw: not a training attack set of",
        ),
    ],
)
def test_bad_supervised_flags_are_one_line_and_write_nothing(built, tmp_path, capsys, extra, message):
    _, _, out = built
    folder = tmp_path / "run"
    assert _run(out, folder, *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (folder / "results.jsonl").exists()


def test_a_file_without_training_sets_says_how_to_build_them(built, tmp_path, capsys):
    _, _, out = built
    bench = read_benchmark(out)
    bench.training = None
    plain = tmp_path / "plain.h5"
    write_benchmark(plain, bench)
    assert _run(plain, tmp_path / "run", "--detectors", "kd-bu", "--protocol", "supervised", "--fit-attack", FGSM) == 2
    assert "has no training attack sets (build it with `advbench generate-attacks --attack-train N`)" in (
        capsys.readouterr().err
    )
