"""Tables of the figures detection papers report (``advbench.runs.detection_metrics``), for
``advbench report --metrics``.

AUROC is the unpaired AUC of ``auc_table``, which every rendering writes. Each other figure chosen
gets a table of its own, in the layout of the folder's ``auc_table`` (rows the detectors, columns
the attacks; for an MNIST-type folder rows the normal classes and their mean, columns the
detectors): a cell is the mean over seeds of the figure in %, computed from the stored scores
(``with_metric``; nothing is fitted again), with the two-level bootstrap interval and the bold
marks of ``reports.significance`` (for ``fpr95`` the lowest mean is the best). The caption defines
the figure and the footnote states the convention (``detection_metrics.CONVENTION``).

A rendering writes the tables of the figures chosen and removes those of the figures not chosen
that an earlier rendering wrote, so that no table outlives the results it was computed from.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from advbench.reports import oneclass, significance, tables
from advbench.reports.view import FolderView
from advbench.runs import detection_metrics
from advbench.runs.detection_metrics import LABELS, LOWER_IS_BETTER
from advbench.runs.results import pair_key

#: The file stem of each figure's table (AUROC's is ``auc_table``, written by every rendering).
STEMS = {
    "aupr-out": "aupr_out_table",
    "aupr-in": "aupr_in_table",
    "fpr95": "fpr95_table",
    "tpr@5%": "tpr_at_fpr_5_table",
    "tpr@1%": "tpr_at_fpr_1_table",
    "tpr@0.2%": "tpr_at_fpr_0.2_table",
}
#: What a cell gives, for the caption.
DEFINITIONS = {
    "aupr-out": "average precision with the anomalous images positive (precision at each distinct score weighted "
    "by the recall it adds, no interpolation)",
    "aupr-in": "average precision with the clean images positive and the scores negated",
    "fpr95": "share of clean images flagged at the highest threshold that flags at least 95% of the anomalous "
    "images (lower is better)",
    **{
        name: f"share of anomalous images flagged at the lowest threshold that flags at most {100 * rate:g}% of the "
        "clean images"
        for name, rate in detection_metrics.FPR.items()
    },
}
#: Every file these tables may be written to (``run --force`` removes them).
FILES = tuple(f"{stem}.{ext}" for stem in STEMS.values() for ext in ("md", "tex"))


def with_metric(records: list[dict], scores: dict, name: str) -> list[dict]:
    """The results lines, each finished one with its figure ``name`` under that key, computed from its
    stored scores (``scores``: ``report.load_scores``): its clean test images against its column's images."""
    out = []
    for record in records:
        if record["error"] is None and record.get("auc") is not None:
            found = scores[record["detector"]][int(record["seed"]), pair_key(record)[2]]
            value = detection_metrics.compute(name, found["normal_test"], found["attacks"][record["attack"]])
            record = {**record, name: value}
        out.append(record)
    return out


def _note(stats, ci: bool, within: str) -> str:
    return f"{detection_metrics.CONVENTION} {significance.footnote(stats.bootstrap, ci, True, within=within)}"


def render(view: FolderView, scores: dict, metrics: list[str]) -> tuple[list[Path], dict[str, dict]]:
    """The table of each figure of ``metrics`` but AUROC, and their cells ``{name: {(row, column): Cell}}``;
    removes the tables of the other figures (see the module docstring). ``view.columns``: the attacks,
    or for an MNIST-type folder (``stats.by_class``) the normal classes."""
    out, records, detectors, columns = view.out, view.records, view.detectors, view.columns
    seeds, stats, where, ci = view.seeds, view.stats, view.where, view.ci
    written, found = [], {}
    for name in (name for name in detection_metrics.NAMES if name != "auroc"):
        if name not in metrics:
            for file in (out / f"{STEMS[name]}.{ext}" for ext in ("md", "tex")):
                file.unlink(missing_ok=True)
            continue
        given = with_metric(records, scores, name)
        lower = name in LOWER_IS_BETTER
        caption = f"{LABELS[name]} in percent: {DEFINITIONS[name]}; {significance.summary(ci)}"
        if stats.by_class:
            cells, covered = oneclass.annotated_cells(given, detectors, columns, seeds, stats, name, lower)
            make = partial(oneclass.auc_frame, cells, covered, detectors, columns, ci=ci)
            caption += f"; the normal class's test images are negatives, the other classes' positives. {where}"
            title, note = f"{LABELS[name]} (%) per normal class and detector", _note(stats, ci, "row")
        else:
            cells = tables.collect(given, detectors, columns, seeds, name)
            significance.annotate_table(cells, detectors, columns, stats.of(name), lower_is_better=lower)
            make = partial(tables.auc_frame, cells, detectors, columns, ci=ci)
            caption += f"; clean test images are negatives, the attack's adversarial images positives. {where}"
            title, note = f"{LABELS[name]} (%) per detector and attack", _note(stats, ci, "column")
        label = f"tab:advbench-{STEMS[name].replace('_', '-')}"
        written += oneclass.write_table(out, STEMS[name], title, caption, make, label, note)
        found[name] = cells
    return written, found
