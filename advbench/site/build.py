"""``advbench site REPORTS_DIR --out DIR``: a static results site from the run folders under REPORTS_DIR.

A run folder is a folder that holds ``results.jsonl``; ``advbench report`` has written its
leaderboard entries (``entries.json``, ``advbench.reports.entries``) beside its tables. The site
has:

- ``index.html``: every run folder (benchmark, protocol, profile, seeds, data sha256, date) and
  the leaderboards;
- ``folders/<path>/index.html`` for each folder at its path under REPORTS_DIR: its tables of the
  three AUCs and of each detection metric its entries hold (``advbench report --metrics``) built
  from the entries (sortable by any column, ``mean [low, high]``), its figures,
  its provenance (each run of ``run.json``: command line, status, times, versions, data sha256)
  and links to its Markdown and LaTeX files, which are copied beside the page with its figures;
- ``adaptive/<path>/index.html`` for each ``evaluate-adaptive`` folder (``adaptive.py``): its
  verdicts, cells, checks and transfer, a flagged cell marked as such, listed on the index too;
- ``leaderboards/<benchmark>--<column>.html``: every detector of every folder that has the
  column (an attack set, a normal class or ``mean``), grouped by setting (data file sha256,
  protocol, profile): rows of different groups are not comparable, and the page says so. A column
  per metric that any of its folders holds, each sortable; a folder rendered without a detection
  metric shows "not rendered" there.

Pages use relative links and no script or style from outside the site (``static/sort.js``,
``static/style.css``, shipped in the package), so the site works from ``file://`` and from any
static host. A run folder without ``entries.json`` (not rendered since entries existed) is listed
on the index as waiting for ``advbench report`` and left out of the pages. Every input is read and
checked before anything is written (``entries.json``: its schema, and every mean, std and interval
bound a finite number or null), and the site is built in a temporary folder beside ``--out`` that
replaces it at the end: bad input (no rendered run folder, a damaged ``run.json`` or
``entries.json``) leaves ``--out`` as it was.

The site carries the marker file ``MARKER`` (JSON: the command and the advbench version). An
existing ``--out`` is replaced only when it is empty or carries that marker; ``--out`` naming a
file, a folder with other content, REPORTS_DIR itself, a folder inside it or one above it is
refused before anything is read (``advbench.outputs``). Names of folders and files shown on the
pages must be valid UTF-8: a run folder, figure or document whose name is not is refused with its
path (undecodable bytes written as ``\\xNN``), since a page could not name or link it; text of
``run.json`` that UTF-8 cannot encode (a command line naming such a path) is shown escaped (``\\uXXXX``).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from advbench import outputs
from advbench.errors import AdvbenchError, DataError
from advbench.reports import entries as entries_file
from advbench.runs import detection_metrics, history, results
from advbench.site.adaptive import find_evaluations

#: The three AUCs, which every rendered folder has (a protocol may lack the paired and matched ones).
AUCS = {"auc": "AUC (%)", "paired_auc": "Paired AUC (%)", "matched_auc": "Matched AUC (%)"}
#: The detection metrics, which a folder has when ``advbench report --metrics`` chose them (AUROC is ``auc``).
DETECTION = {name: f"{detection_metrics.LABELS[name]} (%)" for name in detection_metrics.NAMES if name != "auroc"}
#: The tables of a folder page: metric key of ``entries.json`` and title.
METRICS = AUCS | DETECTION
STATIC = ("sort.js", "style.css")
#: The marker file of a site built by ``advbench site``: an existing ``--out`` without it is not replaced.
MARKER = ".advbench-site"
COMMAND = "advbench site"
#: The numbers of an ``entries.json`` cell that must be finite or null.
NUMBERS = ("mean", "std", "low", "high")


@dataclass
class Folder:
    """One run folder as the site shows it."""

    path: Path
    name: str  # its path under REPORTS_DIR, with "/"
    data: dict  # entries.json
    runs: list[dict]
    documents: list[str] = field(default_factory=list)  # .md / .tex files of the folder itself
    figures: list[str] = field(default_factory=list)  # figures/*.png

    @property
    def settings(self) -> tuple[str, str, str]:
        folder = self.data["folder"]
        return folder["data_sha256"], folder["protocol"], folder["profile"]


def _read_entries(path: Path) -> dict:
    file = path / entries_file.FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != entries_file.SCHEMA or "entries" not in data:
        raise DataError(f"{file}: not an entries file of schema {entries_file.SCHEMA}; run `advbench report` again")
    _check_numbers(file, data)
    return data


def _check_numbers(file: Path, data: dict) -> None:
    """DataError naming ``file`` unless every cell's mean, std and interval bounds are finite numbers or null."""
    try:
        cells = [
            (entry.get("detector"), metric, column, {key: (cell or {}).get(key) for key in NUMBERS})
            for entry in data["entries"]
            for metric, table in entry.get("metrics", {}).items()
            for column, cell in table.items()
        ]
    except (AttributeError, TypeError):
        raise DataError(f"{file}: damaged entries.json (entries not as `advbench report` writes them)") from None
    for detector, metric, column, values in cells:
        for key, value in values.items():
            finite = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if value is not None and not finite:
                raise DataError(
                    f"{file}: damaged entries.json ({detector} {metric} {column}: {key} is {value!r}, "
                    "not a finite number or null); run `advbench report` again"
                )


