"""The tables of an ``evaluate-adaptive`` folder (``verdicts.md``), read from its ``cells.jsonl``.

- Per cell (detector, seed, budget): plain PGD's AUC, the worst case's AUC, TPR at 5 % FPR and
  detection-aware robust accuracy at 5 % (with its interval) and 1 % FPR, the images it fooled,
  which member won how many images, and the checks. A flagged cell shows its flags beside every
  figure: it is never a plain number.
- Per detector and budget, over seeds: the mean robust accuracy at 5 % FPR, and the verdict by the
  rule ``verdict`` (stated in the table's caption and in ``docs/adaptive.md``).
- Transfer: robust accuracy at 5 % FPR of each detector on the worst-case images made against
  another, mean over seeds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from advbench.runs.adaptive_layout import CELLS

#: The verdict rule: a detector "holds" at a budget when no cell is flagged and the worst case's
#: robust accuracy at 5 % FPR is at least HOLDS on every seed, "falls" when no cell is flagged and
#: it is below HOLDS on every seed; otherwise (a flag, or seeds that disagree) "unknown".
HOLDS = 0.5


def read_cells(folder: Path) -> list[dict]:
    """The records of ``folder``'s ``cells.jsonl``, by detector, norm, budget and seed (seeds run in
    parallel processes append in the order they end)."""
    text = (Path(folder) / CELLS).read_text(encoding="utf-8")
    cells = [json.loads(line) for line in text.splitlines() if line.strip()]
    order = {name: index for index, name in enumerate(dict.fromkeys(cell["detector"] for cell in cells))}
    return sorted(cells, key=lambda cell: (order[cell["detector"]], cell["norm"], cell["eps"], cell["seed"]))


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _budget(eps: float, norm: str) -> str:
    levels = eps * 255
    return f"{norm} {round(levels)}/255" if norm == "linf" and abs(levels - round(levels)) < 1e-6 else f"{norm} {eps:g}"


def _flagged(text: str, flags: list[str]) -> str:
    return f"{text} (flagged: {', '.join(flags)})" if flags else text


def verdict(cells: list[dict]) -> str:
    """``holds``, ``falls`` or ``unknown`` for one detector's cells at one budget (``HOLDS``)."""
    if any(cell["flags"] for cell in cells):
        return "unknown"
    values = [cell["figures"]["worst"]["dara@5%"] for cell in cells]
    if all(value >= HOLDS for value in values):
        return "holds"
    return "falls" if all(value < HOLDS for value in values) else "unknown"


@dataclass(frozen=True)
class Table:
    """A table as text cells: its heading row and its rows (``markdown`` writes it; the site shows it)."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def markdown(self) -> str:
        lines = [self.head, ("---",) * len(self.head), *self.rows]
        return "\n".join(
            "| " + " | ".join(line) + " |" if line[0] != "---" else "|---" * len(line) + "|" for line in lines
        )


def cell_table(cells: list[dict]) -> Table:
    """One row per cell."""
    head = ("Detector", "Seed", "Budget", "Plain AUC", "Worst AUC", "Worst TPR@5%", "DARA@5% [95% CI]", "DARA@1%")
    rows = []
    for cell in cells:
        plain, worst = cell["figures"]["plain"], cell["figures"]["worst"]
        low, high = worst["dara@5% interval"]
        wins = ", ".join(f"{name} {count}" for name, count in cell["wins"].items() if count)
        dara = _flagged(f"{_pct(worst['dara@5%'])} [{_pct(low)}, {_pct(high)}]", cell["flags"])
        rows.append(
            (
                cell["detector"],
                str(cell["seed"]),
                _budget(cell["eps"], cell["norm"]),
                _pct(plain["auroc"]),
                _flagged(_pct(worst["auroc"]), cell["flags"]),
                _pct(worst["tpr@5%"]),
                dara,
                _pct(worst["dara@1%"]),
                f"{worst['fooled']}/{cell['attacked']}",
                wins or "-",
            )
        )
    return Table((*head, "Fooled", "Won by"), tuple(rows))


def member_table(cells: list[dict]) -> Table:
    """Each member's own figures in each cell: images fooled, AUC over them, DARA@5%, images won, seconds."""
    head = ("Detector", "Seed", "Budget", "Member", "Fooled", "AUC", "DARA@5%", "Won", "Seconds")
    rows = []
    for cell in cells:
        for name, member in cell["members"].items():
            rows.append(
                (
                    cell["detector"],
                    str(cell["seed"]),
                    _budget(cell["eps"], cell["norm"]),
                    name,
                    f"{member['fooled']}/{cell['attacked']}",
                    _pct(member.get("auroc")),
                    _pct(member["dara@5%"]),
                    str(cell["wins"].get(name, 0)),
                    f"{member['seconds']:.0f}",
                )
            )
    return Table(head, tuple(rows))


#: Each check and the figure its column shows.
CHECK_FIGURES = (("gradient", "share"), ("convergence", "dara@5%"), ("unbounded", "dara@5%"))


def _check(checks: dict, name: str, key: str) -> str:
    if name not in checks:
        return "not run"
    return f"{_pct(checks[name][key])}%" + (" **flagged**" if checks[name]["flagged"] else "")


