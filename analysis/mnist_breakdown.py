"""Where the one-class AUCs of a run folder come from: per anomaly class, and against the ink.

For every finished (detector, normal class) of seed 0 of a protocol-2 folder, from its stored
scores and the IDX labels: the AUC of the normal class's test images against each other class's
test images alone, and the Spearman correlation between the score and the image's mean pixel
value (its amount of ink) over the whole test split. "ink" is that mean pixel value used as the
score itself (more ink = more anomalous), a detector that looks at nothing else.
Writes ``breakdown.md`` beside the folder's tables; reads nothing but the folder and the data.

Usage: python analysis/mnist_breakdown.py FOLDER [--root DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from advbench.datasets import mnist
from advbench.fileio import write_text_atomic
from advbench.runs.metrics import roc_auc
from advbench.runs.results import read_results, read_scores, scores_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
    args = parser.parse_args()
    records = [r for r in read_results(args.folder) if r["error"] is None and r["seed"] == 0]
    data = mnist.load(records[0]["benchmark"], args.root)
    labels, ink = data.test_labels, data.test_images.reshape(len(data.test_labels), -1).mean(axis=1)
    detectors = list(dict.fromkeys(r["detector"] for r in records))
    classes = sorted({r["normal_class"] for r in records})
    lines = [
        "# Per anomaly class, seed 0",
        "",
        "AUC (%) of the normal class's test images against each other class's test images; `rho ink`: Spearman "
        "correlation of the score with the image's mean pixel value over the whole test split; `ink` row: that "
        "mean pixel value as the score. Written by `analysis/mnist_breakdown.py` from the stored scores.",
        "",
    ]
    for c in classes:
        others = [k for k in range(10) if k != c]
        lines += [
            f"## Normal class {c}",
            "",
            "| detector | " + " | ".join(map(str, others)) + " | all | rho ink |",
            "| --- |" + " ---: |" * (len(others) + 2),
        ]
        rows = {"ink": np.r_[ink[labels == c], ink[labels != c]]}
        for d in detectors:
            path = scores_path(args.folder, d, 0, c)
            if path.is_file():
                stored = read_scores(path)
                rows[d] = np.r_[stored["normal_test"], stored["attacks"]["other-classes"]]
        order = np.r_[np.flatnonzero(labels == c), np.flatnonzero(labels != c)]
        for name, scores in rows.items():
            normal = scores[: (labels == c).sum()]
            cells = [f"{100 * roc_auc(normal, scores[labels[order] == k]):.1f}" for k in others]
            rho = spearmanr(scores, ink[order]).statistic
            lines.append(
                f"| {name} | "
                + " | ".join(cells)
                + f" | {100 * roc_auc(normal, scores[len(normal) :]):.1f} | {rho:+.2f} |"
            )
        lines.append("")
    write_text_atomic(args.folder / "breakdown.md", "\n".join(lines))
    print(f"wrote {args.folder / 'breakdown.md'}")


if __name__ == "__main__":
    main()
