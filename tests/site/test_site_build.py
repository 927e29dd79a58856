"""``advbench site``: the pages of a real (small) run folder, links that resolve inside the site and
nothing from the network, leaderboards that group incomparable settings, bad input refused with
one line and exit 2 leaving ``--out`` as it was, and the templates shipped in the wheel."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from paths import REPO
from run_fixtures import rendered_reports

from advbench.cli import main
from advbench.site import build

LINK = re.compile(r'(?:href|src)="([^"]+)"')


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """A reports folder with one rendered run folder and a copy of it under another protocol."""
    reports = rendered_reports(tmp_path_factory.mktemp("site"))
    other = shutil.copytree(reports / "stop", reports / "stop" / "heldout")
    entries = json.loads((other / "entries.json").read_text(encoding="utf-8"))
    entries["folder"]["protocol"] = "heldout-train"
    (other / "entries.json").write_text(json.dumps(entries), encoding="utf-8")
    return reports


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_site_pages_link_only_inside_the_site(reports, tmp_path):
    site = tmp_path / "site"
    assert main(["site", str(reports), "--out", str(site)]) == 0
    page = site / "folders" / "stop" / "index.html"
    text = page.read_text(encoding="utf-8")
    assert 'id="table-auc"' in text and 'id="table-paired_auc"' in text and "ocsvm" in text
    assert re.search(r"\d+\.\d \[\d+\.\d, \d+\.\d\]", text)
    run = json.loads((reports / "stop" / "run.json").read_text(encoding="utf-8"))["runs"][0]
    assert " ".join(run["command_line"]) in text and run["data_sha256"] in text  # provenance from run.json
    assert '<a href="auc_table.md">' in text and '<a href="auc_table.tex">' in text
    figures = sorted(p.name for p in (reports / "stop" / "figures").glob("*.png"))
    assert figures and sorted(p.name for p in (page.parent / "figures").iterdir()) == figures
    for html in site.rglob("*.html"):
        for target in LINK.findall(html.read_text(encoding="utf-8")):
            assert not re.match(r"[a-z]+:", target), f"{html}: {target} leaves the site"
            assert (html.parent / target).resolve().is_file(), f"{html}: {target} is missing"
    for path in site.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            assert not re.search(r"https?://", path.read_text(encoding="utf-8")), path


def test_a_folder_not_rendered_yet_is_listed_and_left_out(reports, tmp_path, capsys):
    partial = Path(shutil.copytree(reports, tmp_path / "partial"))
    (partial / "stop" / "heldout" / "entries.json").unlink()
    index = build.build(partial, tmp_path / "site")
    assert "stop/heldout: no entries.json; left out" in capsys.readouterr().err
    text = index.read_text(encoding="utf-8")
    assert "left out (run <code>advbench report</code> on each):\nstop/heldout." in text
    assert not (index.parent / "folders" / "stop" / "heldout").exists()


def test_leaderboard_groups_settings_and_says_so(reports, tmp_path):
    build.build(reports, tmp_path / "site")
    board = (tmp_path / "site" / "leaderboards" / "gtsrb--fgsm.html").read_text(encoding="utf-8")
    assert "not comparable" in board
    assert board.count("<table") == 2 and "protocol official" in board and "protocol heldout-train" in board
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="folders/stop/index.html"' in index and 'href="folders/stop/heldout/index.html"' in index


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_bad_input_is_one_line_exit_2_and_out_untouched(reports, tmp_path, capsys):
    site = tmp_path / "site"
    assert main(["site", str(reports), "--out", str(site)]) == 0
    before = _snapshot(site)
    capsys.readouterr()

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["site", str(empty), "--out", str(site)]) == 2
    assert "no run folder (results.jsonl) under it" in _one_line(capsys)

    damaged = Path(shutil.copytree(reports, tmp_path / "damaged"))
    (damaged / "stop" / "heldout" / "run.json").write_text('{"runs": [', encoding="utf-8")
    assert main(["site", str(damaged), "--out", str(site)]) == 2
    assert f"{damaged / 'stop' / 'heldout' / 'run.json'}: not valid JSON" in _one_line(capsys)

    (damaged / "stop" / "heldout" / "run.json").unlink()
    (damaged / "stop" / "heldout" / "entries.json").unlink()
    (damaged / "stop" / "entries.json").unlink()
    assert main(["site", str(damaged), "--out", str(site)]) == 2
    assert "no run folder has entries.json (run `advbench report DIR` on each)" in _one_line(capsys)

    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    assert main(["site", str(reports), "--out", str(a_file)]) == 2
    assert f"--out {a_file}: is a file, not a folder" in _one_line(capsys)
    assert a_file.read_text(encoding="utf-8") == "x"

    assert _snapshot(site) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary folder left


def test_templates_and_script_are_in_the_wheel(tmp_path):
    shipped = {
        f"advbench/site/{p.relative_to(REPO / 'advbench' / 'site').as_posix()}"
        for folder in ("templates", "static")
        for p in (REPO / "advbench" / "site" / folder).iterdir()
    }
    source = Path(shutil.copytree(REPO, tmp_path / "src", ignore=shutil.ignore_patterns("reports", ".*", "datasets")))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            ".",
        ],
        cwd=source,
        check=True,
    )
    (wheel,) = tmp_path.glob("advbench-*.whl")
    assert shipped <= set(zipfile.ZipFile(wheel).namelist())


def test_bold_means_one_thing_in_a_table_that_merges_folders(reports, tmp_path):
    merged = Path(shutil.copytree(reports, tmp_path / "merged"))
    shutil.copytree(merged / "stop", merged / "stop-again", ignore=shutil.ignore_patterns("heldout"))
    build.build(merged, tmp_path / "site")
    board = (tmp_path / "site" / "leaderboards" / "gtsrb--fgsm.html").read_text(encoding="utf-8")
    groups = {section.split("</h2>")[0]: section for section in board.split("<h2>")[1:]}
    (official,) = [section for heading, section in groups.items() if "protocol official" in heading]
    (heldout,) = [section for heading, section in groups.items() if "protocol heldout-train" in heading]
    assert "stop-again" in official and "Rows of several folders: no bold." in official
    assert 'class="bold"' not in official  # two folders: their own tests say nothing across them
    assert 'class="bold"' in heldout and "Rows of several folders" not in heldout  # one folder: its own bold


def test_a_metric_the_protocol_does_not_define_is_not_applicable(tmp_path):
    reports = tmp_path / "reports"
    shutil.copytree(REPO / "reports" / "mnist-oneclass" / "protocol-2", reports / "p2")
    build.build(reports, tmp_path / "site")
    board = (tmp_path / "site" / "leaderboards" / "mnist--0.html").read_text(encoding="utf-8")
    assert "not applicable" in board and "not run" not in board


def _evaluation(folder: Path, cells: list[dict]) -> Path:
    """An ``evaluate-adaptive`` folder holding ``cells``."""
    from advbench.runs.adaptive_layout import CELLS, MARKER

    folder.mkdir(parents=True)
    (folder / MARKER).write_text("{}", encoding="utf-8")
    (folder / CELLS).write_text("".join(json.dumps(cell) + "\n" for cell in cells), encoding="utf-8")
    (folder / "run.json").write_text(json.dumps({"command": "advbench evaluate-adaptive x.h5"}), encoding="utf-8")
    return folder


def test_an_adaptive_evaluation_has_its_page_and_a_flagged_cell_shows_its_flag(reports, tmp_path, capsys):
    sys.path.insert(0, str(REPO / "tests" / "reports"))
    from test_adaptive_verdicts import _cell

    copy = Path(shutil.copytree(reports, tmp_path / "reports"))
    cells = [_cell("victim-mahalanobis", 0, 0.237), _cell("feature-squeezing", 0, 0.9, ("unbounded",))]
    _evaluation(copy / "stop" / "strongest", cells)
    site = tmp_path / "site"
    assert main(["site", str(copy), "--out", str(site)]) == 0
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<a href="adaptive/stop/strongest/index.html">stop/strongest</a>' in index
    assert '<td data-value="1" class="flagged">1</td>' in index  # one flagged cell of two
    page = (site / "adaptive" / "stop" / "strongest" / "index.html").read_text(encoding="utf-8")
    assert "<td>falls</td>" in page and "<td>unknown</td>" in page  # the verdicts
    assert "advbench evaluate-adaptive x.h5" in page  # provenance
    rows = re.findall(r"<tr><td>feature-squeezing</td>.*?</tr>", page)
    figures = [re.findall(r"<td( class=\"flagged\")?>([^<]*)</td>", row) for row in rows[:2]]  # summary, cell rows
    for row in figures:
        marked = [text for flag, text in row if flag]
        assert marked and all("flagged" in text for text in marked)  # never a plain number
    assert "**" not in page
    for target in LINK.findall(page):
        assert (site / "adaptive" / "stop" / "strongest" / target).resolve().is_file()

    (copy / "stop" / "strongest" / "cells.jsonl").write_text('{"detector": ', encoding="utf-8")
    before = _snapshot(site)
    capsys.readouterr()
    assert main(["site", str(copy), "--out", str(site)]) == 2
    assert f"{copy / 'stop' / 'strongest' / 'cells.jsonl'}: damaged evaluation" in _one_line(capsys)
    assert _snapshot(site) == before
