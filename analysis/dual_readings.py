"""The readings study's tables and its selection, computed from the run folders of
``reports/dual-readings/`` by the rule in its README.md.

For each reading folder under ``gtsrb/``, ``mnist-p2/`` and ``fashion-p1/`` (one folder per
reading, named after its TOML in ``readings/``), and for the score decomposition's folder under
``decomposition/``, from the finished result lines of the four ablation rows:

- the unpaired AUC (%) of each row's ``paper`` score, averaged over the attacks (GTSRB) or the
  normal classes (MNIST, Fashion-MNIST) and the seeds, with the number of (seed, attack or
  class) cells behind it;
- whether the rows come in the paper's ablation order (single AE < + D < dual + D < full);
- the ranking of the GTSRB readings by the full detector's mean (the selection rule), with the
  rule's ties: two readings whose means are within ``TIE`` (0.1) points of each other rank in the
  order the README's design table lists them (``LISTED``);
- which one-factor readings helped (at least ``HELPED`` points above ``literal`` on the full
  detector), the factors the combined reading must join;
- every score variant's AUC per row and reading (the decomposition).

Only complete readings are ranked: a GTSRB reading needs every (row, seed 0-2, attack) line.
Writes that folder's ``results.md``; reads nothing but the run folders.

Usage: python analysis/dual_readings.py
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from advbench.fileio import write_text_atomic
from advbench.runs.results import read_results
from advbench.score_variants import split_variant

HERE = Path(__file__).resolve().parents[1] / "reports" / "dual-readings"
ROWS = ("ablation-single-ae", "ablation-single-ae-d", "ablation-dual-ae-d", "dual-adversarial")
ROW_LABELS = ("single AE", "single AE + D", "dual AE + D", "full")
#: The paper's AUCs (%) per row and the table they come from: Table 1's ablation (the order the rows
#: should come in) and, for Fashion-MNIST protocol 1, Table 2's full detector only (no ablation there).
PAPER = {
    "gtsrb": ("Table 1", (19.4, 40.3, 89.4, 92.1)),
    "mnist-p2": ("Table 1", (51.0, 53.1, 97.2, 98.5)),
    "fashion-p1": ("Table 2", (None, None, None, 99.5)),
}
PAPER["gtsrb-97ec5985"] = PAPER["decomposition"] = PAPER["gtsrb"]
#: Benchmarks of the study: folder -> (title, seeds of a complete reading, (normal class, attack) cases per seed).
BENCHMARKS = {
    "gtsrb": ("GTSRB stop signs, official protocol, seeds 0-2 (selection)", (0, 1, 2), 4),
    "gtsrb-97ec5985": (
        "GTSRB stop signs, the default file rebuilt again (sha256 97ec5985d0c9), official protocol, seeds 0-2",
        (0, 1, 2),
        4,
    ),
    "decomposition": (
        "GTSRB stop signs, the detector's defaults, seeds 0-9 (the score decomposition)",
        tuple(range(10)),
        4,
    ),
    "mnist-p2": ("MNIST protocol 2, ten digits, seed 0 (confirmation)", (0,), 10),
    "fashion-p1": ("Fashion-MNIST protocol 1, ten classes, seed 0 (confirmation)", (0,), 10),
}
#: A one-factor reading helped when its full detector gains at least this many AUC points over ``literal``.
HELPED = 1.0
#: Rule 2's ties: means within this many AUC points of each other tie, and the reading listed first wins.
TIE = 0.1
#: The readings in the order of the README's design table (rule 2: a tie goes to the reading listed first).
LISTED = (
    "literal",
    "no-augmentation",
    "gcn-minmax",
    "dprime-bn-gx",
    "dprime-bn-training",
    "mi-mean",
    "began-k",
    "lr-cosine",
    "mean-reweighted",
    "no-dual-g-loss",
    "zrec-trains-aux",
    "combined",
)


def cells(folder: Path) -> dict[tuple[str, str], dict[tuple[int, str, str], float]]:
    """AUC (%) per (row, variant), keyed by (seed, normal class, attack), from the folder's finished lines."""
    table: dict[tuple[str, str], dict] = defaultdict(dict)
    for line in read_results(folder):
        if line["error"] is not None:
            continue
        row, variant = split_variant(line["detector"])
        if row in ROWS:
            table[row, variant][line["seed"], str(line["normal_class"]), line["attack"]] = 100 * line["auc"]
    return table


def complete(table: dict, seeds: tuple[int, ...], cases: set[tuple[str, str]], size: int) -> bool:
    """Whether every row has its ``paper`` AUC for every seed and (normal class, attack) of the benchmark."""
    needed = {(s, *case) for s in seeds for case in cases}
    return len(cases) == size and all(needed <= set(table.get((row, "paper"), {})) for row in ROWS)


def means(table: dict, variant: str = "paper") -> list[float | None]:
    return [float(np.mean(list(table[row, variant].values()))) if (row, variant) in table else None for row in ROWS]


