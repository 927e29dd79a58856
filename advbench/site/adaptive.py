"""The site's pages of the ``evaluate-adaptive`` folders under REPORTS_DIR.

An evaluation folder is one that carries ``evaluate-adaptive``'s marker and its ``cells.jsonl``.
Its page (``adaptive/<path>/index.html``) shows the tables of its ``verdicts.md``, built from the
same rows (``reports.adaptive_verdicts.sections``): the summary with each detector's verdict,
every cell, each attack alone, the checks and the transfer table, and the provenance of its
``run.json``. A figure of a flagged cell carries its flag in its text and is marked ``flagged`` on
the page: a flagged cell is never shown as a plain number. The index lists every evaluation with
its flagged cells counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from advbench.errors import DataError
from advbench.reports.adaptive_verdicts import read_cells, sections
from advbench.runs.adaptive_layout import CELLS, MARKER


@dataclass(frozen=True)
class Evaluation:
    """One evaluation folder as the site shows it."""

    name: str  # its path under REPORTS_DIR, with "/"
    run: dict  # run.json ({} when absent)
    sections: list[dict]  # {"title", "tables": [{"caption", "head", "rows": [[{"text", "flagged"}]]}]}
    detectors: list[str]
    cells: int
    flagged: int


def _shown_cell(text: str) -> dict:
    return {"text": text.replace("**", ""), "flagged": "flagged" in text}


def _read(path: Path, name: str) -> Evaluation:
    try:
        cells = read_cells(path)
        run = json.loads((path / "run.json").read_text(encoding="utf-8")) if (path / "run.json").is_file() else {}
        shown = [
            {
                "title": title,
                "tables": [
                    {
                        "caption": caption,
                        "head": list(table.head),
                        "rows": [[_shown_cell(t) for t in row] for row in table.rows],
                    }
                    for caption, table in tables
                ],
            }
            for title, tables in sections(cells)
        ]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path / CELLS}: damaged evaluation ({type(exc).__name__}: {exc}); run it again") from None
    detectors = list(dict.fromkeys(cell["detector"] for cell in cells))
    return Evaluation(name, run, shown, detectors, len(cells), sum(bool(cell["flags"]) for cell in cells))


def find_evaluations(reports: Path, name_of) -> list[Evaluation]:
    """Every evaluation folder under ``reports`` (``name_of(path)``: its name on the site), read and checked."""
    paths = sorted(marker.parent for marker in reports.rglob(MARKER) if (marker.parent / CELLS).is_file())
    return [_read(path, name_of(path)) for path in paths]
