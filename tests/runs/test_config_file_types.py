"""A ``--config`` TOML file with values of the wrong type, or not UTF-8, is one line and exit 2, never a traceback."""

from __future__ import annotations

import pytest

from advbench.cli import main
from advbench.runs.config import RUN_KEYS, RUN_TYPES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'[run]\ndetectors = ["ocsvm", 3]\n', "[run] detectors must be str or a list of str; got ['ocsvm', 3]"),
        (b'[run]\nattacks = ["fgsm", 3]\n', "[run] attacks must be str or a list of str; got ['fgsm', 3]"),
        (b'[run]\nseeds = [1, "x"]\n', "[run] seeds must be int or str or a list of int; got [1, 'x']"),
        (b'[run]\nout = ["o"]\n', "[run] out must be str; got ['o']"),
        (b"[run]\nvictim = 3\n", "[run] victim must be str; got 3"),
        (b"[run]\njobs = true\n", "[run] jobs must be int or str; got True"),
        (b"run = 3\n", "run must be a table ([run])"),
        (b"detectors = 3\n", "detectors must be a table ([detectors])"),
        (
            b"# caf\xe9\n[run]\nseeds = 1\n",
            "not UTF-8 text (TOML files are UTF-8): invalid continuation byte at byte 5",
        ),
    ],
)
def test_bad_values_are_one_line(data, tmp_path, capsys, text, message):
    config = tmp_path / "bad.toml"
    config.write_bytes(text)
    out = tmp_path / "out"
    assert main(["run", "--data", str(data), "--out", str(out), "--config", str(config)]) == 2
    assert capsys.readouterr().err == f"advbench run: error: --config {config}: {message}\n"
    assert not out.exists()


def test_every_run_key_has_its_types():
    assert set(RUN_TYPES) == set(RUN_KEYS)
