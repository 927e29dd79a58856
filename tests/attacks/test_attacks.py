"""generate-attacks on a tiny synthetic GTSRB with a tiny victim: every attack, the file, the CLI."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from importlib import metadata

import numpy as np
import pytest
import torch
from _attack_data import TINY_TOML, TINY_VICTIM, synthetic_gtsrb, tiny_config, write_official_layout

from advbench import cli
from advbench.attacks.pipeline import generate, victim_cache_path
from advbench.attacks.quantize import keep_adversarial, quantize
from advbench.attacks.victim import cache_key, load_checkpoint, predict, train_victim
from advbench.datasets.benchmark_file import read_benchmark


def _installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Run the real CLI on a synthetic GTSRB written in the official layout."""
    base = tmp_path_factory.mktemp("gen")
    data = synthetic_gtsrb()
    root = write_official_layout(base / "gtsrb", data)
    config = base / "tiny.toml"
    config.write_text(TINY_TOML)
    out = base / "out" / "bench.h5"
    argv = [
        "generate-attacks",
        "--gtsrb-root",
        str(root),
        "--data-dir",
        str(base / "data"),
        "--out",
        str(out),
        "--config",
        str(config),
        "--device",
        "cpu",
        "--quiet",
        "--sweep",
        "fgsm.eps=0.1,3/10",
    ]
    assert cli.main(argv) == 0
    return out, data


def test_every_attack_runs_and_is_stored(built):
    out, data = built
    bench = read_benchmark(out)
    # the --config values are not the defaults, so they name the variants; the sweep's 3/10 is --config's fgsm
    assert [attack.attrs["family"] for attack in bench.attacks.values()] == [
        "boundary",
        "fgsm",
        "fgsm",
        "bim",
        "deepfool",
    ]
    assert list(bench.attacks)[1:] == ["fgsm@eps=0.1", "fgsm@eps=0.3", "bim@alpha=0.05,eps=0.3", "deepfool@steps=5"]
    assert list(bench.attacks)[0] == "boundary@batch_size=8,init_directions=20,steps=20"
    assert bench.attacks["fgsm@eps=0.1"].attrs["params"]["eps"] == 0.1
    assert len(bench.normal_train) == (data.train.labels == 14).sum()
    np.testing.assert_array_equal(bench.normal_test, data.test.images[data.test.labels == 14])
    for name, attack in bench.attacks.items():
        a = attack.attrs
        assert a["attempted"] >= a["succeeded"] == a["kept"] == len(attack) and a["nonfinite"] == 0, name
        assert a["fooled_before_rounding"] <= a["attempted"], name
        assert attack.images.dtype == np.uint8
    assert bench.attrs["eligible"] == len(bench.normal_test)  # the tiny victim classifies every stop sign
    assert all(len(attack) > 0 for name, attack in bench.attacks.items() if name != "fgsm@eps=0.1")
    assert bench.attrs["victim"]["trained_here"]
    # each package's installed version, None for one that is not installed (torchattacks is optional)
    for package in ("torch", "numpy", "foolbox", "torchattacks"):
        assert bench.attrs["versions"][package] == _installed_version(package), package
    assert bench.attacks[list(bench.attacks)[0]].attrs["params"]["steps"] == 20  # from the --config file


def test_kept_images_fool_the_victim_after_quantization(built):
    out, _ = built
    bench = read_benchmark(out)
    model, *_ = load_checkpoint(out.parent / bench.attrs["victim"]["checkpoint"])
    for name, attack in bench.attacks.items():
        if not len(attack):
            continue
        pred = predict(model, torch.from_numpy(attack.images).float() / 255).numpy()
        np.testing.assert_array_equal(pred, attack.predicted_label, err_msg=name)
        assert (pred != 14).all(), name
        diff = (attack.images.astype(float) - bench.normal_test[attack.source_index].astype(float)) / 255
        np.testing.assert_allclose(attack.l2, np.linalg.norm(diff.reshape(len(diff), -1), axis=1))
        np.testing.assert_allclose(attack.linf, np.abs(diff).reshape(len(diff), -1).max(axis=1))


def test_info_json_agrees_with_file(built, capsys):
    out, _ = built
    capsys.readouterr()
    assert cli.main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    bench = read_benchmark(out)
    assert info["normal_train"] == len(bench.normal_train) and info["normal_test"] == len(bench.normal_test)
    assert info["victim_test_accuracy"] == pytest.approx(bench.attrs["victim_test_accuracy"])
    for name, attack in bench.attacks.items():
        entry = info["attacks"][name]
        assert entry["count"] == len(attack) and entry["attempted"] == attack.attrs["attempted"]
        assert entry["kept_rate"] == pytest.approx(len(attack) / attack.attrs["attempted"])
        assert entry["succeeded"] == entry["count"] and "success_rate" not in entry
        if len(attack):
            assert entry["median_l2"] == pytest.approx(np.median(attack.l2))
            assert entry["median_linf"] == pytest.approx(np.median(attack.linf))


