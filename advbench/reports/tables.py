"""AUC tables from ``results.jsonl``: ours (Table 4 layout, for each of the three AUCs of
``advbench.runs.metrics``), beside the paper's Table 4 and Table 1, and the budget tables.

A cell is the mean ± sample standard deviation (``ddof=1``) over seeds of the AUC in %, one
decimal, or with ``ci`` the mean and its bootstrap interval, ``mean [low, high]``
(``reports.significance``). Bold marks the best mean of each column and every cell not
significantly worse than it (``Cell.bold``, set by ``reports.significance.annotate``; the best
mean alone where it has not run; never a cell whose mean is not a number, ``Cell.comparable``).
Every cell of a table is expected to hold the table's seeds: those of every run into the folder
and any seed stored. A cell never hides a
problem: "failed (k/n seeds)" when every seed failed, "not run" when no seed was computed, and
"(k/n seeds)" after the numbers when fewer seeds went into them (such a cell is never bold: a
mean over other seeds is not comparable); the ablation table's mean over attacks likewise.
Markdown is written by hand (a pipe table needs no library); LaTeX by pandas' ``Styler.to_latex``
with booktabs rules (``\\toprule`` etc.).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advbench.attacks.registry import ATTACKS
from advbench.reports import paper

#: Columns that hold names (left-aligned, escaped in LaTeX); the others hold numbers.
TEXT_COLUMNS = ("Detector", "Paper row", "Variant", "Attack set", "Normal class", "Method", "Seeds")
#: The numbers of a result line that tables show, and what each is called.
METRICS = {"auc": "AUC", "paired_auc": "paired AUC", "matched_auc": "matched AUC"}
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def attack_label(name: str) -> str:
    """``fgsm`` -> ``FGSM``, ``fgsm@eps=4/255`` -> ``FGSM eps=4/255`` (the entry's label; other sets by name)."""
    family, _, params = name.partition("@")
    label = ATTACKS[family].label if family in ATTACKS else family
    return f"{label} {params.replace(',', ', ')}" if params else label


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


@dataclass
class Cell:
    """The AUCs (fractions) of one (detector, attack) over the seeds that succeeded."""

    values: list[float] = field(default_factory=list)
    failed: int = 0
    expected: int = 0
    #: The bootstrap interval of the mean (fractions), where computed.
    interval: tuple[float, float] | None = None
    #: Holm-adjusted p-value of the test against the best cell of its column, where tested.
    p_value: float | None = None
    #: Whether the cell is bold (None: not decided; the tables then bold the best mean).
    bold: bool | None = None

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else float("nan")

    @property
    def complete(self) -> bool:
        """Every expected seed went into the numbers."""
        return len(self.values) == self.expected

    @property
    def comparable(self) -> bool:
        """Complete, with a mean that is a number: a cell that may be bold."""
        return self.complete and bool(self.values) and bool(np.isfinite(self.mean))


def table_seeds(records: list[dict], run_seeds: list[int]) -> list[int]:
    """The seeds every cell should hold: the runs' seeds and any seed stored."""
    return sorted(set(run_seeds) | {int(record["seed"]) for record in records})


def collect(
    records: list[dict], detectors: list[str], attacks: list[str], seeds: list[int], metric: str = "auc"
) -> dict:
    """``{(detector, attack): Cell}`` of ``metric`` (a key of ``METRICS``) for every row and column
    of a table (``seeds``: ``table_seeds``). A line without the number (written before it existed)
    adds nothing, so its cell shows the seeds it lacks."""
    cells = {(d, a): Cell(expected=len(seeds)) for d in detectors for a in attacks}
    for record in records:
        cell = cells.get((record["detector"], record["attack"]))
        if cell is None:
            continue
        if record["error"] is not None:
            cell.failed += 1
        elif record.get(metric) is not None:
            cell.values.append(record[metric])
    return cells


def cell_text(cell: Cell, scale: float = 100.0, digits: int = 1, pm: str = "±", ci: bool = False) -> str:
    """The text of one cell (without bold): mean ± std, or with ``ci`` mean [low, high] where the
    cell has an interval."""
    n = len(cell.values)
    if n == 0:
        return f"failed ({cell.failed}/{cell.expected} seeds)" if cell.failed else "not run"
    text = f"{scale * cell.mean:.{digits}f}"
    if ci and cell.interval is not None:
        low, high = cell.interval
        text += f" [{scale * low:.{digits}f}, {scale * high:.{digits}f}]"
    elif n > 1:
        text += f" {pm} {scale * cell.std:.{digits}f}"
    if n < cell.expected:
        text += f" ({n}/{cell.expected} seeds" + (f", {cell.failed} failed)" if cell.failed else ")")
    return text


def _bold(cells: dict, detectors: list[str], attack: str) -> set[str]:
    """The bold detectors of a column: ``Cell.bold`` where decided, else the best mean among cells
    that hold every seed."""
    column = [cells[d, attack] for d in detectors]
    if any(cell.bold is not None for cell in column):
        return {d for d, cell in zip(detectors, column, strict=True) if cell.bold}
    means = {d: round(100 * cell.mean, 1) for d, cell in zip(detectors, column, strict=True) if cell.comparable}
    top = max(means.values(), default=None)
    return {d for d, mean in means.items() if mean == top}


def auc_frame(cells: dict, detectors: list[str], attacks: list[str], latex: bool, ci: bool = False) -> pd.DataFrame:
    """Rows = detectors, columns = attacks, cells as text (``cell_text``); bold as ``_bold``."""
    pm, bold = (r"$\pm$", r"\textbf{{{}}}") if latex else ("±", "**{}**")
    columns = {"Detector": detectors}
    for attack in attacks:
        marked = _bold(cells, detectors, attack)
        columns[attack_label(attack)] = [
            bold.format(cell_text(cells[d, attack], pm=pm, ci=ci))
            if d in marked
            else cell_text(cells[d, attack], pm=pm, ci=ci)
            for d in detectors
        ]
    return pd.DataFrame(columns)


def comparison_frame(cells: dict, attacks: list[str], latex: bool, ci: bool = False) -> pd.DataFrame:
    """Our cells beside the paper's Table 4 numbers, one row per Table 4 method."""
    pm = r"$\pm$" if latex else "±"
    rows = list(paper.TABLE4)
    columns = {"Detector": rows, "Paper row": [paper.PAPER_NAMES[d] for d in rows]}
    for attack in attacks:
        label = attack_label(attack)
        columns[f"{label} (ours)"] = [cell_text(cells[d, attack], pm=pm, ci=ci) for d in rows]
        columns[f"{label} (paper)"] = [
            f"{paper.TABLE4[d][attack][0]:.1f} {pm} {paper.TABLE4[d][attack][1]:.1f}"
            if attack in paper.TABLE4[d]
            else "n/a"
            for d in rows
        ]
    return pd.DataFrame(columns)


def mean_over_attacks(records: list[dict], detector: str, attacks: list[str], expected: int) -> Cell:
    """Per seed, the mean AUC over ``attacks`` (seeds with every attack scored), as one Cell over seeds.

    ``expected`` is the table's seed count, so that missing seeds show as "(k/n seeds)".
    """
    by_seed: dict[int, dict[str, float | None]] = {}
    for record in records:
        if record["detector"] == detector and record["attack"] in attacks:
            by_seed.setdefault(int(record["seed"]), {})[record["attack"]] = record["auc"]
    cell = Cell(expected=expected)
    for aucs in by_seed.values():
        if len(aucs) == len(attacks) and None not in aucs.values():
            cell.values.append(float(np.mean(list(aucs.values()))))
        else:
            cell.failed += 1
    return cell


def ablation_frame(
    records: list[dict], cells: dict, attacks: list[str], latex: bool, ci: bool = False, means: dict | None = None
) -> pd.DataFrame:
    """Table 1's variants: the paper's STOP SIGN AUC beside our mean AUC over attacks (fractions);
    ``means``: the rows' ``mean_over_attacks`` cells where already computed (with their intervals)."""
    pm = r"$\pm$" if latex else "±"
    rows = list(paper.TABLE1)
    means = means or {d: mean_over_attacks(records, d, attacks, cells[d, attacks[0]].expected) for d in rows}
    columns = {
        "Variant": [paper.TABLE1_NAMES[d] for d in rows],
        "Detector": rows,
        "Paper (Table 1)": [f"{paper.TABLE1[d]:.3f}" for d in rows],
        "Ours, mean over attacks": [cell_text(means[d], 1.0, 3, pm, ci) for d in rows],
    }
    for attack in attacks:
        columns[f"Ours, {attack_label(attack)}"] = [cell_text(cells[d, attack], 1.0, 3, pm, ci) for d in rows]
    return pd.DataFrame(columns)


def markdown(frame: pd.DataFrame, title: str, caption: str, heading: str = "#", note: str = "") -> str:
    """A Markdown pipe table with a heading (of level ``heading``), a caption paragraph and, under
    the table, a ``note`` paragraph (the footnote of its intervals and bold marks)."""
    align = ["---" if c in TEXT_COLUMNS else "---:" for c in frame.columns]
    lines = [
        f"{heading} {title}",
        "",
        caption,
        "",
        "| " + " | ".join(frame.columns) + " |",
        "| " + " | ".join(align) + " |",
    ]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def latex(frame: pd.DataFrame, caption: str, label: str, note: str = "") -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``), ``note`` in small type
    under the tabular."""
    frame = frame.copy()
    for column in frame.columns:
        if column in TEXT_COLUMNS:
            frame[column] = frame[column].map(latex_escape)
    spec = "".join("l" if c in TEXT_COLUMNS else "r" for c in frame.columns)
    frame.columns = [latex_escape(c) for c in frame.columns]
    text = frame.style.hide(axis="index").to_latex(
        hrules=True,
        column_format=spec,
        caption=latex_escape(caption),
        label=label,
        position="htbp",
        position_float="centering",
    )
    if note:
        text = text.replace("\\end{table}", f"\\par\\smallskip{{\\footnotesize {latex_escape(note)}}}\n\\end{{table}}")
    return text
