"""``advbench report`` on a damaged ``results.jsonl`` drops nothing and prints no wrong number: a line
cut short, a line that is not a results line, an AUC that is not a number in [0, 1] or an incomplete
pair is a one-line error naming the file and line, and the tables written before are left as they
were; a cell whose mean is not a number is never bold."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from run_fixtures import classic_run

from advbench.cli import main
from advbench.reports import significance, tables


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> tuple[Path, Path]:
    """Two classic detectors, two seeds, rendered by the run (seconds)."""
    return classic_run(tmp_path_factory.mktemp("runs"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(run_folder, tmp_path, capsys, damage) -> str:
    """Copy the run folder, ``damage(lines) -> bytes`` its results file, and check that ``report``
    refuses it with one line and writes nothing; return the message."""
    data, out = run_folder
    copy = Path(shutil.copytree(out, tmp_path / "copy"))
    path = copy / "results.jsonl"
    path.write_bytes(damage(path.read_bytes().splitlines(keepends=True)))
    before = _snapshot(copy)
    capsys.readouterr()
    assert main(["report", str(copy), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"advbench report: error: {path}:"), err
    assert _snapshot(copy) == before
    return err


def _with(line: bytes, **changes) -> bytes:
    record = json.loads(line)
    record.update(changes)
    return (json.dumps({key: value for key, value in record.items() if value is not ...}) + "\n").encode()


def test_a_last_line_cut_short_is_refused_not_dropped(run_folder, tmp_path, capsys):
    err = _refused(run_folder, tmp_path, capsys, lambda lines: b"".join(lines)[:-200])
    count = len((run_folder[1] / "results.jsonl").read_bytes().splitlines())
    assert f"results.jsonl:{count}: the last line is cut short" in err and "`advbench run`" in err


@pytest.mark.parametrize(
    ("number", "damage", "message"),
    [
        (6, lambda line: line[:100] + b"\n", "not a JSON line; the results file is damaged: restore it, or delete"),
        (4, lambda line: line.replace(b'"attack": "', b'"attack": "\xff'), "not a JSON line"),
        (3, lambda line: b"[1, 2]\n", "not a results line (a JSON list, not an object)"),
        (3, lambda line: _with(line, detector=...), "not a results line (detector is None, not a string)"),
        (5, lambda line: _with(line, seed="0"), "not a results line (seed is '0', not an integer)"),
        (2, lambda line: _with(line, auc=None), "has neither an auc nor an error"),
    ],
)
def test_a_damaged_line_is_named_with_its_number(run_folder, tmp_path, capsys, number, damage, message):
    def damaged(lines):
        lines[number - 1] = damage(lines[number - 1])
        return b"".join(lines)

    err = _refused(run_folder, tmp_path, capsys, damaged)
    assert f"results.jsonl:{number}: " in err and message in err, err


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1.5, -0.25, "0.9", True])
@pytest.mark.parametrize("metric", ["auc", "paired_auc", "matched_auc"])
def test_an_auc_that_is_not_a_fraction_is_refused(run_folder, tmp_path, capsys, metric, value):
    def damaged(lines):
        lines[1] = _with(lines[1], **{metric: value})
        return b"".join(lines)

    err = _refused(run_folder, tmp_path, capsys, damaged)
    record = json.loads((run_folder[1] / "results.jsonl").read_bytes().splitlines()[1])
    name = f"{record['detector']}, seed {record['seed']}, {record['attack']}"
    assert f"results.jsonl:2: {metric} {value!r} of {name} is not a number in [0, 1]" in err, err


@pytest.mark.parametrize(
    ("damage", "gap"),
    [(lambda lines: lines[:5] + lines[6:], "no line for {}"), (lambda lines: lines[:6] + lines[5:], "2 lines for {}")],
)
def test_an_incomplete_pair_is_refused_not_shrunk(run_folder, tmp_path, capsys, damage, gap):
    """A line lost (or doubled) in the middle: the pair is neither shown in part nor left out."""
    records = [json.loads(line) for line in (run_folder[1] / "results.jsonl").read_bytes().splitlines()]
    detector, seed, attack = records[5]["detector"], records[5]["seed"], records[5]["attack"]
    first = 1 + [(r["detector"], r["seed"]) for r in records].index((detector, seed))
    err = _refused(run_folder, tmp_path, capsys, lambda lines: b"".join(damage(lines)))
    expected = f"results.jsonl:{first}: the pair {detector}, seed {seed} is incomplete ({detector} has {gap})"
    assert expected.format(attack) in err and "`advbench run`" in err, err


def test_a_cell_whose_mean_is_not_a_number_is_never_bold():
    rng = np.random.default_rng(0)
    odd, good, low = (tables.Cell(values, expected=2) for values in ([float("nan"), 0.4], [0.988, 0.987], [0.4, 0.43]))
    column = {  # the cell that is not a number first, as it was bold when first
        "odd": (odd, rng.random(100)),
        "good": (good, 0.98 + 0.01 * rng.random(100)),
        "low": (low, 0.4 + 0.05 * rng.random(100)),
    }
    significance.annotate({"x": column})
    assert (odd.bold, good.bold, low.bold) == (False, True, False)
    cells = {("odd", "x"): tables.Cell([float("nan")], expected=1), ("good", "x"): tables.Cell([0.418], expected=1)}
    frame = tables.auc_frame(cells, ["odd", "good"], ["x"], latex=False)
    assert frame["x"].tolist() == ["nan", "**41.8**"]
    assert not any(re.search(r"\*\*nan", text) for text in frame["x"])


@pytest.mark.parametrize("seed", range(3))
def test_no_choice_of_folder_changes_a_byte_it_did_not_write(run_folder, tmp_path, capsys, seed):
    """``report DIR`` for random choices of DIR among a run folder, its parent, its children, an unrelated
    non-empty folder and a file: only a run folder is rendered, and only its own outputs change."""
    data, out = run_folder
    root = tmp_path / "root"
    copy = Path(shutil.copytree(out, root / "run"))
    (root / "notes").mkdir()
    (root / "notes" / "auc_table.md").write_text("mine")
    (root / "file.txt").write_text("mine")
    candidates = [copy, root, copy / "scores", copy / "figures", root / "notes", root / "file.txt", root / "new"]
    inputs = ("results.jsonl", "run.json", "pairing.json", "scores/")
    rng = np.random.default_rng(seed)
    for index in rng.choice(len(candidates), size=4, replace=False):
        folder = candidates[index]
        before = _snapshot(root)
        code = main(["report", str(folder), "--data", str(data)])
        capsys.readouterr()
        after = _snapshot(root)
        if folder == copy:
            assert code == 0
            kept = {name: value for name, value in before.items() if name.startswith(tuple(f"run/{i}" for i in inputs))}
            assert {name: after[name] for name in kept} == kept
            outside = {name: value for name, value in before.items() if not name.startswith("run/")}
            assert {name: value for name, value in after.items() if not name.startswith("run/")} == outside
        else:
            assert code == 2 and after == before
