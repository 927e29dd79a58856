"""Too few bootstrap resamples are refused: the minimum of a percentile interval and of a column's tests
comes from the level and the p-value formula the code uses, and ``advbench report`` names ``--resamples``,
the minimum and why, writing nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from run_fixtures import classic_run

from advbench.cli import main
from advbench.errors import AdvbenchError
from advbench.reports import significance
from advbench.runs import intervals


@pytest.mark.parametrize(("level", "fewest"), [(0.95, 39), (0.90, 19), (0.99, 199)])
def test_a_percentile_interval_needs_an_order_statistic_beyond_each_end(level, fewest):
    assert intervals.resamples_for_interval(level) == fewest  # (B + 1) (1 - level) / 2 >= 1


@pytest.mark.parametrize("comparisons", [1, 2, 3, 9, 29])
def test_the_fewest_resamples_for_a_test_are_the_first_that_can_reach_its_level(comparisons):
    """With B replicates that all favour the best, each comparison has the smallest p-value there is;
    Holm's correction over the column's comparisons must still bring it below ALPHA."""

    def significant(resamples: int) -> bool:
        best, other = np.ones(resamples), np.zeros(resamples)
        p = intervals.worse_p_value(best, other)
        return intervals.holm([p] * comparisons)[0] < intervals.ALPHA

    fewest = intervals.resamples_for_test(comparisons)
    assert significant(fewest) and not significant(fewest - 1)
    assert intervals.resamples_for_test(1) == 20  # 1 / (B + 1) < 0.05


def test_a_larger_column_needs_more_resamples():
    significance.check_resamples(intervals.Bootstrap(60), rows=4)
    with pytest.raises(AdvbenchError, match=r"^--resamples 59: too few, this folder needs at least 60: .* 4 rows 60"):
        significance.check_resamples(intervals.Bootstrap(59), rows=4)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> tuple[Path, Path]:
    """Two classic detectors, two seeds, rendered by the run (seconds)."""
    return classic_run(tmp_path_factory.mktemp("runs"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_report_refuses_too_few_resamples_writing_nothing_and_takes_the_fewest(run_folder, tmp_path, capsys):
    data, out = run_folder
    copy = Path(shutil.copytree(out, tmp_path / "copy"))
    before = _snapshot(copy)
    for resamples in (1, 10, 38):
        capsys.readouterr()
        assert main(["report", str(copy), "--data", str(data), "--ci", "--resamples", str(resamples)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        prefix = f"advbench report: error: --resamples {resamples}: too few, this folder needs at least 39: "
        assert err.startswith(prefix), err
        assert "95% percentile interval needs 39" in err and "column of 2 rows 20" in err and "below 0.05" in err
        assert _snapshot(copy) == before
    assert main(["report", str(copy), "--data", str(data), "--ci", "--resamples", "39"]) == 0
    assert "39 resamples, bootstrap seed 0" in (copy / "auc_table.md").read_text(encoding="utf-8")


def test_the_default_rises_to_what_a_folder_of_many_rows_needs(tmp_path, monkeypatch):
    """``advbench run`` renders with the default: a folder whose rows need more than it gets that many."""
    import json

    from advbench.reports import report

    _, out = classic_run(tmp_path)
    monkeypatch.setattr(significance, "fewest_resamples", lambda rows: intervals.RESAMPLES + 7)
    report.render(out)
    resamples = json.loads((out / "entries.json").read_text())["folder"]["bootstrap"]["resamples"]
    assert resamples == intervals.RESAMPLES + 7