def _shown(path: Path) -> str:
    """``path`` as a message shows it: bytes that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _checked_name(path: Path, name: str) -> str:
    """``name`` (a name of ``path`` that a page shows), DataError naming ``path`` when it is not valid UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(f"{_shown(path)}: its name is not valid UTF-8, so no page can show it; rename it") from None
    return name


def _name(reports: Path, path: Path) -> str:
    name = path.relative_to(reports).as_posix()
    return _checked_name(path, name if name != "." else reports.resolve().name)


def _names(paths) -> list[str]:
    """The names of ``paths``, sorted, each checked by ``_checked_name``."""
    return sorted(_checked_name(path, path.name) for path in paths)


def find_folders(reports: Path) -> tuple[list[Folder], list[str]]:
    """Every rendered run folder under ``reports``, read and checked (AdvbenchError on bad input),
    and the names of the run folders without ``entries.json``."""
    if not reports.is_dir():
        raise AdvbenchError(f"{reports}: not a folder")
    paths = sorted(p.parent for p in reports.rglob(results.RESULTS))
    if not paths:
        raise AdvbenchError(f"{reports}: no run folder ({results.RESULTS}) under it")
    pending = [_name(reports, path) for path in paths if not (path / entries_file.FILE).is_file()]
    if len(pending) == len(paths):
        raise DataError(f"{reports}: no run folder has {entries_file.FILE} (run `advbench report DIR` on each)")
    found = []
    for path in paths:
        if _name(reports, path) in pending:
            continue
        runs = history.read_runs(path)
        found.append(
            Folder(
                path=path,
                name=_name(reports, path),
                data=_read_entries(path),
                runs=runs,
                documents=_names(p for p in path.iterdir() if p.suffix in (".md", ".tex") and p.is_file()),
                figures=_names((path / "figures").glob("*.png")),
            )
        )
    return found, pending


def _cell(cell: dict | None) -> dict:
    """A table cell for the templates: its text, sort value and bold mark."""
    if cell is None or cell["mean"] is None:
        text = "not run" if cell is None or not cell["failed"] else f"failed ({cell['failed']}/{cell['expected']})"
        return {"text": text, "value": "", "bold": False}
    text = f"{100 * cell['mean']:.1f}"
    if cell["low"] is not None:
        text += f" [{100 * cell['low']:.1f}, {100 * cell['high']:.1f}]"
    elif cell["std"] is not None:
        text += f" ± {100 * cell['std']:.1f}"
    if cell["seeds"] < cell["expected"]:
        text += f" ({cell['seeds']}/{cell['expected']} seeds)"
    return {"text": text, "value": f"{cell['mean']:.6f}", "bold": cell["bold"]}


