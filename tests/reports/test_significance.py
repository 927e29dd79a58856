"""Intervals and bold marks of the tables: bold follows the paired test with Holm's correction, a
detector that ignores the seed is resampled over images only, ``advbench report --ci`` shows
``mean [low, high]`` with a footnote naming the test, and scores that do not give the stored AUCs
stop the rendering before anything is written."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from run_fixtures import classic_run

from advbench.cli import main
from advbench.errors import DataError
from advbench.reports import significance, tables
from advbench.runs import intervals
from advbench.runs.metrics import roc_auc

INTERVAL = re.compile(r"^\*{0,2}\d+\.\d \[\d+\.\d, \d+\.\d\]\*{0,2}$")


def _folder(aucs_by_row: dict[str, dict[int, tuple]]) -> tuple[dict, list[dict]]:
    """FolderStats' inputs for one attack ``x``: ``{row: {seed: (normal_test, attack scores)}}``."""
    scores, records = {}, []
    for row, by_seed in aucs_by_row.items():
        for seed, (negatives, positives) in by_seed.items():
            scores.setdefault(row, {})[seed, None] = {"normal_test": negatives, "attacks": {"x": positives}}
            records.append(
                {"detector": row, "attack": "x", "seed": seed, "error": None, "auc": roc_auc(negatives, positives)}
            )
    return scores, records


def _column(scores, records, seeds, resamples=500):
    stats = significance.FolderStats(scores, records, seeds, intervals.Bootstrap(resamples, seed=0))
    stats.check()
    rows = list(scores)
    cells = tables.collect(records, rows, ["x"], seeds)
    significance.annotate_table(cells, rows, ["x"], lambda row, a: stats.replicates(row, [(a, None)], "auc"))
    return {row: cells[row, "x"] for row in rows}


def test_bold_marks_the_best_and_every_detector_not_significantly_worse():
    rng = np.random.default_rng(0)
    negatives, positives = rng.normal(size=150), rng.normal(1.0, 1.0, size=150)
    noise = rng.normal(0.0, 0.6, size=(2, 2, 150))  # two detectors that score the same images alike
    seeds = [0, 1, 2]
    by_row = {
        name: {s: (negatives + noise[k, 0] + 0.01 * s, positives + noise[k, 1]) for s in seeds}
        for k, name in enumerate(("a", "b"))
    }
    by_row["worse"] = {s: (negatives + noise[0, 0] + 0.01 * s, positives + noise[0, 1] - 0.6) for s in seeds}
    cells = _column(*_folder(by_row), seeds)
    best, close = sorted(("a", "b"), key=lambda row: -cells[row].mean)
    assert 0 < cells[best].mean - cells[close].mean < 0.03  # within a few points: no significant difference
    assert {row for row, cell in cells.items() if cell.bold} == {"a", "b"}
    assert cells[close].p_value >= 0.05 > cells["worse"].p_value
    assert cells[best].p_value is None
    for cell in cells.values():
        assert cell.interval[0] <= cell.mean <= cell.interval[1]
    frame = tables.auc_frame({(r, "x"): c for r, c in cells.items()}, list(cells), ["x"], latex=False, ci=True)
    assert all(INTERVAL.match(text) for text in frame["x"]), frame["x"].tolist()
    assert [text.startswith("**") for text in frame["x"]] == [True, True, False]


def test_a_column_of_one_detector_has_no_bold_mark():
    rng = np.random.default_rng(3)
    cells = _column(*_folder({"only": {0: (rng.normal(size=30), rng.normal(1.0, 1.0, 30))}}), [0])
    assert cells["only"].bold is False and cells["only"].interval is not None


def test_a_detector_that_ignores_the_seed_is_resampled_over_images_only():
    rng = np.random.default_rng(1)
    negatives, positives = rng.normal(size=80), rng.normal(0.5, 1.0, size=80)
    same = {"fixed": {s: (negatives, positives) for s in (0, 1, 2)}}
    one = {"fixed": {0: (negatives, positives)}}
    three_seeds = _column(*_folder(same), [0, 1, 2])["fixed"].interval
    one_seed = _column(*_folder(one), [0])["fixed"].interval
    assert three_seeds == one_seed
    varying = {"varying": {s: (negatives, positives + 0.3 * s) for s in (0, 1, 2)}}
    wide = _column(*_folder(varying), [0, 1, 2])["varying"].interval
    assert wide[1] - wide[0] > three_seeds[1] - three_seeds[0]


def test_scores_that_do_not_give_the_stored_auc_are_refused():
    rng = np.random.default_rng(2)
    scores, records = _folder({"a": {0: (rng.normal(size=20), rng.normal(size=20))}})
    records[0]["auc"] += 0.01
    stats = significance.FolderStats(scores, records, [0], intervals.Bootstrap(10))
    with pytest.raises(DataError, match="a, seed 0, x: its stored scores give auc"):
        stats.check()