def check_table(cells: list[dict]) -> Table:
    """The checks of every cell: their figures and whether each flagged."""
    head = ("Detector", "Seed", "Budget", "Zero/non-finite gradients", "More effort: DARA@5%", "Unbounded: DARA@5%")
    rows = tuple(
        (
            cell["detector"],
            str(cell["seed"]),
            _budget(cell["eps"], cell["norm"]),
            *(_check(cell["checks"], name, key) for name, key in CHECK_FIGURES),
        )
        for cell in cells
    )
    return Table(head, rows)


def summary_table(cells: list[dict]) -> Table:
    """Per detector and budget, means over seeds: plain PGD's AUC, fool-first PGD's, the worst case's,
    DARA@5% with its range, the images each member won (summed), and the verdict."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for cell in cells:
        groups[cell["detector"], cell["eps"], cell["norm"]].append(cell)
    head = ("Detector", "Budget", "Seeds", "Plain AUC", "Fool-first AUC", "Worst AUC", "DARA@5% (mean, range)")
    rows = []
    for (detector, eps, norm), group in groups.items():
        values = [cell["figures"]["worst"]["dara@5%"] for cell in group]
        flags = sorted({flag for cell in group for flag in cell["flags"]})
        dara = f"{_pct(_mean(values))} ({_pct(min(values))}-{_pct(max(values))})"
        wins: dict[str, int] = defaultdict(int)
        for cell in group:
            for name, count in cell["wins"].items():
                wins[name] += count
        won = ", ".join(f"{name} {count}" for name, count in sorted(wins.items(), key=lambda kv: -kv[1]) if count)
        rows.append(
            (
                detector,
                _budget(eps, norm),
                str(len(group)),
                _pct(_mean_of(group, "plain")),
                _pct(_mean_of(group, "fool-first-pgd")),
                _flagged(_pct(_mean_of(group, "worst")), flags),
                _flagged(dara, flags),
                won or "-",
                verdict(group),
            )
        )
    return Table((*head, "Won by", "Verdict"), tuple(rows))


def _mean_of(group: list[dict], name: str):
    """The mean AUC over the cells of ``group`` of ``plain``, ``worst`` or a member (None where none has one)."""
    found = [
        (cell["figures"][name] if name in cell["figures"] else cell["members"].get(name, {})).get("auroc")
        for cell in group
    ]
    return _mean([value for value in found if value is not None])


def _mean(values: list[float]):
    return sum(values) / len(values) if values else None


def transfer_tables(cells: list[dict]) -> list[tuple[str, Table]]:
    """Per budget: rows the detector attacked, columns the detector scoring; DARA@5%, mean over seeds."""
    attacked_names = list(dict.fromkeys(cell["detector"] for cell in cells))
    names = attacked_names + sorted({name for cell in cells for name in cell["transfer"]} - set(attacked_names))
    budgets = list(dict.fromkeys((cell["eps"], cell["norm"]) for cell in cells))
    tables = []
    for eps, norm in budgets:
        rows = []
        for attacked in attacked_names:
            group = [c for c in cells if c["detector"] == attacked and c["eps"] == eps and c["norm"] == norm]
            values = []
            for scorer in names:
                key = "dara@5%" if scorer == attacked else scorer
                found = [c["figures"]["worst"][key] if scorer == attacked else c["transfer"].get(key) for c in group]
                found = [value for value in found if value is not None]
                values.append(_pct(_mean(found)) if found else "-")
            rows.append((attacked, *values))
        tables.append((f"{_budget(eps, norm)}:", Table(("Attacked \\ Scored by", *names), tuple(rows))))
    return tables


def sections(cells: list[dict]) -> list[tuple[str, list[tuple[str, Table]]]]:
    """The tables of an evaluation, by section: (section title, [(caption, table)])."""
    return [
        ("Summary", [(SUMMARY_CAPTION, summary_table(cells))]),
        ("Every cell", [("", cell_table(cells))]),
        ("Each attack alone", [("", member_table(cells))]),
        ("Checks of the attack", [("", check_table(cells))]),
        (
            "Transfer (DARA@5% of the scoring detector on the images made against the attacked one)",
            transfer_tables(cells),
        ),
    ]


#: The opening paragraph of ``verdicts.md``.
INTRO = (
    "DARA: detection-aware robust accuracy, the share of attacked images that the victim still "
    "classifies correctly or the detector flags, the threshold set on the clean test images at that "
    "false-positive rate. AUC and TPR over the images that fool the victim. Worst: per image, the "
    "lowest-scoring fooling candidate of every attack. A flagged cell failed a check of the attack "
    "(below): its numbers are not a verdict."
)


#: The verdict rule, as the summary table's caption.
SUMMARY_CAPTION = (
    f"Verdict: holds when no cell is flagged and DARA@5% is at least {100 * HOLDS:.1f} % on every seed; falls "
    f"when no cell is flagged and it is below {100 * HOLDS:.1f} % on every seed; unknown otherwise."
)


def render(folder: Path) -> str:
    """``verdicts.md`` of an evaluation folder."""
    parts = ["# Detectors under the strongest attacks", INTRO]
    for title, tables in sections(read_cells(folder)):
        parts.append(f"## {title}")
        for caption, table in tables:
            parts += [caption, table.markdown()]
    return "\n\n".join(part for part in parts if part) + "\n"