def folder_tables(folder: Folder) -> list[dict]:
    """The folder page's tables: one per metric of its entries, rows detectors, columns its columns."""
    data = folder.data
    out = []
    for metric, title in METRICS.items():
        columns = data["columns"].get(metric)
        if not columns:
            continue
        rows = [
            {"detector": entry["detector"], "cells": [_cell(entry["metrics"][metric].get(c)) for c in columns]}
            for entry in data["entries"]
        ]
        out.append(
            {
                "metric": metric,
                "id": table_id(metric),
                "title": title,
                "columns": [data["labels"].get(c, c) for c in columns],
                "rows": rows,
                "note": _note(metric),
            }
        )
    return out


def _note(metric: str) -> str:
    """What a detection metric's table says under it: the convention, and which way is better."""
    if metric not in DETECTION:
        return ""
    better = "lower" if metric in detection_metrics.LOWER_IS_BETTER else "higher"
    return f"{detection_metrics.CONVENTION} A {better} value is better."


def table_id(metric: str) -> str:
    """The HTML id of a metric's table: ``table-`` and the metric, characters other than letters,
    digits, ``-`` and ``_`` as ``-`` (``tpr@0.2%``: ``table-tpr-0-2``)."""
    return "table-" + re.sub(r"[^A-Za-z0-9_-]+", "-", metric).strip("-")


#: A leaderboard cell of a metric the folder's protocol does not define for the column (the paired
#: and matched AUCs of a set not made from clean images: ``other-classes``, ``clean-test``).
NOT_APPLICABLE = {"text": "not applicable", "value": "", "bold": False}


#: A leaderboard cell of a detection metric that its folder was rendered without.
NOT_RENDERED = {"text": "not rendered", "value": "", "bold": False}


def _board_cell(data: dict, entry: dict, metric: str, column: str) -> dict:
    if metric in DETECTION and metric not in data["columns"]:
        return dict(NOT_RENDERED)
    if column not in data["columns"].get(metric, []):
        return dict(NOT_APPLICABLE)
    return _cell(entry["metrics"].get(metric, {}).get(column))


def leaderboards(folders: list[Folder]) -> dict[tuple[str, str], dict]:
    """``{(benchmark, column): board}``: per column of the unpaired AUC, every folder's detectors,
    grouped by setting (data sha256, protocol, profile), with the metrics (``metrics``) that any of its
    folders holds. A folder's bold marks come from tests among its own detectors; a group that merges
    several folders shows none, so that bold means one thing across each table (``merged`` lists the
    groups that do)."""
    boards: dict[tuple[str, str], dict] = {}
    for folder in folders:
        data = folder.data
        benchmark = data["folder"]["benchmark"]
        for column in data["columns"].get("auc", []):
            board = boards.setdefault(
                (benchmark, column),
                {
                    "benchmark": data["folder"]["benchmark_label"],
                    "label": data["labels"].get(column, column),
                    "groups": {},
                    "merged": set(),
                    "metrics": set(AUCS),
                },
            )
            board["metrics"] |= set(DETECTION) & set(data["columns"])
            rows = board["groups"].setdefault(folder.settings, [])
            for entry in data["entries"]:
                cells = {m: _board_cell(data, entry, m, column) for m in METRICS}
                rows.append({"detector": entry["detector"], "folder": folder, "cells": cells})
    for board in boards.values():
        board["metrics"] = {m: title for m, title in METRICS.items() if m in board["metrics"]}  # their order
        for settings, rows in board["groups"].items():
            rows.sort(key=lambda row: -float(row["cells"]["auc"]["value"] or "-1"))
            if len({row["folder"].name for row in rows}) > 1:
                board["merged"].add(settings)
                for row in rows:
                    row["cells"] = {metric: {**cell, "bold": False} for metric, cell in row["cells"].items()}
    return boards


