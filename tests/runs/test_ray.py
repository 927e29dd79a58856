"""``--executor ray``: a local Ray instance computes exactly what the process pool computes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from advbench.cli import main
from advbench.runs.results import read_results, read_scores, scores_path


def test_without_ray_the_error_says_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["run", "--data", "x.h5", "--out", str(tmp_path / "o"), "--executor", "ray"]) == 2
    assert 'error: --executor ray: Ray is not installed: pip install "advbench[ray]"' in capsys.readouterr().err
    assert main(["run", "--data", "x.h5", "--out", str(tmp_path / "o"), "--ray-address", "auto"]) == 2
    assert "--ray-address: only with --executor ray" in capsys.readouterr().err


def test_ray_reproduces_the_process_pool(tmp_path, capsys):
    pytest.importorskip("ray")
    from run_fixtures import write_synthetic_benchmark

    data = write_synthetic_benchmark(tmp_path / "bench.h5")
    common = ["run", "--data", str(data), "--detectors", "iforest,dcae", "--seeds", "2", "--threads", "1"]
    pool, ray_out = tmp_path / "pool", tmp_path / "ray"
    assert main([*common, "--jobs", "2", "--out", str(pool)]) == 0
    assert main([*common, "--executor", "ray", "--out", str(ray_out)]) == 0
    key = lambda r: (r["detector"], r["seed"], r["attack"])  # noqa: E731
    ours, theirs = sorted(read_results(pool), key=key), sorted(read_results(ray_out), key=key)
    assert [key(r) for r in ours] == [key(r) for r in theirs] and len(ours) == 2 * 2 * 4
    for a, b in zip(ours, theirs, strict=True):
        assert (a["auc"], a["paired_auc"], a["matched_auc"]) == (b["auc"], b["paired_auc"], b["matched_auc"])
    for detector in ("iforest", "dcae"):
        for seed in (0, 1):
            a, b = (read_scores(scores_path(out, detector, seed)) for out in (pool, ray_out))
            np.testing.assert_array_equal(a["normal_test"], b["normal_test"])
            for name in a["attacks"]:
                np.testing.assert_array_equal(a["attacks"][name], b["attacks"][name])
    capsys.readouterr()
    assert main([*common, "--executor", "ray", "--out", str(ray_out)]) == 0  # resume: nothing left to compute
    assert "4 pairs (4 reused, 0 computed)" in capsys.readouterr().err
