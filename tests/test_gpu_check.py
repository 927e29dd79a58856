"""``benchmarks/gpu_check.sh`` run on the CPU (``--device cpu``) on a tiny GTSRB stand-in: every stage
runs and is timed, and the comparison of the two runs' AUCs finds them equal; the comparison
itself reports differences and unmatched lines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from _attack_data import TINY_TOML, synthetic_gtsrb, write_official_layout
from paths import REPO, benchmark_script


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_gpu_check_runs_every_stage_on_the_cpu(tmp_path):
    root = write_official_layout(tmp_path / "gtsrb", synthetic_gtsrb())
    (tmp_path / "tiny.toml").write_text(TINY_TOML)
    out = tmp_path / "check"
    env = os.environ | {
        "PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    argv = ["bash", str(REPO / "benchmarks" / "gpu_check.sh"), "--device", "cpu", "--gtsrb-root", str(root)]
    argv += ["--out", str(out), "--detectors", "mahalanobis,iforest", "--", "--config", str(tmp_path / "tiny.toml")]
    argv += ["--attacks", "fgsm,bim"]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    stages = (out / "stages.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in stages] == [
        "stage",
        "generate-attacks (cpu)",
        "run mahalanobis,iforest, seed 0 (cpu)",
        "run mahalanobis,iforest, seed 0 (cpu)",
    ]
    assert all(float(line.split("\t")[1]) > 0 for line in stages[1:])
    assert "largest |AUC difference| over 2 detectors: 0.0000 points" in done.stdout
    assert (out / "run-cpu" / "results.jsonl").is_file() and (out / "run-cpu-reference" / "results.jsonl").is_file()


def test_comparison_reports_differences_and_unmatched_lines():
    compare = benchmark_script("compare_runs").compare

    def line(detector, attack, auc, fit=1.0):
        return {"detector": detector, "seed": 0, "attack": attack, "error": None, "fit_seconds": fit} | {
            "auc": auc,
            "paired_auc": 0.5,
            "matched_auc": None,
        }

    first = [line("dcae", "fgsm", 0.70, 2.0), line("dcae", "bim", 0.60, 2.0), line("ocsvm", "fgsm", 0.5)]
    second = [line("dcae", "fgsm", 0.72, 9.0), line("dcae", "bim", 0.60, 9.0)]
    rows, problems = compare(first, second)
    assert rows["dcae"]["max_diff"] == pytest.approx(2.0) and (rows["dcae"]["fit_a"], rows["dcae"]["fit_b"]) == (
        2.0,
        9.0,
    )
    assert problems == ["('ocsvm', 0, 'fgsm'): only in the first folder"]