def board_file(benchmark: str, column: str) -> str:
    """The leaderboard page's file name (a column name may hold ``@``, ``=``, ``/`` and ``,``)."""
    safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in column)
    return f"{benchmark}--{safe}.html"


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("advbench.site", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = lambda sha: (sha or "")[:12]
    env.filters["attack_label"] = lambda column, labels: labels.get(column, column)
    return env


def check_out(reports: Path, out: Path) -> None:
    """AdvbenchError unless ``out`` may be written: apart from ``reports``, and new, empty or an earlier site."""
    outputs.check_apart("--out", out, {"REPORTS_DIR": reports})
    outputs.check_folder_out("--out", out, MARKER, COMMAND)


def build(reports: str | Path, out: str | Path) -> Path:
    """Build the site (see the module docstring) into ``out``; return ``out/index.html``."""
    reports, out = Path(reports), Path(out)
    check_out(reports, out)
    folders, pending = find_folders(reports)
    for name in pending:
        print(
            f"advbench site: {reports / name}: no {entries_file.FILE}; left out (run `advbench report`)",
            file=sys.stderr,
        )
    boards = leaderboards(folders)
    evaluations = find_evaluations(reports, lambda path: _name(reports, path))
    env = _environment()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        _write_site(staging, env, Pages(folders, boards, pending, evaluations))
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            out.rename(old / out.name)
            staging.rename(out)
            shutil.rmtree(old)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out / "index.html"


@dataclass(frozen=True)
class Pages:
    """What the site shows: the rendered run folders, the leaderboards, the run folders left out, and
    the ``evaluate-adaptive`` folders (``adaptive.py``)."""

    folders: list[Folder]
    boards: dict
    pending: list[str]
    evaluations: list


def _write_site(root: Path, env, pages: Pages) -> None:
    folders, boards, pending = pages.folders, pages.boards, pages.pending
    outputs.write_marker(root, MARKER, COMMAND)
    static = root / "static"
    static.mkdir()
    for name in STATIC:
        (static / name).write_bytes(resources.files("advbench.site").joinpath("static", name).read_bytes())
    board_links = [
        {"benchmark": board["benchmark"], "label": board["label"], "file": f"leaderboards/{board_file(b, c)}"}
        for (b, c), board in boards.items()
    ]
    _render(
        env,
        "index.html",
        root / "index.html",
        root="",
        folders=folders,
        boards=board_links,
        pending=pending,
        evaluations=pages.evaluations,
    )
    for evaluation in pages.evaluations:
        page = root / "adaptive" / evaluation.name
        page.mkdir(parents=True)
        depth = "../" * (len(Path(evaluation.name).parts) + 1)
        _render(env, "adaptive.html", page / "index.html", root=depth, evaluation=evaluation)
    for folder in folders:
        page = root / "folders" / folder.name
        (page / "figures").mkdir(parents=True, exist_ok=True)
        for name in folder.documents:
            shutil.copyfile(folder.path / name, page / name)
        for name in folder.figures:
            shutil.copyfile(folder.path / "figures" / name, page / "figures" / name)
        depth = "../" * (len(Path(folder.name).parts) + 1)
        _render(env, "folder.html", page / "index.html", root=depth, folder=folder, tables=folder_tables(folder))
    (root / "leaderboards").mkdir()
    for (benchmark, column), board in boards.items():
        _render(env, "leaderboard.html", root / "leaderboards" / board_file(benchmark, column), root="../", board=board)


def _render(env, template: str, path: Path, **context) -> None:
    """Write the page; text read from ``run.json`` that UTF-8 cannot encode (a command line naming a path
    of bytes not UTF-8) is escaped as ``\\uXXXX``."""
    page = env.get_template(template).render(**context)
    path.write_text(page, encoding="utf-8", errors="backslashreplace")
