"""Third-party detectors registered under the ``advbench.detectors`` entry-point group."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from advbench import detectors
from advbench.cli import main
from advbench.runs.results import read_results

PLUGIN = '''
"""A tiny plug-in detector: distance of an image's mean to the training images' mean."""
import numpy as np
from advbench.detectors import BaseDetector


class MeanDistance(BaseDetector):
    description = "plug-in test detector: |mean(x) - mean(train)|"

    def __init__(self, scale: float = 1.0, random_state=None):
        self.scale = scale
        self.random_state = random_state

    def _check_params(self):
        if self.scale <= 0:
            raise ValueError(f"scale must be > 0; got {self.scale!r}")

    def _fit(self, X):
        self.centre_ = float(X.mean())

    def _score(self, X):
        return self.scale * np.abs(X.mean(axis=(1, 2, 3)) - self.centre_)


class NotADetector:
    pass
'''


def install_plugin(folder: Path, entries: dict[str, str]) -> Path:
    """A package ``tiny_plugin`` with a dist-info declaring ``entries`` (name -> "module:attr") in the group."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = folder / "tiny_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-plugin\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[{detectors.ENTRY_POINT_GROUP}]\n{lines}")
    return folder


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    entries = {"mean-distance": "tiny_plugin:MeanDistance", "broken": "tiny_plugin:NotADetector",
               "ocsvm": "tiny_plugin:MeanDistance"}  # fmt: skip
    monkeypatch.syspath_prepend(str(install_plugin(tmp_path / "site", entries)))
    return entries


def test_plugins_are_listed_and_checked(plugin, capsys):
    assert detectors.names()[-2:] == ["broken", "mean-distance"]
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mean-distance          plug-in test detector" in out and "(plug-in: tiny_plugin:MeanDistance)" in out
    assert "is not a subclass of advbench.detectors.BaseDetector" in out
    assert "ignored plug-in tiny_plugin:MeanDistance: its name is a built-in detector's" in out
    assert type(detectors.create("ocsvm")).__name__ == "OCSVMDetector"


def test_a_plugin_runs_end_to_end_with_workers_and_config(plugin, tmp_path, capsys):
    from run_fixtures import write_synthetic_benchmark

    data = write_synthetic_benchmark(tmp_path / "bench.h5")
    config = tmp_path / "c.toml"
    config.write_text('[detectors.mean-distance]\nscale = 2.0\n')
    out = tmp_path / "run"
    argv = ["run", "--data", str(data), "--detectors", "mean-distance,iforest", "--seeds", "2", "--jobs", "2",
            "--config", str(config), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    records = [r for r in read_results(out) if r["detector"] == "mean-distance"]
    assert records and all(r["error"] is None and r["params"]["scale"] == 2.0 for r in records)
    assert "mean-distance" in (out / "auc_table.md").read_text()
    config.write_text('[detectors.mean-distance]\nscale = -1.0\n')
    assert main([*argv[:-2], "--out", str(tmp_path / "bad")]) == 2
    assert "scale must be > 0" in capsys.readouterr().err
