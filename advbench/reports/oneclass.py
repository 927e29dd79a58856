"""Tables and the figure of an MNIST-type run folder: one AUC per (detector, normal class, seed).

- ``auc_table``: rows the normal classes and their mean, columns the detectors; a cell is the
  mean ± sample standard deviation over seeds of the AUC in % of that class's test images
  against ``other-classes``. The mean row averages, per seed, the AUC over the classes and
  gives mean ± std of that over the seeds that hold every class; where no seed holds every class
  it is the mean of the per-class means, marked "(k/n classes)". "(k/n seeds)" marks a cell with
  fewer seeds than the table.
- ``published_comparison`` (MNIST, Protocol 2): ours beside Deep SVDD's Table 1 (``published``),
  per digit, for the detectors that table has; its mean row averages the published numbers over
  the classes our cell covers.
- ``ablation_table`` (Protocol 2, when an ablation variant ran): the paper's Table 1 MNIST column
  beside our mean over the classes.
- ``paper_table2`` (Protocol 1): the paper's Table 2 column of the benchmark beside our mean over
  classes for the detectors it has a row for, its other rows for context.
- ``figures/auc_per_class.png``: AUC against the normal class, a line per detector (mean over
  seeds), Deep SVDD's published numbers as markers where they exist; the detectors' own scores
  only (a detector's score variants, ``<detector>[<variant>]``, are columns of ``auc_table`` and
  rows of ``paper_table2`` after their detector, not lines of the figure).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from advbench.datasets import registry
from advbench.datasets.oneclass import OTHER_CLASSES
from advbench.fileio import write_text_atomic
from advbench.reports import figures, paper, published, significance, tables
from advbench.reports.tables import Cell, cell_text
from advbench.reports.view import FolderView
from advbench.score_variants import without_variants

#: What the one-class rendering writes (``run --force`` removes them too).
ARTIFACTS = tuple(
    f"{stem}.{ext}"
    for stem in ("auc_table", "published_comparison", "ablation_table", "paper_table2")
    for ext in ("md", "tex")
)
ABLATION = tuple(published.PAPER_TABLE1_MNIST)


def _published(benchmark: str, protocol: str) -> bool:
    """Whether Deep SVDD's Table 1 and the paper's Table 1 publish this benchmark under this protocol."""
    return protocol == "2" and benchmark in published.PROTOCOL_2_PUBLISHED


def _cells(records: list[dict], detectors: list[str], classes: list[int], seeds: list[int], metric="auc") -> dict:
    """``{(detector, class): Cell}`` of ``metric`` (the AUC, or a detection metric the lines were given) over seeds."""
    cells = {(d, c): Cell(expected=len(seeds)) for d in detectors for c in classes}
    for record in records:
        cell = cells.get((record["detector"], int(record["normal_class"])))
        if cell is None:
            continue
        if record["error"] is not None:
            cell.failed += 1
        else:
            cell.values.append(record[metric])
    return cells


def mean_cell(
    records: list[dict], detector: str, classes: list[int], seeds: list[int], metric: str = "auc"
) -> tuple[Cell, int]:
    """The mean over classes of ``metric`` as a Cell over the seeds that hold every class, and how many
    classes hold at least one seed (when no seed holds all of them, the Cell is the mean of the per-class means)."""
    by_seed: dict[int, dict[int, float]] = {}
    for record in records:
        if record["detector"] == detector and record["error"] is None and int(record["normal_class"]) in classes:
            by_seed.setdefault(int(record["seed"]), {})[int(record["normal_class"])] = record[metric]
    full = [float(np.mean(list(aucs.values()))) for aucs in by_seed.values() if len(aucs) == len(classes)]
    covered = {c for aucs in by_seed.values() for c in aucs}
    if full:
        return Cell(values=full, expected=len(seeds)), len(covered)
    per_class = [np.mean([aucs[c] for aucs in by_seed.values() if c in aucs]) for c in sorted(covered)]
    return Cell(values=[float(np.mean(per_class))] if per_class else [], expected=1), len(covered)


def _mean_text(cell: Cell, covered: int, n_classes: int, scale: float, digits: int, pm: str, ci: bool) -> str:
    if covered < n_classes and cell.values:
        return f"{scale * cell.mean:.{digits}f} ({covered}/{n_classes} classes)"
    return cell_text(cell, scale, digits, pm, ci)


def annotated_cells(
    records, detectors, classes, seeds, stats, metric: str = "auc", lower_is_better: bool = False
) -> tuple[dict, dict]:
    """``{(detector, class or "mean"): Cell}`` of ``metric`` with intervals and bold marks per normal
    class and for the mean row (``significance``), and ``{detector: classes covered}`` of the mean row."""
    cells = _cells(records, detectors, classes, seeds, metric)
    covered = {}
    for detector in detectors:
        cells[detector, "mean"], covered[detector] = mean_cell(records, detector, classes, seeds, metric)
    parts = {c: [(OTHER_CLASSES, c)] for c in classes} | {"mean": [(OTHER_CLASSES, c) for c in classes]}
    significance.annotate(
        {
            column: {d: (cells[d, column], stats.replicates(d, parts[column], metric)) for d in detectors}
            for column in parts
        },
        lower_is_better=lower_is_better,
    )
    return cells, covered


def auc_frame(cells, covered, detectors, classes, latex: bool, ci: bool = False) -> pd.DataFrame:
    pm, bold = (r"$\pm$", r"\textbf{{{}}}") if latex else ("±", "**{}**")
    frame = {"Normal class": [str(c) for c in classes] + ["mean"]}
    for detector in detectors:
        column = [cell_text(cells[detector, c], pm=pm, ci=ci) for c in classes]
        column.append(_mean_text(cells[detector, "mean"], covered[detector], len(classes), 100.0, 1, pm, ci))
        marks = [cells[detector, c].bold for c in [*classes, "mean"]]
        frame[detector] = [bold.format(text) if mark else text for text, mark in zip(column, marks, strict=True)]
    return pd.DataFrame(frame)


def comparison_frame(cells, covered, detectors, classes, latex: bool, ci: bool = False) -> pd.DataFrame:
    """Ours beside Deep SVDD's Table 1 for each of its detectors that ran."""
    pm = r"$\pm$" if latex else "±"
    frame = {"Normal class": [str(c) for c in classes] + ["mean"]}
    for detector in (d for d in published.DEEP_SVDD_MNIST if d in detectors):
        table = published.DEEP_SVDD_MNIST[detector]
        ours = [cell_text(cells[detector, c], pm=pm, ci=ci) for c in classes]
        ours.append(_mean_text(cells[detector, "mean"], covered[detector], len(classes), 100.0, 1, pm, ci))
        theirs = [f"{table[c][0]:.1f} {pm} {table[c][1]:.1f}" if c in table else "n/a" for c in classes]
        listed = [c for c in classes if c in table and cells[detector, c].values]
        mean = f"{np.mean([table[c][0] for c in listed]):.1f}" if listed else "n/a"
        theirs.append(mean if len(listed) == len(classes) else f"{mean} ({len(listed)}/{len(classes)} classes)")
        frame[f"{detector} (ours)"] = ours
        frame[f"{published.DEEP_SVDD_NAMES[detector]} (Deep SVDD)"] = theirs
    return pd.DataFrame(frame)


