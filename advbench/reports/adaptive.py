"""The adaptive-attack tables: each detector against plain PGD and against PGD made to evade it.

A detector-aware set (family ``pgd-adaptive``, ``advbench.attacks.adaptive``) was made against
one detector fitted with one seed. Its white-box number is the AUC of that detector *with that
seed* on it; the plain number is the same detector and seed on the plain PGD set of the same
budget and steps. ``adaptive_table`` has one row per attacked detector and plain variant: both
AUCs (mean ± sample std over the seeds that have a set, or with ``ci`` mean [95% interval], the
two-level bootstrap of every table, ``FolderStats.seedwise``), their difference (per seed, its
interval from the same draws) and the attack success rates (images kept / attempted, mean ± std
over those seeds). A second table gives every detector's AUC on each attacked detector's sets (same seed
pairing): off the diagonal these are transfer numbers, which is how detectors without a
differentiable score (OC-SVM, KDE, IF, Mahalanobis, PyOD) are evaluated here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advbench.attacks import ADAPTIVE_FAMILY
from advbench.fileio import write_text_atomic
from advbench.reports import significance, tables
from advbench.reports.view import FolderView
from advbench.runs import intervals

STEM = "adaptive_table"


def adaptive_sets(attack_sets: dict, attacks: list[str]) -> dict[tuple[str, str], dict[int, str]]:
    """``{(attacked detector, plain variant): {detector seed: set name}}`` among the run's ``attacks``."""
    found: dict[tuple[str, str], dict[int, str]] = {}
    for name in attacks:
        info = attack_sets.get(name) or {}
        record = info.get("adaptive")
        if info.get("family") == ADAPTIVE_FAMILY and record:
            found.setdefault((record["detector"], record["plain"]), {})[int(record["detector_seed"])] = name
    return found


def _aucs(records: list[dict]) -> dict[tuple[str, int, str], float]:
    return {(r["detector"], int(r["seed"]), r["attack"]): r["auc"] for r in records if r.get("error") is None}


def _stat(values: list[float], pm: str = "±", replicates=None) -> str:
    """Mean ± sample std in percent as every table's cells (``tables.cell_text``), or mean [interval]
    when given the bootstrap ``replicates`` of the mean."""
    cell = tables.Cell(values=list(values), expected=len(values))
    if replicates is not None and cell.values:
        cell.interval = intervals.interval(replicates)
    return tables.cell_text(cell, pm=pm, ci=replicates is not None)


def _rate(info: dict) -> float | None:
    return info["count"] / info["attempted"] if info.get("attempted") else None


def _main_frame(found, aucs, attack_sets, seeds, latex: bool, stats=None) -> pd.DataFrame:
    """``stats`` (``FolderStats``, with ``--ci``): the AUC cells show intervals."""
    pm = r"$\pm$" if latex else "±"
    rows = []
    for (detector, plain), by_seed in found.items():
        used = [
            s
            for s in sorted(by_seed)
            if s in seeds and (detector, s, plain) in aucs and (detector, s, by_seed[s]) in aucs
        ]
        plain_aucs = [aucs[detector, s, plain] for s in used]
        adaptive_aucs = [aucs[detector, s, by_seed[s]] for s in used]
        rates = [_rate(attack_sets[by_seed[s]]) for s in used]
        plain_rate = _rate(attack_sets.get(plain, {}))
        plain_rep = adaptive_rep = change_rep = None
        if stats is not None:
            plain_rep = stats.seedwise(detector, {s: plain for s in used})
            adaptive_rep = stats.seedwise(detector, {s: by_seed[s] for s in used})
            if plain_rep is not None and adaptive_rep is not None:
                change_rep = adaptive_rep - plain_rep
        rows.append(
            {
                "Detector": detector,
                "Attack set": plain,
                "Seeds": ", ".join(map(str, used)) or "-",
                "AUC plain": _stat(plain_aucs, pm, plain_rep),
                "AUC adaptive": _stat(adaptive_aucs, pm, adaptive_rep),
                "Change": _stat([a - p for a, p in zip(adaptive_aucs, plain_aucs, strict=True)], pm, change_rep),
                "Success plain": "-" if plain_rate is None else f"{100 * plain_rate:.1f}",
                "Success adaptive": _stat([r for r in rates if r is not None], pm=pm),
            }
        )
    return pd.DataFrame(rows)


def _transfer_frame(found, aucs, detectors: list[str], seeds, latex: bool, stats=None) -> pd.DataFrame:
    pm = r"$\pm$" if latex else "±"
    columns = {"Detector": detectors}
    for (attacked, plain), by_seed in found.items():
        label = f"vs {attacked} ({tables.attack_label(plain)})"
        cells = []
        for d in detectors:
            sets = {s: name for s, name in sorted(by_seed.items()) if s in seeds and (d, s, name) in aucs}
            replicates = None if stats is None else stats.seedwise(d, sets)
            cells.append(_stat([aucs[d, s, name] for s, name in sets.items()], pm, replicates))
        columns[label] = cells
    return pd.DataFrame(columns)


def render(view: FolderView, attack_sets: dict) -> list[Path]:
    """Write ``adaptive_table.md``/``.tex`` when the run has detector-aware sets; return the paths.
    With ``view.ci`` the AUC cells show their intervals (``view.stats``)."""
    found = adaptive_sets(attack_sets, view.columns)
    if not found:
        return []
    out, records, detectors, seeds, where = view.out, view.records, view.detectors, view.seeds, view.where
    stats = view.stats if view.ci else None
    aucs = _aucs(records)
    spread = "mean over the seeds listed [95% interval]" if stats else "mean and sample standard deviation"
    spread += "" if stats else " over the seeds listed"
    caption = (
        "AUC in percent of each attacked detector against plain PGD and against PGD made to evade it "
        f"(same budget and steps; the detector fitted with the same seed as the one attacked), {spread}; "
        "change = adaptive minus plain, per seed; success = adversarial images kept (fooling the victim after "
        f"8-bit rounding) / attempted, in percent, mean ± std. {where}"
    )
    transfer_caption = (
        "AUC in percent of every detector (rows) on the sets made against each attacked detector "
        "(columns), seed for seed: the diagonal is the white-box number, the rest transfer. "
        f"{where}"
    )
    note = significance.footnote(stats.bootstrap, True) if stats else ""
    main = {latex: _main_frame(found, aucs, attack_sets, seeds, latex, stats) for latex in (False, True)}
    transfer = {latex: _transfer_frame(found, aucs, detectors, seeds, latex, stats) for latex in (False, True)}
    markdown = [
        tables.markdown(main[False], "Adaptive attacks", caption, note=note),
        tables.markdown(transfer[False], "Adaptive sets, every detector", transfer_caption, "##", note=note),
    ]
    latex = [
        tables.latex(main[True], caption, "tab:advbench-adaptive", note),
        tables.latex(transfer[True], transfer_caption, "tab:advbench-adaptive-transfer", note),
    ]
    write_text_atomic(out / f"{STEM}.md", "\n".join(markdown))
    write_text_atomic(out / f"{STEM}.tex", "\n".join(latex))
    return [out / f"{STEM}.md", out / f"{STEM}.tex"]
