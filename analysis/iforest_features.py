"""Isolation Forest on MNIST digits 0 and 1 (protocol 2) with and without GCN and PCA, seeds 0-2.

The diagnostic behind the README's IF paragraph: Deep SVDD's MNIST script for IF passes
``--gcn 1 --pca $pca`` with the PCA setting given per experiment and not recorded, so which
features its published numbers used is unknown. Prints the AUC per seed for each feature choice.
A diagnostic on test data: the run's IF keeps its default features (no PCA).

Usage: python analysis/iforest_features.py [--root DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from advbench import detectors
from advbench.datasets import mnist, oneclass
from advbench.runs.devices import configure_process
from advbench.runs.metrics import roc_auc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
    args = parser.parse_args()
    configure_process(1, "cpu")
    data = mnist.load("mnist", args.root)
    print("| normal class | gcn | pca | AUC seed 0 | seed 1 | seed 2 |")
    print("| ---: | --- | --- | ---: | ---: | ---: |")
    for digit in (0, 1):
        split = oneclass.split(data, "2", digit, 0)
        anomalies = split.anomalies[oneclass.OTHER_CLASSES].images
        for gcn, pca in ((True, None), (True, 0.95), (False, None), (False, 0.95)):
            aucs = []
            for seed in range(3):
                detector = detectors.create("iforest", gcn=gcn, pca=pca, random_state=seed).fit(split.train)
                aucs.append(roc_auc(detector.decision_function(split.test), detector.decision_function(anomalies)))
            print(f"| {digit} | {gcn} | {pca} | " + " | ".join(f"{100 * a:.1f}" for a in aucs) + " |", flush=True)


if __name__ == "__main__":
    main()