def ablation_frame(records, classes, seeds, latex: bool, means: dict, ci: bool = False) -> pd.DataFrame:
    """``means``: the annotated mean rows (``annotated_cells``) of the variants that ran."""
    pm = r"$\pm$" if latex else "±"
    rows = list(ABLATION)
    return pd.DataFrame(
        {
            "Variant": [paper.TABLE1_NAMES[d] for d in rows],
            "Detector": rows,
            "Paper (Table 1, MNIST)": [f"{published.PAPER_TABLE1_MNIST[d]:.3f}" for d in rows],
            "Ours, mean over classes": [
                _mean_text(*(means.get(d) or mean_cell(records, d, classes, seeds)), len(classes), 1.0, 3, pm, ci)
                for d in rows
            ],
        }
    )


def table2_frame(cells, covered, detectors, classes, benchmark: str, latex: bool, ci: bool = False) -> pd.DataFrame:
    pm = r"$\pm$" if latex else "±"
    ours = {row: d for d, row in published.TABLE2_DETECTORS.items()}
    rows, paper_values, our_values = [], [], []
    for row, values in published.PAPER_TABLE2.items():
        detector = ours.get(row)
        rows.append(row if detector is None else f"{row} ({detector})")
        paper_values.append(f"{values[benchmark]:.3f}")
        if detector in detectors:
            our_values.append(_mean_text(cells[detector, "mean"], covered[detector], len(classes), 1.0, 3, pm, ci))
        else:
            our_values.append("not run" if detector else "n/a")
    extra = [d for d in detectors if d not in published.TABLE2_DETECTORS]
    for detector in extra:
        rows.append(f"({detector})")
        paper_values.append("n/a")
        our_values.append(_mean_text(cells[detector, "mean"], covered[detector], len(classes), 1.0, 3, pm, ci))
    return pd.DataFrame(
        {
            "Method": rows,
            f"Paper (Table 2, {registry.get(benchmark).label})": paper_values,
            "Ours, mean over classes": our_values,
        }
    )


def write_table(out: Path, stem: str, title: str, caption: str, make, label: str, note: str) -> list[Path]:
    """``stem``.md and .tex of the frame ``make(latex)`` gives."""
    write_text_atomic(out / f"{stem}.md", tables.markdown(make(False), title, caption, note=note))
    write_text_atomic(out / f"{stem}.tex", tables.latex(make(True), caption, label, note))
    return [out / f"{stem}.md", out / f"{stem}.tex"]