# -- the command ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> tuple[Path, Path]:
    """Two classic detectors, two seeds, on the synthetic benchmark file (seconds)."""
    return classic_run(tmp_path_factory.mktemp("runs"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cells(markdown: str) -> list[str]:
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line][1:]
    return [cell.strip() for row in rows for cell in row.strip("|").split("|")[1:]]


def test_report_ci_shows_intervals_and_names_the_test(run_folder):
    data, out = run_folder
    assert main(["report", str(out), "--data", str(data), "--ci", "--resamples", "200"]) == 0
    for stem in ("auc_table", "paired_table", "matched_table"):
        text = (out / f"{stem}.md").read_text(encoding="utf-8")
        assert all(INTERVAL.match(cell) for cell in _cells(text)), text
        assert "paired two-level bootstrap test" in text and "Holm's correction" in text
        assert "200 resamples, bootstrap seed 0" in text
        assert re.search(r"\d+\.\d \[\d+\.\d, \d+\.\d\]", (out / f"{stem}.tex").read_text(encoding="utf-8"))
    found = json.loads((out / "entries.json").read_text(encoding="utf-8"))
    assert [entry["detector"] for entry in found["entries"]] == ["ocsvm", "iforest"]
    assert found["folder"]["bootstrap"]["resamples"] == 200 and found["folder"]["protocol"] == "official"
    for entry in found["entries"]:
        for metric in ("auc", "paired_auc", "matched_auc"):
            for cell in entry["metrics"][metric].values():
                assert cell["low"] <= cell["high"] and cell["seeds"] == 2
        assert all(c["low"] <= c["mean"] <= c["high"] for c in entry["metrics"]["auc"].values())
    first = _snapshot(out)
    assert main(["report", str(out), "--data", str(data), "--ci", "--resamples", "200"]) == 0
    assert _snapshot(out) == first  # the same seed gives the same bytes
    assert main(["report", str(out), "--data", str(data), "--resamples", "200", "--bootstrap-seed", "1"]) == 0
    default = (out / "auc_table.md").read_text(encoding="utf-8")
    assert "±" in default and "[low, high]" not in default and "Holm's correction" in default
    assert (out / "entries.json").read_bytes() != first["entries.json"]


def test_without_the_data_file_the_paired_tables_say_they_were_not_tested(run_folder, tmp_path, capsys):
    _, out = run_folder
    copy = Path(shutil.copytree(out, tmp_path / "copy"))
    (copy / "pairing.json").unlink()  # a folder written before runs recorded their pairing
    assert main(["report", str(copy), "--data", str(tmp_path / "absent.h5"), "--ci", "--resamples", "50"]) == 0
    paired = (copy / "paired_table.md").read_text(encoding="utf-8")
    assert "Boundary, FGSM, BIM, DeepFool: no interval nor test, the best mean in bold" in paired and "--data" in paired
    assert "[" not in "".join(_cells(paired))
    assert all(INTERVAL.match(cell) for cell in _cells((copy / "auc_table.md").read_text(encoding="utf-8")))
    assert "not found" in capsys.readouterr().err
    found = json.loads((copy / "entries.json").read_text(encoding="utf-8"))["folder"]["bootstrap"]["untested"]
    assert found == {
        "auc": [],
        "paired_auc": ["boundary", "fgsm", "bim", "deepfool"],
        "matched_auc": found["paired_auc"],
    }


def test_pairing_is_derived_only_where_an_attack_kept_every_source_and_is_checked(run_folder):
    from advbench.reports.report import load_scores, source_indices
    from advbench.runs.results import read_results

    sets = {
        "a": {"count": 30, "attempted": 30},
        "b": {"count": 20, "attempted": 30},
        "c": {"count": 20, "attempted": 20},
    }
    _, out = run_folder
    records = read_results(out)
    scores = load_scores(out, records)  # 30 clean test images, the attacks' sources
    derived = source_indices(None, {}, sets, scores)
    assert list(derived) == ["a"] and derived["a"].tolist() == list(range(30))
    # the synthetic attacks come from randomly drawn sources: a pairing in order does not give their AUCs
    wrong = significance.FolderStats(scores, records, [0, 1], intervals.Bootstrap(10), {"fgsm": np.arange(20)})
    with pytest.raises(DataError, match="fgsm: its stored scores give paired_auc"):
        wrong.check()


def test_report_refuses_scores_that_do_not_match_and_writes_nothing(run_folder, tmp_path, capsys):
    data, out = run_folder
    copy = Path(shutil.copytree(out, tmp_path / "copy"))
    lines = (copy / "results.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["auc"] = record["auc"] / 2
    (copy / "results.jsonl").write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n", encoding="utf-8")
    before = _snapshot(copy)
    assert main(["report", str(copy), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "do not belong to the results" in err
    assert _snapshot(copy) == before


def test_bad_bootstrap_flags(run_folder, capsys):
    _, out = run_folder
    with pytest.raises(SystemExit) as stopped:
        main(["report", str(out), "--resamples", "0"])
    assert stopped.value.code == 2 and "must be at least 1" in capsys.readouterr().err
    assert main(["report", str(out), "--bootstrap-seed", "-1"]) == 2
    assert "--bootstrap-seed -1: must be 0 or more" in capsys.readouterr().err
