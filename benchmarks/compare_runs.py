"""Compare every AUC of two run folders of the same data and seeds (``benchmarks/gpu_check.sh``: a
GPU run against the CPU run of the same seed).

Matches the result lines of the two folders by (detector, seed, attack) and prints, per detector,
the largest absolute difference of its unpaired, paired and matched AUCs (in AUC points, 0-100),
its fit seconds in each folder, and a last line with the largest difference of all. Exit status
1 when a line of one folder has no partner in the other or either failed. With ``--cells POINTS``
it prints instead, as a Markdown table, every (detector, attack) whose AUC, mean over the seeds of
both folders, moved by more than POINTS (a republished folder against the one it replaces).

    python benchmarks/compare_runs.py RUN_A RUN_B [--cells 1.0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

AUCS = ("auc", "paired_auc", "matched_auc")


def compare(first: list[dict], second: list[dict]) -> tuple[dict[str, dict], list[str]]:
    """Per detector: the largest absolute AUC difference (points) and the fit seconds of each side;
    and the problems (unmatched or failed lines)."""
    key = lambda line: (line["detector"], line["seed"], line["attack"])  # noqa: E731
    a, b = {key(line): line for line in first}, {key(line): line for line in second}
    problems = [f"{k}: only in the first folder" for k in a.keys() - b.keys()]
    problems += [f"{k}: only in the second folder" for k in b.keys() - a.keys()]
    rows: dict[str, dict] = {}
    for k in sorted(a.keys() & b.keys(), key=str):
        left, right = a[k], b[k]
        if left["error"] or right["error"]:
            problems.append(f"{k}: failed ({left['error'] or right['error']})")
            continue
        row = rows.setdefault(k[0], {"max_diff": 0.0, "fit_a": left["fit_seconds"], "fit_b": right["fit_seconds"]})
        for metric in AUCS:
            if left[metric] is not None and right[metric] is not None:
                row["max_diff"] = max(row["max_diff"], 100 * abs(left[metric] - right[metric]))
    return rows, problems


def moved_cells(first: list[dict], second: list[dict], points: float) -> list[tuple[str, str, float, float]]:
    """(detector, attack, mean AUC in ``first``, in ``second``), in points, for every pair of both
    folders whose mean over seeds moved by more than ``points``."""
    means = []
    for lines in (first, second):
        found: dict[tuple[str, str], list[float]] = {}
        for line in lines:
            if not line["error"] and line["auc"] is not None:
                found.setdefault((line["detector"], line["attack"]), []).append(100 * line["auc"])
        means.append({key: sum(values) / len(values) for key, values in found.items()})
    a, b = means
    return [(*key, a[key], b[key]) for key in a if key in b and abs(a[key] - b[key]) > points]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--cells", type=float, metavar="POINTS", help="list the cells that moved by more")
    args = parser.parse_args()

    from advbench.runs.results import read_results

    if args.cells is not None:
        print(f"| Detector | Attack | {args.first.name} | {args.second.name} | Change |\n|---|---|---:|---:|---:|")
        for detector, attack, a, b in moved_cells(read_results(args.first), read_results(args.second), args.cells):
            print(f"| {detector} | {attack} | {a:.1f} | {b:.1f} | {b - a:+.1f} |")
        return 0

    rows, problems = compare(read_results(args.first), read_results(args.second))
    width = max([8, *map(len, rows)])
    print(
        f"{'detector':<{width}} {'max |AUC diff| (points)':>24} {'fit s (' + args.first.name + ')':>30} "
        f"{'fit s (' + args.second.name + ')':>30}"
    )
    for name, row in rows.items():
        print(f"{name:<{width}} {row['max_diff']:>24.4f} {row['fit_a']:>30.1f} {row['fit_b']:>30.1f}")
    overall = max((row["max_diff"] for row in rows.values()), default=0.0)
    print(f"largest |AUC difference| over {len(rows)} detectors: {overall:.4f} points")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
