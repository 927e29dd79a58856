"""``advbench report --metrics``: a table per detection metric from the stored scores, with intervals
and bold marks (the lowest false-positive rate is the best), entries for the site, the convention in
every footnote; the default rendering unchanged, byte for byte, on a fresh folder and on published
folders; a bad list is one line naming the flag."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from paths import REPO
from run_fixtures import classic_run

from advbench.cli import main
from advbench.reports import detection, significance, tables
from advbench.runs import detection_metrics, intervals
from advbench.runs.results import read_results, read_scores, scores_path

CELL = re.compile(r"^(\*\*)?(?P<mean>\d+\.\d) \[(?P<low>\d+\.\d), (?P<high>\d+\.\d)\](\*\*)?$")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> tuple[Path, Path]:
    """Two classic detectors, two seeds, rendered by the run (seconds)."""
    return classic_run(tmp_path_factory.mktemp("runs"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _table(path: Path) -> dict[tuple[str, str], str]:
    """``{(detector, column heading): cell text}`` of a Markdown table."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    heading = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    return {(row[0], column): text for row in rows for column, text in zip(heading[1:], row[1:], strict=True)}


def test_all_metrics_from_the_stored_scores_and_back_to_the_default(run_folder, tmp_path, capsys):
    data, out = run_folder
    copy = Path(shutil.copytree(out, tmp_path / "copy"))
    assert main(["report", str(copy), "--data", str(data), "--resamples", "200"]) == 0
    default = _snapshot(copy)
    assert main(["report", str(copy), "--data", str(data), "--resamples", "200", "--ci", "--metrics", "all"]) == 0
    records = [r for r in read_results(copy) if r["error"] is None]
    entries = json.loads((copy / "entries.json").read_text(encoding="utf-8"))
    for name in detection_metrics.NAMES[1:]:
        stem = detection.STEMS[name]
        for ext in ("md", "tex"):
            assert detection_metrics.CONVENTION in (copy / f"{stem}.{ext}").read_text(encoding="utf-8")
        table = _table(copy / f"{stem}.md")
        for (detector, column), cell in table.items():
            lines = [r for r in records if r["detector"] == detector and tables.attack_label(r["attack"]) == column]
            values = [
                detection_metrics.compute(name, found["normal_test"], found["attacks"][r["attack"]])
                for r in lines
                for found in [read_scores(scores_path(copy, detector, r["seed"]))]
            ]
            match = CELL.match(cell)
            assert match, (name, cell)
            assert float(match["mean"]) == pytest.approx(100 * np.mean(values), abs=0.051)
            low, mean, high = (float(match[key]) for key in ("low", "mean", "high"))
            assert low <= mean + 0.05 and mean <= high + 0.05
        for entry in entries["entries"]:
            for cell in entry["metrics"][name].values():
                assert cell["low"] is not None and cell["high"] is not None and cell["seeds"] == 2
    assert set(entries["columns"]) == {"auc", "paired_auc", "matched_auc", *detection_metrics.NAMES[1:]}
    assert main(["report", str(copy), "--data", str(data), "--resamples", "200"]) == 0
    assert _snapshot(copy) == default  # the default removes the metric tables it did not choose
    capsys.readouterr()


def test_the_lowest_false_positive_rate_is_the_best():
    rng = np.random.default_rng(4)
    negatives, positives = rng.normal(size=200), rng.normal(1.5, 1.0, size=200)
    scores = {
        "good": {(0, None): {"normal_test": negatives, "attacks": {"x": positives}}},
        "bad": {(0, None): {"normal_test": negatives, "attacks": {"x": positives - 1.2}}},
    }
    records = [{"detector": row, "attack": "x", "seed": 0, "error": None, "auc": 0.5} for row in scores]
    stats = significance.FolderStats(scores, records, [0], intervals.Bootstrap(200, seed=0))
    given = detection.with_metric(records, scores, "fpr95")
    cells = tables.collect(given, ["good", "bad"], ["x"], [0], "fpr95")
    significance.annotate_table(cells, ["good", "bad"], ["x"], stats.of("fpr95"), lower_is_better=True)
    assert cells["good", "x"].mean < cells["bad", "x"].mean
    assert cells["good", "x"].bold and not cells["bad", "x"].bold and cells["bad", "x"].p_value < 0.05


def test_an_unknown_metric_is_one_line_naming_the_flag(run_folder, capsys):
    _, out = run_folder
    before = _snapshot(out)
    capsys.readouterr()
    assert main(["report", str(out), "--metrics", "auroc,fpr90"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("advbench report: error: --metrics auroc,fpr90: unknown metric(s): fpr90; valid: auroc,")
    assert _snapshot(out) == before


#: Small published folders, one of each layout: attacks as columns, normal classes as rows.
PUBLISHED = ("gtsrb-stop/experiments/dcae-20-epochs", "mnist-oneclass/protocol-2-iforest-pca")


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_folders_keep_their_bytes_and_render_every_metric(name, tmp_path, capsys):
    published = REPO / "reports" / name
    copy = Path(shutil.copytree(published, tmp_path / "copy"))
    assert main(["report", str(copy), "--ci"]) == 0
    rendered = _snapshot(copy)
    for path, content in _snapshot(published).items():
        assert rendered[path] == content, path
    assert main(["report", str(copy), "--ci", "--metrics", "all"]) == 0
    entries = json.loads((copy / "entries.json").read_text(encoding="utf-8"))
    for stem in detection.STEMS.values():
        assert (copy / f"{stem}.md").is_file() and (copy / f"{stem}.tex").is_file()
    for entry in entries["entries"]:
        for name in detection_metrics.NAMES[1:]:
            assert all(cell["low"] is not None for cell in entry["metrics"][name].values())
    capsys.readouterr()
