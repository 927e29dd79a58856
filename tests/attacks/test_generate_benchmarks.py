"""generate-attacks on MNIST-type data with every class normal: the samples, the literature's
budgets, the victim stored in the file and attacked again from it, the run on such a file, bad input."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest
from _attack_data import TINY_VICTIM_TOML, synthetic_gtsrb, write_official_layout
from idx_files import write_patterns

from advbench import cli
from advbench.attacks import pipeline, resume
from advbench.attacks.pipeline import attack_plan
from advbench.attacks.victim import load_file_victim, predict, to_float
from advbench.cli.generate import _build_config, default_out
from advbench.cli.generate_flags import DEFAULT_OUT
from advbench.datasets import allclasses, mnist, registry
from advbench.datasets.benchmark_file import read_benchmark
from advbench.datasets.reference import Reference
from advbench.errors import AdvbenchError

#: The tiny victim; the attacks shortened, FGSM, BIM and PGD at MNIST's budgets.
TINY_TOML = (
    TINY_VICTIM_TOML
    + """
[deepfool]
steps = 5

[cw]
binary_search_steps = 3
steps = 30
stepsize = 0.05
initial_const = 10.0

[boundary]
steps = 20
init_directions = 20
"""
)
ATTACKS = "fgsm,bim,pgd,deepfool,cw,boundary"
TRAIN_SIZE, LIMIT = 60, 20


def _argv(root, base, out, *extra) -> list[str]:
    return [
        "generate-attacks",
        "--benchmark",
        "mnist",
        "--root",
        str(root),
        "--data-dir",
        str(base / "data"),
        "--config",
        str(base / "tiny.toml"),
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(out),
        *extra,
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An every-class MNIST-type file built by the CLI from small pattern images (10 classes)."""
    base = tmp_path_factory.mktemp("allclasses")
    root = write_patterns(base / "mnist")
    (base / "tiny.toml").write_text(TINY_TOML)
    out = base / "out" / "all.h5"
    extra = ["--normal-class", "all", "--train-size", str(TRAIN_SIZE), "--limit", str(LIMIT), "--attacks", ATTACKS]
    assert cli.main(_argv(root, base, out, *extra)) == 0
    return base, root, out, extra