def test_seed_makes_file_reproducible_and_victim_is_cached(tmp_path):
    data = synthetic_gtsrb()
    config = tiny_config(attacks=("boundary", "deepfool"))
    first = generate(data, tmp_path / "a" / "b.h5", config)
    second = generate(data, tmp_path / "b" / "b.h5", config)
    for name in first.attacks:
        for key in ("images", "source_index", "predicted_label", "l2", "linf"):
            np.testing.assert_array_equal(getattr(first.attacks[name], key), getattr(second.attacks[name], key))
    weights = [
        load_checkpoint(tmp_path / d / b.attrs["victim"]["checkpoint"])[0].state_dict()
        for d, b in (("a", first), ("b", second))
    ]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    logs = []
    third = generate(data, tmp_path / "a" / "b.h5", config, log=logs.append)  # rerun: same output
    assert any("reusing cached checkpoint" in line for line in logs) and not third.attrs["victim"]["trained_here"]
    boundary = list(first.attacks)[0]
    np.testing.assert_array_equal(third.attacks[boundary].images, first.attacks[boundary].images)


def test_limit_attacks_first_eligible_images(tmp_path):
    bench = generate(synthetic_gtsrb(), tmp_path / "b.h5", tiny_config(attacks=("bim",), limit=2))
    (bim,) = bench.attacks.values()
    assert bim.attrs["attempted"] == 2 and len(bim) == 2 and set(bim.source_index) == {0, 1}


def test_nonfinite_outputs_are_dropped_and_counted():
    torch.manual_seed(0)  # before the model: its weights must not depend on what ran before this test
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 43)).eval()
    clean = np.full((3, 3, 32, 32), 128, np.uint8)
    adv = torch.rand(3, 3, 32, 32)
    adv[1, 0, 0, 0] = float("nan")
    adv[2, 1, 2, 3] = float("inf")
    label = int(predict(model, adv[:1]).item()) + 1  # row 0 fools the model
    outcome = keep_adversarial(model, clean, adv, np.full(3, label))
    assert outcome.nonfinite == 2 and outcome.kept == 1 and list(outcome.rows) == [0]
    np.testing.assert_array_equal(outcome.images[0], quantize(adv[:1])[0])


def test_rounding_that_undoes_an_attack_drops_the_image_and_is_not_a_success():
    """A linear victim: class 1 when the mean pixel exceeds 100.3/255. Clean images (100/255) are class 0.
    Row 0 (100.4/255) fools it as a float but rounds back to 100; row 1 (101/255) fools it either way."""
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 2)).eval()
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].weight[1] = 1.0 / (3 * 32 * 32)
        model[1].bias[:] = torch.tensor([0.0, -100.3 / 255])
    clean = np.full((2, 3, 32, 32), 100, np.uint8)
    adversarial = torch.stack([torch.full((3, 32, 32), 100.4 / 255), torch.full((3, 32, 32), 101 / 255)])
    assert predict(model, adversarial).tolist() == [1, 1]  # both fool the victim before rounding
    outcome = keep_adversarial(model, clean, adversarial, np.zeros(2, np.int64))
    assert (outcome.attempted, outcome.fooled_before_rounding, outcome.succeeded, outcome.kept) == (2, 2, 1, 1)
    assert outcome.rows.tolist() == [1] and outcome.images[0].max() == outcome.images[0].min() == 101
    assert outcome.predicted_label.tolist() == [1]


def test_rounding_that_completes_an_attack_keeps_the_image_and_is_a_success():
    """The same linear victim with its boundary at a mean pixel of 100.8/255. Row 0 (100.6/255) is
    classified correctly as a float but rounds to 101: misclassified, kept. Row 1 (100.4/255) fools it
    neither way; row 2 (101.2/255) fools it both ways."""
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 2)).eval()
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].weight[1] = 1.0 / (3 * 32 * 32)
        model[1].bias[:] = torch.tensor([0.0, -100.8 / 255])
    clean = np.full((3, 3, 32, 32), 100, np.uint8)
    adversarial = torch.stack([torch.full((3, 32, 32), v / 255) for v in (100.6, 100.4, 101.2)])
    assert predict(model, adversarial).tolist() == [0, 0, 1]  # before rounding only row 2 fools the victim
    outcome = keep_adversarial(model, clean, adversarial, np.zeros(3, np.int64))
    assert (outcome.attempted, outcome.fooled_before_rounding, outcome.succeeded, outcome.kept) == (3, 1, 2, 2)
    assert outcome.rows.tolist() == [0, 2] and outcome.predicted_label.tolist() == [1, 1]
    assert (
        [int(image.min()) for image in outcome.images] == [int(image.max()) for image in outcome.images] == [101, 101]
    )
    np.testing.assert_allclose(outcome.linf, [1 / 255, 1 / 255])


