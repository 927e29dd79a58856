"""Budget tables and curves: every attack family with several variants in a run, against its budget.

A family's variants (``advbench.attacks.variants``) are placed by the family's budget parameter
(its registry entry's ``budget``: ``eps`` for FGSM, BIM and PGD, in 8-bit levels, ``steps`` for
Boundary, ``overshoot`` for DeepFool). For each such family ``budget_table.md``/``.tex`` holds one table
per AUC (rows detectors, columns budgets) and one of the variants' kept images and median L2 and
L-inf distances; ``figures/budget_<family>.png`` draws the same numbers (for the detectors'
own scores: score variants, ``<detector>[<variant>]``, are table rows only). The variants' families,
parameters and distances come from ``run.json`` (the run records them from the data file).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advbench.attacks.registry import ATTACKS
from advbench.fileio import write_text_atomic
from advbench.reports import figures, tables
from advbench.reports.significance import footnote, summary
from advbench.reports.view import FolderView
from advbench.score_variants import without_variants

STEM = "budget_table"
#: How each budget parameter is shown (eps in 8-bit levels: 4/255 shows as 4).
_SCALE = {"eps": 255.0}
#: Axis titles of the budget parameters that need more than their name.
_AXIS = {"eps": "eps (in 1/255, L-inf budget)"}


def sweeps(attack_sets: dict[str, dict], attacks: list[str]) -> dict[str, list[tuple[str, float]]]:
    """``{family: [(attack set, budget), ...]}`` ascending, for the families with two or more
    variants among ``attacks`` (budgets in display units, ``_SCALE``)."""
    found: dict[str, list[tuple[str, float]]] = {}
    for name in attacks:
        info = attack_sets.get(name) or {}
        attack = ATTACKS.get(info.get("family"))
        if attack is None or attack.budget not in info.get("params", {}):
            continue
        key = attack.budget
        found.setdefault(info["family"], []).append((name, float(info["params"][key]) * _SCALE.get(key, 1.0)))
    return {family: sorted(points, key=lambda p: p[1]) for family, points in found.items() if len(points) > 1}


def _column(family: str, value: float) -> str:
    key = ATTACKS[family].budget
    return f"{key} {value:g}/255" if key == "eps" else f"{key} {value:g}"


def _metric_frame(cells: dict, detectors: list[str], family: str, points: list, latex: bool, ci: bool) -> pd.DataFrame:
    frame = tables.auc_frame(cells, detectors, [name for name, _ in points], latex, ci)
    return frame.set_axis(["Detector", *(_column(family, value) for _, value in points)], axis=1)


def _attack_frame(attack_sets: dict, family: str, points: list) -> pd.DataFrame:
    rows = {"Attack set": ["attack set", "kept / attempted", "median L2", "median L-inf"]}
    for name, value in points:
        info = attack_sets[name]
        l2, linf = info.get("median_l2"), info.get("median_linf")
        rows[_column(family, value)] = [
            name,
            f"{info['count']} / {info['attempted']}",
            "-" if l2 is None else f"{l2:.3f}",
            "-" if linf is None else f"{255 * linf:.1f}/255",
        ]
    return pd.DataFrame(rows)


def render(
    view: FolderView, attack_sets: dict, found: dict[str, list[tuple[str, float]]], cells: dict[str, dict]
) -> list[Path]:
    """Write ``budget_table.md``/``.tex`` and ``figures/budget_<family>.png`` for the families of
    ``found`` (``sweeps``); nothing when it is empty. ``cells``: the folder's annotated cells
    ``{metric: {(detector, attack set): Cell}}`` (``report.metric_cells``). Returns the paths written."""
    if not found:
        return []
    out, detectors, where, stats, ci = view.out, view.detectors, view.where, view.stats, view.ci
    markdown = [
        "# AUC against the attack budget",
        "",
        f"Every attack family with several variants in this run, one column per budget. {where}",
        "",
    ]
    latex, written = [], []
    for family, points in found.items():
        for metric, label in tables.METRICS.items():
            caption = f"{tables.attack_label(family)}: {label} in percent against the budget, {summary(ci)}. {where}"
            title = f"{tables.attack_label(family)}, {label}"
            untested = [_column(family, value) for name, value in points if stats.untested(metric, [name])]
            note = footnote(stats.bootstrap, ci, True, tuple(untested))
            frames = [_metric_frame(cells[metric], detectors, family, points, latex, ci) for latex in (False, True)]
            markdown.append(tables.markdown(frames[0], title, caption, "##", note))
            latex.append(
                tables.latex(frames[1], caption, f"tab:advbench-budget-{family}-{metric.replace('_', '-')}", note)
            )
        frame = _attack_frame(attack_sets, family, points)
        caption = (
            f"{tables.attack_label(family)} variants: images kept (fooling the victim after 8-bit rounding), "
            "median distances."
        )
        markdown.append(tables.markdown(frame, f"{tables.attack_label(family)}, the attack sets", caption, "##"))
        latex.append(tables.latex(frame, caption, f"tab:advbench-budget-{family}-sets"))
        axis = _AXIS.get(ATTACKS[family].budget, ATTACKS[family].budget)
        drawn = without_variants(detectors)  # score variants are rows of the tables only
        written.append(figures.budget_curves(out / figures.FOLDER, family, points, cells, drawn, axis))
    write_text_atomic(out / f"{STEM}.md", "\n".join(markdown))
    write_text_atomic(out / f"{STEM}.tex", "\n".join(latex))
    return [out / f"{STEM}.md", out / f"{STEM}.tex", *written]