def per_class_figure(folder: Path, records, detectors, classes, seeds, benchmark: str, protocol: str) -> Path:
    """``auc_per_class.png`` (``figures.auc_per_class``) with Deep SVDD's numbers where they apply."""
    cells = _cells(records, detectors, classes, seeds)
    means = {d: [100 * cells[d, c].mean if cells[d, c].values else float("nan") for c in classes] for d in detectors}
    compared = _published(benchmark, protocol)
    marks = {
        d: [published.DEEP_SVDD_MNIST[d][c][0] for c in classes]
        for d in detectors
        if compared and d in published.DEEP_SVDD_MNIST
    }
    title = f"{registry.get(benchmark).label}, protocol {protocol}" + ("; x: Deep SVDD's Table 1" if compared else "")
    return figures.auc_per_class(folder, classes, means, marks, title)


def where_sentence(records: list[dict], seeds: list[int], sha: str) -> str:
    """The sentence every caption ends with: benchmark, its files' sha256, protocol, seeds and profile."""
    benchmark, protocol, profile = records[0]["benchmark"], records[0]["protocol"], records[0].get("profile", "default")
    return (
        f"{registry.get(benchmark).label} (files sha256 {sha[:12]}), protocol {protocol}; seeds "
        f"{', '.join(map(str, seeds))}; training profile {profile}."
    )


def render(view: FolderView) -> tuple[list[Path], dict[str, dict]]:
    """Every table and the figure of an MNIST-type folder (see the module docstring; ``view.columns``
    are its normal classes, ``view.where`` is ``where_sentence``), and the annotated cells
    ``{"auc": {(detector, class or "mean"): Cell}}``; ``view.stats`` gives the intervals (shown
    with ``view.ci``) and the bold marks."""
    out, records, detectors, classes = view.out, view.records, view.detectors, view.columns
    seeds, stats, where, ci = view.seeds, view.stats, view.where, view.ci
    benchmark, protocol = records[0]["benchmark"], records[0]["protocol"]
    name = registry.get(benchmark).label
    cells, covered = annotated_cells(records, detectors, classes, seeds, stats)
    note = significance.footnote(stats.bootstrap, ci)
    written = write_table(
        out,
        "auc_table",
        f"AUC (%) per normal class and detector, {name}, protocol {protocol}",
        f"One-class AUC in percent: the normal class's test images against the other classes' "
        f"({'all of the test split' if protocol == '2' else 'as many, drawn from the test split'}); "
        f"{significance.summary(ci)}; the last row averages over the classes per seed. {where}",
        lambda latex: auc_frame(cells, covered, detectors, classes, latex, ci),
        "tab:advbench-oneclass",
        significance.footnote(stats.bootstrap, ci, bold=True, within="row"),
    )
    if _published(benchmark, protocol) and any(d in published.DEEP_SVDD_MNIST for d in detectors):
        written += write_table(
            out,
            "published_comparison",
            "Ours beside Deep SVDD's Table 1 (MNIST, protocol 2)",
            f"Our AUC in percent ({significance.summary(ci)}) beside {published.DEEP_SVDD_CITATION} (10 seeds; "
            f"GCN-l1 and min-max scaling as theirs where their scripts use it). {where}",
            lambda latex: comparison_frame(cells, covered, detectors, classes, latex, ci),
            "tab:advbench-deep-svdd",
            note,
        )
    if _published(benchmark, protocol) and any(d in ABLATION[:3] for d in detectors):
        means = {d: (cells[d, "mean"], covered[d]) for d in detectors}
        written += write_table(
            out,
            "ablation_table",
            "Ablation beside the paper's Table 1 (MNIST)",
            f"Mean AUC over the normal classes as a fraction ({significance.summary(ci)}), beside the MNIST "
            f"column of Table 1 of {paper.CITATION} (protocol 2). {where}",
            lambda latex: ablation_frame(records, classes, seeds, latex, means, ci),
            "tab:advbench-ablation-mnist",
            note,
        )
    if protocol == "1":
        written += write_table(
            out,
            "paper_table2",
            f"Ours beside the paper's Table 2 ({name}, protocol 1)",
            f"Mean AUC over the normal classes as a fraction ({significance.summary(ci)}), beside Table 2 of "
            f"{paper.CITATION} (its COIL-100 column: no data here). {where}",
            lambda latex: table2_frame(cells, covered, detectors, classes, benchmark, latex, ci),
            "tab:advbench-table2",
            note,
        )
    drawn = without_variants(detectors)
    written.append(per_class_figure(out / figures.FOLDER, records, drawn, classes, seeds, benchmark, protocol))
    return written, {"auc": cells}