def test_cli_errors_are_one_line(tmp_path, capsys):
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
    ]
    cases = [
        (["--victim", str(tmp_path / "none.pt")], "none.pt: no such checkpoint"),
        (["--set", "fgsm.bogus=1"], "unknown parameter 'bogus'"),
        (["--set", "bim.steps=2.5"], "bim.steps: expected int"),
        (["--set", "nonsense"], "--set 'nonsense'"),
        (["--config", str(tmp_path / "absent.toml")], "absent.toml: no such file"),
        (["--attacks", "fgsm,nope"], "--attacks: unknown attack 'nope'"),
        (["--attacks", "eps=1/255,fgsm"], "'eps=1/255' comes before any attack name"),
        (["--attacks", "fgsm@eps=abc"], "fgsm.eps: expected float, got 'abc'"),
        (["--attacks", "fgsm@backend=cleverhans"], "fgsm.backend: expected one of foolbox, torchattacks"),
        (["--attacks", "fgsm@eps=1/0"], "'1/0' is not a number"),
        (["--attacks", "fgsm@eps=-4/255"], "fgsm.eps: must be positive"),
        (["--attacks", "bim@eps=8/255,bogus=2"], "bim: unknown parameter 'bogus'"),
        (["--attacks", "deepfool@steps=2.5"], "deepfool.steps: expected int"),
        (["--sweep", "fgsm.eps="], "--sweep fgsm.eps=: no values given"),
        (["--sweep", "fgsm=1,2"], "expected ATTACK.PARAM=V1,V2"),
        (["--sweep", "nope.eps=1"], "unknown attack 'nope'"),
    ]
    for extra, message in cases:
        assert cli.main(base + extra) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert cli.main(base + ["--victim", str(bad)]) == 2
    assert "not a readable torch checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "o.h5").exists()


def test_set_wins_over_config(tmp_path):
    from advbench.attacks.settings import load_settings

    config = tmp_path / "c.toml"
    config.write_text("[fgsm]\neps = 0.1\nbatch_size = 4\n[victim]\nepochs = 2\n")
    settings = load_settings(config, ["fgsm.eps=0.02", "victim.augment=false"])
    assert settings == {"fgsm": {"eps": 0.02, "batch_size": 4}, "victim": {"epochs": 2, "augment": False}}


def test_victim_cache_path_depends_on_data_config_and_seed(tmp_path):
    config = tiny_config()
    keys = {cache_key("a", config.victim, 0), cache_key("b", config.victim, 0), cache_key("a", config.victim, 1)}
    assert len(keys) == 3
    assert victim_cache_path(tmp_path / "x.h5", "k") == tmp_path / "victim-k.pt"


def test_second_output_in_the_same_folder_reuses_the_victim(tmp_path, monkeypatch):
    data, config = synthetic_gtsrb(), tiny_config(attacks=("fgsm",))
    first = generate(data, tmp_path / "first.h5", config)
    assert first.attrs["victim"]["trained_here"]

    def no_training(*args, **kwargs):
        raise AssertionError("the victim was trained again")

    monkeypatch.setattr("advbench.attacks.pipeline.train_victim", no_training)
    second = generate(data, tmp_path / "other.h5", tiny_config(attacks=("fgsm@eps=0.2",)))
    assert not second.attrs["victim"]["trained_here"]
    assert second.attrs["victim"]["checkpoint_sha256"] == first.attrs["victim"]["checkpoint_sha256"]


def test_victim_learning_rate_follows_the_cosine_decay(monkeypatch):
    """Cosine decay over all batches (3 per epoch here): the rate of each optimizer step, read from
    the optimizer as it steps (the checkpoint's history stays as it was)."""
    seen = []
    step = torch.optim.AdamW.step

    def spy(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", spy)
    data = synthetic_gtsrb(n_train=5, n_test=1)
    config = replace(TINY_VICTIM, epochs=2, batch_size=10)
    train_victim(data.train, config)
    expected = [config.lr * (1 + math.cos(math.pi * i / len(seen))) / 2 for i in range(len(seen))]
    assert len(seen) == 6 and seen == pytest.approx(expected, rel=1e-9)