def ordered(values: list[float | None]) -> bool:
    return None not in values and all(a < b for a, b in zip(values, values[1:], strict=False))


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def benchmark_section(key: str) -> tuple[list[str], dict[str, list]]:
    title, seeds, size = BENCHMARKS[key]
    folders = sorted(p for p in (HERE / key).glob("*") if (p / "results.jsonl").is_file())
    tables = {p.name: cells(p) for p in folders}
    cases = {key[1:] for t in tables.values() for cell in t.values() for key in cell}
    lines = [f"## {title}", "", "| reading | " + " | ".join(ROW_LABELS) + " | paper's order | cells |"]
    lines.append("| --- |" + " ---: |" * len(ROWS) + " :---: | ---: |")
    found = {}
    for name, table in tables.items():
        values = means(table)
        done = complete(table, seeds, cases, size)
        found[name] = values if done else None
        n = len(table.get(("dual-adversarial", "paper"), {}))
        label = name if done else f"{name} (incomplete)"
        lines.append(
            f"| {label} | " + " | ".join(map(fmt, values)) + f" | {'yes' if ordered(values) else 'no'} | {n} |"
        )
    if key in PAPER:
        table, values = PAPER[key]
        order = "yes" if ordered(list(values)) else ""
        lines.append(f"| *paper, {table}* | " + " | ".join(map(fmt, values)) + f" | {order} | |")
    lines += ["", "Decomposition: every score variant's mean AUC (%) per row.", ""]
    variants = sorted({v for t in tables.values() for _, v in t}, key=lambda v: (v != "paper", v))
    lines += ["| reading | row | " + " | ".join(variants) + " |", "| --- | --- |" + " ---: |" * len(variants)]
    for name, table in tables.items():
        for row, label in zip(ROWS, ROW_LABELS, strict=True):
            lines.append(
                f"| {name} | {label} | " + " | ".join(fmt(means(table, v)[ROWS.index(row)]) for v in variants) + " |"
            )
    return lines + [""], found


def listed(name: str) -> int:
    """A reading's place in the README's design table (readings it does not list come after, by name)."""
    return LISTED.index(name) if name in LISTED else len(LISTED)


def rank(means_by_name: dict[str, float]) -> list[tuple[float, str]]:
    """(mean, reading) pairs by rule 2: highest mean first; of two neighbours within ``TIE`` points, the one listed
    first.

    Sorted by mean, then adjacent tied pairs are swapped into listing order until none is left, so a
    tie only reorders readings next to each other in the ranking.
    """
    ranked = sorted(((v, n) for n, v in means_by_name.items()), key=lambda vn: (-vn[0], listed(vn[1]), vn[1]))
    swapped = True
    while swapped:
        swapped = False
        for i in range(len(ranked) - 1):
            (a, first), (b, second) = ranked[i], ranked[i + 1]
            if abs(a - b) <= TIE + 1e-9 and listed(second) < listed(first):
                ranked[i], ranked[i + 1] = ranked[i + 1], ranked[i]
                swapped = True
    return ranked


def selection(found: dict[str, list | None], rebuilt: dict[str, list | None]) -> list[str]:
    """The ranking of the one-factor readings, then ``combined`` against it by the gain over ``literal``.

    ``combined`` ran on the rebuilt file beside ``literal`` (``gtsrb-97ec5985/``), so it is compared
    with the one-factor readings by its full detector's gain over ``literal`` on the same file.
    """
    ranked = rank({n: v[-1] for n, v in found.items() if v is not None})
    lines = ["## Selection (GTSRB, the rule of README.md)", ""]
    if not ranked:
        return lines + ["No reading is complete yet.", ""]
    lines += ["| rank | reading | full detector | gain over literal | helped |", "| ---: | --- | ---: | ---: | :---: |"]
    literal = found.get("literal")
    for place, (value, name) in enumerate(ranked, 1):
        gain = None if literal is None else value - literal[-1]
        helped = gain is not None and name not in ("literal", "combined") and gain >= HELPED
        lines.append(f"| {place} | {name} | {value:.1f} | {fmt(gain)} | {'yes' if helped else ''} |")
    ties = [
        f"`{a}` ({va:.2f}) above `{b}` ({vb:.2f})"
        for (va, a), (vb, b) in zip(ranked, ranked[1:], strict=False)
        if abs(va - vb) <= TIE + 1e-9
    ]
    if ties:
        rule = f"Ties of rule 2 (means within {TIE} points; listed first in README.md, ranked first): "
        lines += ["", rule + "; ".join(ties) + "."]
    top = ranked[0][1]
    if literal is not None and rebuilt.get("combined") is not None and rebuilt.get("literal") is not None:
        gain = rebuilt["combined"][-1] - rebuilt["literal"][-1]
        best = ranked[0][0] - literal[-1]
        top = "combined" if gain > best else top
        lines += [
            "",
            f"`combined` on the rebuilt file, beside `literal` (`gtsrb-97ec5985/`): full detector "
            f"{rebuilt['combined'][-1]:.1f} against {rebuilt['literal'][-1]:.1f}, a gain of {gain:.1f} points "
            f"against the top one-factor reading's {best:.1f}.",
        ]
    lines += ["", f"Top reading: `{top}` (selected on GTSRB test AUCs: optimistic).", ""]
    return lines


def main() -> None:
    lines = [
        "# Readings study: results",
        "",
        "Written by `analysis/dual_readings.py` from the run folders; unpaired AUC (%) of each row's `paper` score, "
        "mean over attacks (GTSRB) or normal classes and seeds. The design and the rule are in README.md.",
        "",
    ]
    found = {}
    for key in BENCHMARKS:
        if any((HERE / key).glob("*/results.jsonl")):
            section, found[key] = benchmark_section(key)
            lines += section
    if "gtsrb" in found:
        lines += selection(found["gtsrb"], found.get("gtsrb-97ec5985", {}))
    write_text_atomic(HERE / "results.md", "\n".join(lines))


if __name__ == "__main__":
    main()
