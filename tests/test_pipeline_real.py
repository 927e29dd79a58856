"""The whole pipeline on the real GTSRB copy at small scale (skipped when ../shared is absent).

generate-attacks (one victim epoch, 30 stop signs, a short Boundary run), then ``run`` with two
detectors over one seed in one process (``--jobs 2`` is checked by ``runs/test_run.py``), then
``report``: every stage on real images, in about a minute.
Marked ``slow`` (deselect with ``-m "not slow"``). The 51,839 crops are cached in the repository's
``datasets/cache/`` (git-ignored), as ``advbench`` and ``test_gtsrb.py`` cache them, so only the
first run on a machine crops the images.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advbench import cli

REPO = Path(__file__).resolve().parents[1]
REAL_ROOT = REPO.parent / "shared" / "data" / "gtsrb"
#: Data folder whose ``cache/`` holds the parsed crops across test sessions.
SHARED_DATA_DIR = REPO / "datasets"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REAL_ROOT.is_dir(), reason="real GTSRB copy (../shared/data/gtsrb) not present"),
]

FAST_DEEP = """
[detectors.dcae]
epochs = 2
"""


def test_real_pipeline_small(tmp_path, capsys):
    data = tmp_path / "stop_adv.h5"
    code = cli.main(
        [
            "generate-attacks",
            "--gtsrb-root",
            str(REAL_ROOT),
            "--data-dir",
            str(SHARED_DATA_DIR),
            "--out",
            str(data),
            "--limit",
            "30",
            "--victim-epochs",
            "1",
            "--quiet",
            "--set",
            "boundary.steps=200",
            "--set",
            "deepfool.steps=20",
        ]
    )
    assert code == 0
    capsys.readouterr()
    assert cli.main(["info", str(data), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["normal_train"], info["normal_test"]) == (780, 270)
    assert info["victim_test_accuracy"] > 0.8
    assert set(info["attacks"]) == {"boundary@steps=200", "fgsm", "bim", "deepfool@steps=20"}  # named by --set
    assert all(a["attempted"] == 30 for a in info["attacks"].values())
    assert sum(a["count"] for a in info["attacks"].values()) > 0

    config = tmp_path / "fast.toml"
    config.write_text(FAST_DEEP, encoding="utf-8")
    out = tmp_path / "run"
    kept = [name for name, a in info["attacks"].items() if a["count"] > 0]
    attacks = ",".join(kept)
    code = cli.main(
        [
            "run",
            "--data",
            str(data),
            "--detectors",
            "mahalanobis,dcae",
            "--seeds",
            "1",
            "--attacks",
            attacks,
            "--config",
            str(config),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 2 * 1 * len(kept)
    assert all(line["error"] is None and 0.0 <= line["auc"] <= 1.0 for line in lines)
    assert all(0.0 <= line["paired_auc"] <= 1.0 and 0.0 <= line["matched_auc"] <= 1.0 for line in lines)
    table = (out / "auc_table.md").read_text()
    assert "mahalanobis" in table and "dcae" in table
    assert cli.main(["report", str(out)]) == 0
    assert (out / "auc_table.md").read_text() == table
