"""``analysis/check_members.py``: each check re-run's member alone, read back from the kept candidates."""

from __future__ import annotations

import json

import pytest
from _attack_data import every_class_fgsm_file
from paths import run_analysis_script
from plugin_package import install_plugin

from advbench import cli

pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_member_alone_does_no_better_than_all_of_a_check_together(tmp_path, monkeypatch):
    built = every_class_fgsm_file(tmp_path / "data")
    monkeypatch.syspath_prepend(str(install_plugin(tmp_path / "site", {"g": "tiny_plugin:MeanDistanceGrad"})))
    out = tmp_path / "eval"
    argv = ["evaluate-adaptive", str(built), "--detectors", "g", "--members", "fool-first-pgd,selective-pgd"]
    assert cli.main([*argv, "--steps", "5", "--eps", "0.05", "--out", str(out)]) == 0
    (cell,) = [json.loads(line) for line in (out / "cells.jsonl").read_text().splitlines()]

    result = run_analysis_script("check_members", out)
    assert result.returncode == 0, result.stderr
    rows = [line.strip("| ").split(" | ") for line in result.stdout.splitlines() if line.startswith("| g |")]
    for check in ("convergence", "unbounded"):
        alone = [float(row[-2]) for row in rows if row[4] == check]
        assert [row[5] for row in rows if row[4] == check] == cell["checks"][check]["members"]
        together = 100 * cell["checks"][check]["dara@5%"]
        base = 100 * cell["figures"]["worst"]["dara@5%"]
        assert all(together - 0.05 <= value <= base + 0.05 for value in alone)
    assert min(float(row[-2]) for row in rows if row[4] == "unbounded") < float(rows[0][3])  # a re-run that helped
