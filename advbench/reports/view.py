"""What every table of one run folder is rendered from, gathered once by ``report.render``: the
folder, its result lines, the rows (detectors) and columns (attacks, or the normal classes of an
MNIST-type folder), the seeds, the statistics that give intervals and bold marks
(``significance.FolderStats``), the sentence each caption ends with, and whether cells show
their intervals (``--ci``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FolderView:
    """One run folder as its tables see it (see the module docstring)."""

    out: Path
    records: list[dict]
    detectors: list[str]
    columns: list[Any]
    seeds: list[int]
    stats: Any  # significance.FolderStats, or None where no table needs it
    where: str
    ci: bool = False
