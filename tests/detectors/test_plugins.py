"""Third-party detectors registered under the ``advbench.detectors`` entry-point group (the ``plugin``
fixture of ``conftest.py``)."""

from __future__ import annotations

from advbench import detectors
from advbench.cli import main
from advbench.runs.results import read_results


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
    config.write_text("[detectors.mean-distance]\nscale = 2.0\n")
    out = tmp_path / "run"
    argv = [
        "run",
        "--data",
        str(data),
        "--detectors",
        "mean-distance,iforest",
        "--seeds",
        "2",
        "--jobs",
        "2",
        "--config",
        str(config),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    records = [r for r in read_results(out) if r["detector"] == "mean-distance"]
    assert records and all(r["error"] is None and r["params"]["scale"] == 2.0 for r in records)
    assert "mean-distance" in (out / "auc_table.md").read_text()
    config.write_text("[detectors.mean-distance]\nscale = -1.0\n")
    assert main([*argv[:-2], "--out", str(tmp_path / "bad")]) == 2
    assert "scale must be > 0" in capsys.readouterr().err
