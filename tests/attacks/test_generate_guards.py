"""``generate-attacks`` destroys nothing it did not create, and refuses before any work: an ``--out``
that is an input, inside or above one, a folder, under a file or in a folder it cannot write, or an
existing file that is not a benchmark file (unless ``--force``, which says what it replaces); victim
settings that a given victim would ignore; a damaged output of an interrupted run is named."""

from __future__ import annotations

import os

import numpy as np
import pytest
from _attack_data import TINY_VICTIM, synthetic_gtsrb, tiny_config
from run_fixtures import write_synthetic_benchmark

from advbench import cli
from advbench.attacks import pipeline, resume
from advbench.attacks.victim import Architecture, VictimNet, save_checkpoint, victim_record
from advbench.cli import options
from advbench.datasets.benchmark_file import BenchmarkContents, write_benchmark
from advbench.errors import AdvbenchError, DataError


class Loaded(Exception):
    """Raised where the command would load the data: the first work after the checks."""


@pytest.fixture(autouse=True)
def no_work(monkeypatch):
    def load(*args, **kwargs):
        raise Loaded

    monkeypatch.setattr(options, "data_from_args", load)


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "mnist"
    root.mkdir()
    (root / "train-images-idx3-ubyte.gz").write_bytes(b"not read")
    return root


def _argv(root, out, *extra) -> list[str]:
    return ["generate-attacks", "--benchmark", "mnist", "--root", str(root), "--attacks", "fgsm", "--quiet"] + [
        "--out",
        str(out),
        *extra,
    ]


def _snapshot(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(capsys, argv, message, folder) -> None:
    before = _snapshot(folder)
    assert cli.main(argv) == 2, argv
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert _snapshot(folder) == before


def test_an_existing_file_is_replaced_only_when_it_is_a_benchmark_file(root, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes", encoding="utf-8")
    message = f"--out {notes}: exists and is not an advbench benchmark file; not replaced (pass --force to replace it)"
    _refused(capsys, _argv(root, notes), message, tmp_path)
    assert not resume.partial_folder(notes).exists()
    bench = write_synthetic_benchmark(tmp_path / "bench.h5", n_train=4, n_test=4, n_attack=2)
    with pytest.raises(Loaded):
        cli.main(_argv(root, bench))
    assert "--force" not in capsys.readouterr().err


def test_force_says_what_it_replaces_before_any_work(root, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes", encoding="utf-8")
    with pytest.raises(Loaded):
        cli.main(_argv(root, notes, "--force"))
    assert f"--force: will replace {notes} (8 bytes, not a benchmark file)" in capsys.readouterr().err


def test_out_at_inside_or_above_an_input_is_refused(root, tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text("[fgsm]\neps = 0.3\n", encoding="utf-8")
    victim = write_synthetic_benchmark(tmp_path / "victim.h5", n_train=4, n_test=4, n_attack=2)
    link = tmp_path / "link.h5"
    link.symlink_to(victim)
    cases = [
        (config, ["--config", str(config)], f"--out {config}: is the input --config {config}"),
        (victim, ["--victim-from", str(victim)], f"--out {victim}: is the input --victim-from {victim}"),
        (link, ["--victim", str(victim)], f"--out {link}: is the input --victim {victim}"),
        (root / "x.h5", [], f"--out {root / 'x.h5'}: is inside the input --root {root}"),
        (root / ".." / "mnist", [], "is the input --root"),
        (tmp_path, [], f"--out {tmp_path}: holds the input --root {root}"),
    ]
    for out, extra, message in cases:
        _refused(capsys, _argv(root, out, *extra), message, tmp_path)


def test_out_a_folder_or_under_a_file_is_refused_before_any_work(root, tmp_path, capsys):
    folder = tmp_path / "out"
    (folder / "keep").mkdir(parents=True)
    _refused(capsys, _argv(root, folder), f"--out {folder}: is a folder; name the file to write", tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("x", encoding="utf-8")
    _refused(capsys, _argv(root, notes / "b.h5"), f"--out {notes / 'b.h5'}: {notes} is a file, not a folder", tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not bind the superuser")
def test_out_in_a_read_only_folder_is_refused_before_any_work(root, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        _refused(capsys, _argv(root, locked / "b.h5"), f"--out {locked / 'b.h5'}: cannot write in the folder", tmp_path)
    finally:
        locked.chmod(0o700)


def test_generate_checks_out_before_the_victim(tmp_path, monkeypatch):
    def no_victim(*args, **kwargs):
        raise AssertionError("the victim was made before the output was checked")

    monkeypatch.setattr(pipeline, "_victim", no_victim)
    with pytest.raises(AdvbenchError, match="is a folder; name the file to write"):
        pipeline.generate(synthetic_gtsrb(n_train=2, n_test=1), tmp_path, tiny_config())


def _victim_file(tmp_path):
    """A benchmark file of MNIST shape carrying an untrained ``TINY_VICTIM``, and that victim as a checkpoint."""
    model = VictimNet.build(TINY_VICTIM, Architecture.of((1, 28, 28), 10))
    images = np.zeros((2, 1, 28, 28), dtype=np.uint8)
    bench = BenchmarkContents(
        images, images, {}, {"benchmark": "mnist"}, victim=victim_record(model, TINY_VICTIM, [], 0.5)
    )
    write_benchmark(tmp_path / "victim.h5", bench)
    save_checkpoint(tmp_path / "victim.pt", model, TINY_VICTIM, [], {})
    return tmp_path / "victim.h5", tmp_path / "victim.pt"


def test_victim_settings_a_given_victim_would_ignore_are_refused(root, tmp_path, capsys):
    file, checkpoint = _victim_file(tmp_path)
    config = tmp_path / "victim.toml"
    config.write_text("[victim]\nepochs = 3\n", encoding="utf-8")
    out = tmp_path / "new.h5"
    given = f"differ from the victim of --victim-from {file}, which is used as it is"
    cases = [
        (
            ["--victim-from", str(file), "--set", "victim.width=8"],
            "--set victim.*: victim settings width=8 (trained with 4)",
        ),
        (
            ["--victim-from", str(file), "--victim-epochs", "2"],
            "--victim-epochs: victim settings epochs=2 (trained with 6)",
        ),
        (
            ["--victim-from", str(file), "--config", str(config)],
            f"--config [victim]: victim settings epochs=3 (trained with 6) {given}",
        ),
        (["--victim", str(checkpoint), "--victim-epochs", "2"], f"differ from the victim of --victim {checkpoint}"),
    ]
    for extra, message in cases:
        _refused(capsys, _argv(root, out, *extra), message, tmp_path)
    with pytest.raises(Loaded):  # the settings it was trained with: nothing is ignored
        cli.main(_argv(root, out, "--victim-from", str(file), "--set", "victim.width=4"))


def test_a_damaged_stored_output_is_named_with_how_to_start_over(tmp_path):
    out = tmp_path / "bench.h5"
    resume.store(out, "good", np.zeros((1, 3, 2, 2), dtype=np.float32), 1.0)
    damaged = resume.partial_folder(out) / "bad.npz"
    damaged.write_bytes(b"PK\x03\x04 cut short")
    assert resume.load(out, "good")[1] == 1.0
    with pytest.raises(DataError) as caught:
        resume.load(out, "bad")
    message = str(caught.value)
    assert message.startswith(f"{damaged}: damaged output of an interrupted run")
    assert "remove this file" in message and f"the folder {resume.partial_folder(out)} to start over" in message
