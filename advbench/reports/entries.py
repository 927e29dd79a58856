"""A run folder's leaderboard entries: ``entries.json``, written by ``advbench report`` beside the tables.

One entry per detector (a table row: a detector or one of its score variants) of the folder, and
so per (detector, benchmark file, protocol, profile), since a folder holds one of each
(``runs.guard``). An entry stands alone, as a model entry of a leaderboard does: the benchmark,
its normal class or classes, the data file's sha256, protocol, profile, seeds, the detector's
parameters and versions, and per table (``auc``, ``paired_auc``, ``matched_auc``) and column (an
attack set, or a normal class and ``mean`` for MNIST-type benchmarks) the cell: mean, sample std,
the bootstrap interval, the seeds it holds, whether it is bold and its Holm-adjusted p-value
against the column's best (``reports.significance``); per table, the columns without intervals
and test (``untested``: the paired and matched AUCs need each adversarial image's source).
Numbers are fractions; ``null`` where a cell has none. ``advbench site`` reads these files. The
file is written atomically and holds no time of rendering, so rendering a folder again gives the
same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path

from advbench.datasets import registry
from advbench.fileio import write_text_atomic
from advbench.reports.tables import Cell, attack_label
from advbench.runs import guard, intervals
from advbench.runs.results import to_json_text

FILE = "entries.json"
SCHEMA = 1


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def cell_record(cell: Cell) -> dict:
    """One cell as JSON (see the module docstring)."""
    low, high = cell.interval or (None, None)
    return {
        "mean": _number(cell.mean) if cell.values else None,
        "std": _number(cell.std) if cell.values else None,
        "low": _number(low),
        "high": _number(high),
        "seeds": len(cell.values),
        "expected": cell.expected,
        "failed": cell.failed,
        "bold": bool(cell.bold),
        "p_holm": _number(cell.p_value),
    }


def _column_label(column) -> str:
    return f"class {column}" if isinstance(column, int) else attack_label(column) if column != "mean" else "mean"


def _version(last_run: dict, records: list[dict]) -> dict:
    """``{"benchmark_version": ...}`` from the last run's data or the lines, where they record it (else empty)."""
    found = (last_run.get("data") or {}).get("version") or next(
        (r["benchmark_version"] for r in records if r.get("benchmark_version")), None
    )
    return {"benchmark_version": found} if found else {}


def write(out: Path, records: list[dict], runs: list[dict], cells: dict[str, dict], seeds: list[int], stats) -> Path:
    """Write ``out/entries.json`` from the annotated cells ``{metric: {(row, column): Cell}}`` and the
    folder's ``significance.FolderStats`` (its bootstrap, and which metrics it could resample)."""
    bootstrap = stats.bootstrap
    first = records[0]
    settings = guard.line_settings(first)
    benchmark = registry.of_record(first)
    last = runs[-1] if runs else {}
    rows = list(dict.fromkeys(row for table in cells.values() for row, _ in table))
    columns = {metric: list(dict.fromkeys(column for _, column in table)) for metric, table in cells.items()}
    folder = {
        "benchmark": benchmark.name,
        "benchmark_label": benchmark.label,
        "normal_classes": sorted({r["normal_class"] for r in records}, key=lambda c: (isinstance(c, str), c)),
        "data_sha256": last.get("data_sha256") or first["data_sha256"],
        "protocol": settings["protocol"],
        "profile": settings["profile"],
        "seeds": seeds,
        "date": last.get("finished") or max(str(r.get("finished") or "") for r in records),
        **_version(last, records),
        "bootstrap": {
            "resamples": bootstrap.resamples,
            "seed": bootstrap.seed,
            "level": intervals.LEVEL,
            "interval": intervals.METHOD,
            "test": intervals.TEST,
            "alpha": intervals.ALPHA,
            "untested": {metric: stats.untested(metric, columns[metric]) for metric in cells},
        },
    }
    labels = {str(c): _column_label(c) for found in columns.values() for c in found}
    entries = []
    for row in rows:
        line = next((r for r in records if r["detector"] == row), None)
        entry = {
            "detector": row,
            **{key: folder[key] for key in ("benchmark", "data_sha256", "protocol", "profile", "seeds")},
            "params": line["params"] if line else None,
            "config_hash": line.get("config_hash") if line else None,
            "versions": line.get("versions") if line else None,
            "metrics": {
                metric: {str(column): cell_record(table[row, column]) for column in columns[metric]}
                for metric, table in cells.items()
            },
        }
        entries.append(entry)
    path = Path(out) / FILE
    write_text_atomic(
        path,
        to_json_text(
            {
                "schema": SCHEMA,
                "folder": folder,
                "columns": {metric: [str(c) for c in found] for metric, found in columns.items()},
                "labels": labels,
                "entries": entries,
            }
        ),
    )
    return path