def test_every_class_file_holds_stratified_samples_and_the_victim(built):
    _, root, out, _ = built
    data = mnist.load("mnist", root)
    bench = read_benchmark(out)
    assert bench.benchmark == "mnist" and bench.attrs["normal_class"] == "all"
    assert bench.attrs["train_size"] == TRAIN_SIZE and bench.attrs["limit"] == LIMIT
    # training sample: 6 of the 12 images of each class, in the split's order
    assert np.bincount(bench.train_labels).tolist() == [TRAIN_SIZE // 10] * 10
    assert np.all(np.diff(bench.train_index) > 0)
    np.testing.assert_array_equal(bench.normal_train, data.train_images[bench.train_index])
    np.testing.assert_array_equal(bench.train_labels, data.train_labels[bench.train_index])
    # test sample: 2 correctly classified images of each class; the attacks start from exactly these
    assert np.bincount(bench.test_labels).tolist() == [LIMIT // 10] * 10
    np.testing.assert_array_equal(bench.normal_test, data.test_images[bench.test_index])
    model, _, _, meta = load_file_victim(out)
    assert meta["sha256"] == bench.victim["attrs"]["sha256"] and meta["image_shape"] == [1, 28, 28]
    assert meta["test_accuracy"] == bench.attrs["victim_test_accuracy"]
    np.testing.assert_array_equal(predict(model, to_float(bench.normal_test)).numpy(), bench.test_labels)
    for name, attack in bench.attacks.items():
        assert attack.attrs["attempted"] == LIMIT, name
        assert np.all(attack.predicted_label != bench.test_labels[attack.source_index]), name
    # the literature's MNIST budgets, recorded with their sources
    assert {"fgsm@eps=0.3", "bim@alpha=0.01,eps=0.3,steps=50", "pgd@alpha=0.01,eps=0.3,steps=40"} <= set(bench.attacks)
    assert "Feinman" in bench.attrs["attack_sources"]["fgsm"] and "Madry" in bench.attrs["attack_sources"]["pgd"]


def test_attacking_again_from_the_files_own_victim_gives_identical_attack_sets(built, tmp_path):
    """The file alone is enough to attack again: --victim-from itself, same seed, byte-identical sets."""
    base, root, out, extra = built
    again = tmp_path / "again.h5"
    assert cli.main(_argv(root, base, again, *extra, "--victim-from", str(out))) == 0
    first, second = read_benchmark(out), read_benchmark(again)
    assert second.attrs["victim"]["from_file"] == out.name and not second.attrs["victim"]["trained_here"]
    assert second.victim["attrs"]["sha256"] == first.victim["attrs"]["sha256"]
    assert list(second.attacks) == list(first.attacks) and len(first.attacks) == 6
    for name, attack in first.attacks.items():
        assert len(attack) > 0, name
        for key in ("images", "source_index", "predicted_label", "l2", "linf"):
            assert getattr(second.attacks[name], key).tobytes() == getattr(attack, key).tobytes(), (name, key)
    for key in ("normal_train", "normal_test", "train_index", "test_index"):
        assert getattr(second, key).tobytes() == getattr(first, key).tobytes(), key


def test_a_stopped_run_redoes_only_the_unfinished_attacks_and_writes_the_same_file(built, tmp_path, monkeypatch):
    """Ctrl-C during C&W: the next run takes the attacks that had finished from ``<out>.partial/``,
    runs C&W and those after it only, writes the sets a run without the stop writes, and clears the
    folder."""
    base, root, out, extra = built
    again = tmp_path / "again.h5"
    argv = _argv(root, base, again, *extra, "--victim-from", str(out))
    real, calls = pipeline.run_attack, []

    def stopped_at_cw(family, *args, **kwargs):
        calls.append(family)
        if family == "cw":
            raise KeyboardInterrupt
        return real(family, *args, **kwargs)

    monkeypatch.setattr(pipeline, "run_attack", stopped_at_cw)
    assert cli.main(argv) == 130
    finished, calls[:] = calls[:-1], []
    assert not again.exists() and len(list(resume.partial_folder(again).iterdir())) == len(finished) >= 1
    monkeypatch.setattr(pipeline, "run_attack", lambda family, *a, **k: calls.append(family) or real(family, *a, **k))
    assert cli.main(argv) == 0
    assert calls[0] == "cw" and sorted(finished + calls) == sorted(ATTACKS.split(","))
    assert not resume.partial_folder(again).exists()
    first, second = read_benchmark(out), read_benchmark(again)
    for name, attack in first.attacks.items():
        for key in ("images", "source_index", "predicted_label", "l2", "linf"):
            assert getattr(second.attacks[name], key).tobytes() == getattr(attack, key).tobytes(), (name, key)


def test_run_reads_an_every_class_file_and_names_it_in_the_captions(built, tmp_path):
    _, _, out, _ = built
    folder = tmp_path / "run"
    argv = ["run", "--data", str(out), "--detectors", "mahalanobis", "--seeds", "1", "--out", str(folder)]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    lines = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    assert {line["attack"] for line in lines} == set(read_benchmark(out).attacks)
    assert all(line["n_train"] == TRAIN_SIZE and line["n_normal"] == LIMIT for line in lines)
    entry = json.loads((folder / "run.json").read_text())["runs"][-1]
    assert entry["data"] == {
        "benchmark": "mnist",
        "label": "MNIST",
        "normal_class": "all",
        "class_name": None,
        "victim_test_accuracy": read_benchmark(out).attrs["victim_test_accuracy"],
        "version": read_benchmark(out).version,
    }
    caption = (folder / "auc_table.md").read_text()
    assert f"MNIST ({read_benchmark(out).version}), every class normal; victim test accuracy" in caption
    assert not (folder / "paper_comparison.md").exists()  # the paper's Table 4 is of GTSRB stop signs


def test_victim_aware_detectors_take_the_victim_and_reference_the_file_carries(built, tmp_path):
    _, _, out, _ = built
    folder = tmp_path / "run"
    argv = ["run", "--data", str(out), "--detectors", "victim-mahalanobis,msp", "--seeds", "1", "--out", str(folder)]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    bench = read_benchmark(out)
    carried = Reference(bench.normal_train, bench.train_labels)
    uses = {json.loads(line)["detector"]: json.loads(line)["uses"] for line in (folder / "results.jsonl").open()}
    reference = uses["victim-mahalanobis"]["reference"]
    assert reference["n"] == TRAIN_SIZE and reference["sha256"] == carried.sha256 and reference["seed"] == 0
    assert reference["source"] == "all.h5 /normal/train (MNIST training split, class-stratified)"
    assert "reference" not in uses["msp"] and uses["msp"]["victim"]["checkpoint"] == "stored in the data file"


def _damaged_copy(out, tmp_path):
    damaged = tmp_path / "damaged.h5"
    shutil.copy(out, damaged)
    with h5py.File(damaged, "r+") as handle:
        weights = handle["victim/state/classifier.5.weight"]
        values = weights[()]
        values[0, 0] += 1.0
        weights[...] = values
    return damaged


def _other_benchmark_copy(out, tmp_path):
    other = tmp_path / "fashion.h5"
    shutil.copy(out, other)
    with h5py.File(other, "r+") as handle:
        handle.attrs["benchmark"] = "fashion-mnist"
    return other


def test_bad_input_is_one_line_exit_2_and_writes_nothing(built, tmp_path, capsys):
    base, root, out, _ = built
    target = tmp_path / "never.h5"
    gtsrb = write_official_layout(tmp_path / "gtsrb", synthetic_gtsrb(n_train=2, n_test=1))
    cases = [
        (["--benchmark", "cifar"], "--benchmark: expected one of gtsrb, mnist, fashion-mnist; got 'cifar'"),
        (["--normal-class", "10"], "--normal-class 10: must be a MNIST class id in 0..9"),
        (["--normal-class", "stop"], "--normal-class 'stop': expected all or a MNIST class id in 0..9"),
        (["--normal-class", "3", "--train-size", "50"], "--train-size: only with --normal-class all"),
        (["--limit", "61"], "--limit 61: there are only 60 test images to attack"),
        (["--victim-from", str(out), "--victim", str(out)], "give either --victim"),
        (
            ["--victim-from", str(_other_benchmark_copy(out, tmp_path))],
            "a fashion-mnist file of 1x28x28 images, not mnist",
        ),
        (["--victim-from", str(_damaged_copy(out, tmp_path))], "damaged victim (its weights do not match"),
        (["--victim-from", str(tmp_path / "absent.h5")], "absent.h5: no such benchmark file"),
        (
            ["--benchmark", "gtsrb", "--root", str(gtsrb), "--victim-from", str(out), "--limit", "1"],
            "a mnist file of 1x28x28 images, not gtsrb (3x32x32)",
        ),
    ]
    for extra, message in cases:
        assert cli.main(_argv(root, base, target, "--attacks", "fgsm", "--limit", "20", *extra)) == 2, extra
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (extra, err)
    assert not target.exists()


def test_limit_larger_than_the_correctly_classified_images_is_an_error():
    labels = np.arange(30) % 10
    correct = np.ones(30, dtype=bool)
    correct[:5] = False
    assert len(allclasses.test_rows(labels, correct, 25, seed=0)) == 25
    with pytest.raises(AdvbenchError, match="--limit 26: the victim classifies only 25 of the 30 test images"):
        allclasses.test_rows(labels, correct, 26, seed=0)


def test_stratified_rows_are_seeded_proportional_and_sorted():
    labels = np.repeat(np.arange(4), [40, 30, 20, 10])
    rows = allclasses.stratified_rows(labels, 50, seed=3, flag="--train-size")
    assert np.bincount(labels[rows]).tolist() == [20, 15, 10, 5] and np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, allclasses.stratified_rows(labels, 50, seed=3, flag="--train-size"))
    assert not np.array_equal(rows, allclasses.stratified_rows(labels, 50, seed=4, flag="--train-size"))
    np.testing.assert_array_equal(allclasses.stratified_rows(labels, 500, 0, "--train-size"), np.arange(100))
    with pytest.raises(AdvbenchError, match="--limit 3: no class-stratified sample of 3 from 100 images of 4 classes"):
        allclasses.stratified_rows(labels, 3, 0, "--limit")


def _config(*argv):
    parser = cli.build_parser()
    return _build_config(parser.parse_args(["generate-attacks", *argv]))


def test_benchmark_defaults_normal_class_budgets_and_output_name():
    benchmark, config = _config()
    assert benchmark.name == "gtsrb" and config.normal_class == 14 and config.params == {}
    assert default_out(benchmark, config.normal_class) == DEFAULT_OUT
    benchmark, config = _config("--benchmark", "fashion-mnist", "--set", "fgsm.eps=0.25", "--attacks", "fgsm,bim")
    assert config.normal_class == "all" and config.victim.epochs == registry.get("fashion-mnist").victim["epochs"]
    assert list(attack_plan(config)) == ["fgsm@eps=0.25", "bim@alpha=0.01,eps=0.1,steps=50"]
    assert default_out(benchmark, "all") == "datasets/fashion-mnist_all_adv.h5"
    assert default_out(registry.get("fashion-mnist"), 0) == "datasets/fashion-mnist_t-shirt-top_adv.h5"


def test_victim_checkpoint_keeps_its_architecture_and_old_checkpoints_are_gtsrb_s(tmp_path):
    import torch

    from advbench.attacks.victim import Architecture, VictimConfig, VictimNet, load_checkpoint, save_checkpoint

    config = VictimConfig(width=4)
    grey = VictimNet.build(config, Architecture.of((1, 28, 28), 10))
    save_checkpoint(tmp_path / "grey.pt", grey, config, [], {})
    model, _, _, _ = load_checkpoint(tmp_path / "grey.pt")
    assert model.architecture == Architecture(1, 28, 10)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    old = VictimNet.build(config, Architecture())
    save_checkpoint(tmp_path / "old.pt", old, config, [], {})
    payload = torch.load(tmp_path / "old.pt", weights_only=True)
    del payload["architecture"]  # as checkpoints were written before the field
    torch.save(payload, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")[0].architecture == Architecture(3, 32, 43)
