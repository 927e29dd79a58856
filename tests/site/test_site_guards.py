"""``advbench site`` destroys nothing it did not create: ``--out`` at, inside or above REPORTS_DIR
(also through a symbolic link or ``..``), a file, or a folder that is not an earlier site is one
line and exit 2 with every input byte unchanged; numbers of ``entries.json`` that are not finite
and names that are not UTF-8 are refused with the file or folder named."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
from run_fixtures import rendered_reports

from advbench.cli import main
from advbench.site import build


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """A reports folder with one rendered run folder (``stop``), kept as the template of each test's copy."""
    return rendered_reports(tmp_path_factory.mktemp("guards"))


@pytest.fixture
def work(rendered, tmp_path) -> Path:
    """``tmp_path/work`` holding ``reports`` (a copy of ``rendered``), an unrelated non-empty folder
    ``other`` and a file ``notes.txt``."""
    work = tmp_path / "work"
    shutil.copytree(rendered, work / "reports")
    (work / "other").mkdir()
    (work / "other" / "keep.txt").write_text("mine", encoding="utf-8")
    (work / "notes.txt").write_text("notes", encoding="utf-8")
    return work


def _snapshot(folder: Path, skip: Path | None = None) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), those under ``skip`` left out."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not (skip is not None and path.is_relative_to(skip))
    }


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _refused(capsys, work: Path, out: Path, message: str) -> None:
    before = _snapshot(work)
    assert main(["site", str(work / "reports"), "--out", str(out)]) == 2
    assert message in _one_line(capsys)
    assert _snapshot(work) == before


def test_out_at_inside_or_above_the_reports_is_refused(work, capsys):
    reports = work / "reports"
    _refused(capsys, work, reports, f"--out {reports}: is the input REPORTS_DIR {reports}")
    _refused(capsys, work, reports / "stop", f"--out {reports / 'stop'}: is inside the input REPORTS_DIR")
    _refused(capsys, work, reports / "new", f"--out {reports / 'new'}: is inside the input REPORTS_DIR")
    _refused(capsys, work, work, f"--out {work}: holds the input REPORTS_DIR {reports}")
    dotted = work / "other" / ".." / "reports"
    _refused(capsys, work, dotted, f"--out {dotted}: is the input REPORTS_DIR")
    link = work.parent / "link"
    link.symlink_to(reports, target_is_directory=True)
    _refused(capsys, work, link, f"--out {link}: is the input REPORTS_DIR")


def test_a_folder_that_is_not_an_earlier_site_is_not_replaced(work, capsys):
    other = work / "other"
    _refused(capsys, work, other, f"--out {other}: a folder that is not empty and not built by `advbench site`")
    marker = other / build.MARKER
    marker.write_text('{"command": "advbench report"}', encoding="utf-8")  # another command's marker
    _refused(capsys, work, other, "not built by `advbench site` (no .advbench-site in it)")


def test_an_empty_folder_or_an_earlier_site_is_replaced(work, capsys):
    empty = work.parent / "empty"
    empty.mkdir()
    assert main(["site", str(work / "reports"), "--out", str(empty)]) == 0
    marker = json.loads((empty / build.MARKER).read_text(encoding="utf-8"))
    assert marker["command"] == "advbench site" and marker["version"]
    (empty / "stale.html").write_text("old", encoding="utf-8")
    assert main(["site", str(work / "reports"), "--out", str(empty)]) == 0
    assert (empty / "index.html").is_file() and not (empty / "stale.html").exists()


def test_entries_with_a_number_that_is_not_finite_is_damaged(work, capsys):
    file = work / "reports" / "stop" / "entries.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    cell = next(iter(data["entries"][0]["metrics"]["auc"].values()))
    cell["mean"] = float("nan")
    file.write_text(json.dumps(data), encoding="utf-8")
    site = work.parent / "site"
    assert main(["site", str(work / "reports"), "--out", str(site)]) == 2
    err = _one_line(capsys)
    assert f"{file}: damaged entries.json (" in err and "mean is nan, not a finite number or null" in err
    assert not site.exists()


def test_a_folder_name_that_is_not_utf8_is_refused_with_its_path(work, capsys):
    reports = work / "reports"
    bad = reports / os.fsdecode(b"run-\xff")
    shutil.copytree(reports / "stop", bad)
    site = work.parent / "site"
    assert main(["site", str(reports), "--out", str(site)]) == 2
    err = _one_line(capsys)
    assert f"{reports}/run-\\xff: its name is not valid UTF-8" in err
    assert not site.exists()


def test_a_figure_name_that_is_not_utf8_is_refused_with_its_path(work, capsys):
    figures = work / "reports" / "stop" / "figures"
    shutil.copyfile(next(figures.glob("*.png")), figures / os.fsdecode(b"f\xe9.png"))
    assert main(["site", str(work / "reports"), "--out", str(work.parent / "site")]) == 2
    assert f"{figures}/f\\xe9.png: its name is not valid UTF-8" in _one_line(capsys)


def test_a_command_line_that_is_not_utf8_is_shown_escaped(work, capsys):
    file = work / "reports" / "stop" / "run.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    data["runs"][0]["command_line"].append(os.fsdecode(b"run-\xff"))  # as `advbench run --out` records it
    file.write_text(json.dumps(data), encoding="utf-8")
    site = work.parent / "site"
    assert main(["site", str(work / "reports"), "--out", str(site)]) == 0
    assert "run-\\udcff" in (site / "folders" / "stop" / "index.html").read_text(encoding="utf-8")


def _candidates(work: Path) -> dict[str, tuple[Path, bool]]:
    """Choices of ``--out`` among the inputs, their parents and children, an unrelated non-empty
    folder and a file: ``{label: (path, accepted)}``."""
    reports, run = work / "reports", work / "reports" / "stop"
    return {
        "reports": (reports, False),
        "run folder": (run, False),
        "child of the run folder": (run / "figures", False),
        "new child of reports": (reports / "site", False),
        "parent of reports": (work, False),
        "grandparent of reports": (work.parent, False),
        "reports through ..": (run / "..", False),
        "unrelated non-empty folder": (work / "other", False),
        "file": (work / "notes.txt", False),
        "under a file": (work / "notes.txt" / "site", False),
        "new folder beside": (work / "site", True),
        "new folder in the unrelated one": (work / "other" / "site", True),
    }


@pytest.mark.parametrize("seed", range(3))
def test_no_choice_of_out_changes_an_input_byte(work, capsys, seed):
    choices = _candidates(work)
    for label in random.Random(seed).sample(sorted(choices), k=6):
        out, accepted = choices[label]
        before = _snapshot(work, skip=out if accepted else None)
        code = main(["site", str(work / "reports"), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == (0 if accepted else 2), (label, err)
        assert "Traceback" not in err and (accepted or err.count("\n") == 1), (label, err)
        assert _snapshot(work, skip=out if accepted else None) == before, label
        if accepted:
            shutil.rmtree(out)
