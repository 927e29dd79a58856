"""The example of the Python API runs as a script on a small synthetic stop-sign file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from paths import REPO
from run_fixtures import write_synthetic_benchmark

from advbench.cli import main

EXAMPLE = REPO / "docs" / "examples" / "evaluate_stop_signs.py"


def test_the_stop_sign_example_writes_roc_curves_and_a_folder_report_reads(tmp_path):
    pytest.importorskip("pyod")
    data = write_synthetic_benchmark(tmp_path / "bench.h5")
    out = tmp_path / "notebook"
    command = [sys.executable, str(EXAMPLE), str(data), "--out", str(out), "--seeds", "2"]
    found = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert found.returncode == 0, found.stderr[-2000:]
    assert (out / "roc_curves.png").stat().st_size > 0
    assert "ECOD" in found.stdout and "CentroidDistance" in found.stdout
    assert main(["report", str(out), "--resamples", "50"]) == 0
