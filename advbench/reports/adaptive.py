"""The adaptive-attack tables: each detector against plain PGD and against PGD made to evade it.

A detector-aware set (family ``pgd-adaptive``, ``advbench.attacks.adaptive``) was made against
one detector fitted with one seed. Its white-box number is the AUC of that detector *with that
seed* on it; the plain number is the same detector and seed on the plain PGD set of the same
budget and steps. ``adaptive_table`` has one row per attacked detector and plain variant: both
AUCs (mean ± sample std over the seeds that have a set), their difference (mean and std of the
per-seed differences) and the attack success rates (images kept / attempted, mean over those
seeds). A second table gives every detector's AUC on each attacked detector's sets (same seed
pairing): off the diagonal these are transfer numbers, which is how detectors without a
differentiable score (OC-SVM, KDE, IF, Mahalanobis, PyOD) are evaluated here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advbench.attacks import ADAPTIVE_FAMILY
from advbench.fileio import write_text_atomic
from advbench.reports import tables

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


def _stat(values: list[float], pm: str = "±") -> str:
    """Mean ± sample std in percent, as every table's cells (``tables.cell_text``)."""
    return tables.cell_text(tables.Cell(values=list(values), expected=len(values)), pm=pm)


def _rate(info: dict) -> float | None:
    return info["count"] / info["attempted"] if info.get("attempted") else None


def _main_frame(found, aucs, attack_sets, seeds, latex: bool) -> pd.DataFrame:
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
        rows.append(
            {
                "Detector": detector,
                "Attack set": plain,
                "Seeds": ", ".join(map(str, used)) or "-",
                "AUC plain": _stat(plain_aucs, pm=pm),
                "AUC adaptive": _stat(adaptive_aucs, pm=pm),
                "Change": _stat([a - p for a, p in zip(adaptive_aucs, plain_aucs, strict=True)], pm=pm),
                "Success plain": "-" if plain_rate is None else f"{100 * plain_rate:.1f}",
                "Success adaptive": _stat([r for r in rates if r is not None], pm=pm),
            }
        )
    return pd.DataFrame(rows)


def _transfer_frame(found, aucs, detectors: list[str], seeds, latex: bool) -> pd.DataFrame:
    pm = r"$\pm$" if latex else "±"
    columns = {"Detector": detectors}
    for (attacked, plain), by_seed in found.items():
        label = f"vs {attacked} ({tables.attack_label(plain)})"
        columns[label] = [
            _stat(
                [aucs[d, s, name] for s, name in sorted(by_seed.items()) if s in seeds and (d, s, name) in aucs], pm=pm
            )
            for d in detectors
        ]
    return pd.DataFrame(columns)


def render(
    out: Path,
    records: list[dict],
    detectors: list[str],
    seeds: list[int],
    attack_sets: dict,
    attacks: list[str],
    where: str,
) -> list[Path]:
    """Write ``adaptive_table.md``/``.tex`` when the run has detector-aware sets; return the paths."""
    found = adaptive_sets(attack_sets, attacks)
    if not found:
        return []
    aucs = _aucs(records)
    caption = (
        "AUC in percent of each attacked detector against plain PGD and against PGD made to evade it "
        "(same budget and steps; the detector fitted with the same seed as the one attacked), mean and sample "
        "standard deviation over the seeds listed; change = adaptive minus plain, per seed; success = adversarial "
        f"images kept (fooling the victim after 8-bit rounding) / attempted, in percent. {where}"
    )
    transfer_caption = (
        "AUC in percent of every detector (rows) on the sets made against each attacked detector "
        "(columns), seed for seed: the diagonal is the white-box number, the rest transfer. "
        f"{where}"
    )
    markdown = [
        tables.markdown(_main_frame(found, aucs, attack_sets, seeds, False), "Adaptive attacks", caption),
        tables.markdown(
            _transfer_frame(found, aucs, detectors, seeds, False),
            "Adaptive sets, every detector",
            transfer_caption,
            "##",
        ),
    ]
    latex = [
        tables.latex(_main_frame(found, aucs, attack_sets, seeds, True), caption, "tab:advbench-adaptive"),
        tables.latex(
            _transfer_frame(found, aucs, detectors, seeds, True), transfer_caption, "tab:advbench-adaptive-transfer"
        ),
    ]
    write_text_atomic(out / f"{STEM}.md", "\n".join(markdown))
    write_text_atomic(out / f"{STEM}.tex", "\n".join(latex))
    return [out / f"{STEM}.md", out / f"{STEM}.tex"]
