"""The shipped victims: the index matches the files and the benchmarks' default victim settings, and
``generate`` attacks the shipped victim exactly when the data, settings and seed are those it was
trained with (else it trains one and says why)."""

from __future__ import annotations

import json
import shutil

import pytest
from _attack_data import synthetic_gtsrb, tiny_config

from advbench.attacks import shipped
from advbench.attacks.pipeline import generate
from advbench.attacks.victim import VictimConfig, arrays_sha256, cache_key, load_checkpoint, state_arrays
from advbench.cli import main
from advbench.datasets import registry
from advbench.errors import DataError
from advbench.fileio import sha256_file


@pytest.mark.parametrize("name", ["gtsrb", "mnist", "fashion-mnist"])
def test_each_default_benchmark_ships_its_victim_as_indexed(name):
    entry = shipped.index()[name]
    model, config, history, meta = load_checkpoint(entry.checked_path())
    assert config == VictimConfig.from_dict(registry.get(name).victim)  # the default generate-attacks would train
    assert (meta["data_sha256"], meta["seed"]) == (entry.data_sha256, entry.seed) == (entry.data_sha256, 0)
    assert cache_key(entry.data_sha256, config, entry.seed) == entry.cache_key
    assert arrays_sha256(state_arrays(model)) == entry.weights_sha256 and len(history) == config.epochs


@pytest.fixture
def shipped_tiny(tmp_path, monkeypatch, one_thread):
    """A package folder that ships the tiny victim of the synthetic data as the gtsrb victim; the data."""
    data = synthetic_gtsrb()
    trained = generate(data, tmp_path / "train" / "b.h5", tiny_config(attacks=("fgsm",)))
    checkpoint = tmp_path / "train" / trained.attrs["victim"]["checkpoint"]
    folder = tmp_path / "package"
    folder.mkdir()
    shutil.copy(checkpoint, folder / "gtsrb.pt")
    entry = {
        "file": "gtsrb.pt",
        "sha256": sha256_file(checkpoint),
        "cache_key": trained.attrs["victim"]["cache_key"],
        "data_sha256": data.content_sha256,
        "seed": 0,
        "test_accuracy": trained.attrs["victim_test_accuracy"],
        "weights_sha256": trained.victim["attrs"]["sha256"],
        "trained": "tiny",
    }
    (folder / shipped.INDEX).write_text(json.dumps({"gtsrb": entry}))
    monkeypatch.setattr(shipped, "SHIPPED", folder)
    return data, trained


def test_generate_attacks_the_shipped_victim_when_the_data_fits(shipped_tiny, tmp_path):
    data, trained = shipped_tiny
    logs = []
    bench = generate(data, tmp_path / "new" / "b.h5", tiny_config(attacks=("fgsm",)), log=logs.append)
    assert any("victim: the shipped gtsrb victim (gtsrb.pt" in line for line in logs)
    assert not list((tmp_path / "new").glob("victim-*.pt"))  # nothing trained, nothing cached
    victim = bench.attrs["victim"]
    assert victim["checkpoint"] == "shipped:gtsrb.pt" and not victim["trained_here"]
    assert bench.victim["attrs"]["sha256"] == trained.victim["attrs"]["sha256"]


def test_train_victim_trains_even_when_a_shipped_victim_fits(shipped_tiny, tmp_path):
    data, _ = shipped_tiny
    logs = []
    bench = generate(
        data, tmp_path / "own" / "b.h5", tiny_config(attacks=("fgsm",), train_victim=True), log=logs.append
    )
    assert not any("shipped" in line for line in logs) and bench.attrs["victim"]["trained_here"]


def test_other_data_trains_its_own_victim_and_says_why(shipped_tiny, tmp_path):
    other = synthetic_gtsrb(seed=1)
    logs = []
    bench = generate(other, tmp_path / "other" / "b.h5", tiny_config(attacks=("fgsm",)), log=logs.append)
    assert bench.attrs["victim"]["trained_here"]
    assert any(
        f"not the shipped one: this copy's content sha256 {other.content_sha256[:12]} is not that of the data" in line
        for line in logs
    )


def test_a_damaged_shipped_victim_is_refused(shipped_tiny, tmp_path):
    data, _ = shipped_tiny
    with open(shipped.SHIPPED / "gtsrb.pt", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(DataError, match="the shipped gtsrb victim is missing or damaged"):
        generate(data, tmp_path / "new" / "b.h5", tiny_config(attacks=("fgsm",)))


def test_train_victim_with_a_given_victim_is_one_line(tmp_path, capsys):
    assert main(["generate-attacks", "--train-victim", "--victim", str(tmp_path / "v.pt")]) == 2
    assert capsys.readouterr().err == (
        "advbench generate-attacks: error: --train-victim: not with --victim or --victim-from (they give the victim)\n"
    )
