"""Detection rate at a fixed false-positive rate, the metric of detection papers that publish no AUC.

For every detector (its default score) and attack set of a run folder, from the stored scores: the
true-positive rate at the point of the ROC curve (clean test images negative, the attack's
adversarial images positive) whose false-positive rate is the largest not above ``--fpr``
(``advbench.runs.detection_metrics.tpr_at_fpr``), averaged over the folder's seeds. It reads a
point of the same curve whose area the AUC tables give; nothing is fitted or chosen. Writes
``detection_rates.md`` beside the folder's tables: the rates of several FPRs in one file, means
only. ``advbench report --metrics tpr@5%,tpr@0.2%`` renders the same means as tables of their own,
with intervals and bold marks.

Usage: python analysis/detection_rates.py FOLDER [--fpr 0.05 ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from advbench.fileio import write_text_atomic
from advbench.reports.report import load_scores
from advbench.runs.detection_metrics import tpr_at_fpr
from advbench.runs.results import read_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--fpr", type=float, nargs="+", default=[0.05], help="false-positive rates (default: 0.05)")
    args = parser.parse_args()
    records = [r for r in read_results(args.folder) if r["error"] is None and "[" not in r["detector"]]
    detectors = list(dict.fromkeys(r["detector"] for r in records))
    attacks = list(dict.fromkeys(r["attack"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    scores = load_scores(args.folder, records)  # every pair's stored scores, read once
    lines = [
        "# Detection rate at a fixed false-positive rate",
        "",
        "True-positive rate (%) at the ROC point whose false-positive rate on the clean test images is the "
        "largest not above the given rate, mean over seeds " + ", ".join(map(str, seeds)) + "; written by "
        "`analysis/detection_rates.py` from the stored scores.",
    ]
    for fpr in args.fpr:
        lines += ["", f"## FPR <= {100 * fpr:g} %", "", "| detector | " + " | ".join(attacks) + " |"]
        lines.append("| --- |" + " ---: |" * len(attacks))
        for detector in detectors:
            cells = []
            for attack in attacks:
                rates = [
                    tpr_at_fpr(found["normal_test"], found["attacks"][attack], fpr)
                    for found in scores[detector].values()
                ]
                cells.append(f"{100 * np.mean(rates):.1f}" if rates else "")
            lines.append(f"| {detector} | " + " | ".join(cells) + " |")
    write_text_atomic(args.folder / "detection_rates.md", "\n".join(lines) + "\n")
    print(f"wrote {args.folder / 'detection_rates.md'}")


if __name__ == "__main__":
    main()
