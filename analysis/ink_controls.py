"""Control fits behind the ink explanation of the dual-adversarial detector's MNIST numbers.

Protocol 2, seed 0, one thread, on the real MNIST files: a detector as the run builds it, the
same without augmentation (``hflip=False, crop_padding=0``), and the same on inputs that went
through Deep SVDD's preprocessing first (GCN-l1, then min-max scaling fitted on the training
images; test images clipped to [0, 1], which the detector's input check requires). Prints the AUC
against all other digits and against digit 1 alone, and the Spearman correlation of the score
with the image's mean pixel value. A diagnostic on test data: nothing here sets a default.

Usage: python analysis/ink_controls.py [--detector ablation-single-ae] [--classes 0]
       [--variants "as run,no augmentation,GCN + min-max inputs"] [--root DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from advbench import detectors
from advbench.datasets import mnist, oneclass
from advbench.detectors.preprocessing import ImagePreprocessor
from advbench.runs.devices import configure_process
from advbench.runs.metrics import roc_auc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="ablation-single-ae")
    parser.add_argument("--classes", default="0")
    parser.add_argument("--variants", default="as run,no augmentation,GCN + min-max inputs")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
    args = parser.parse_args()
    configure_process(1, "cpu")
    data = mnist.load("mnist", args.root)
    print("| detector | normal class | variant | AUC all | AUC vs 1 | rho ink | fit s |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for c in (int(v) for v in args.classes.split(",")):
        split = oneclass.split(data, "2", c, 0)
        test = np.r_[split.test, split.anomalies["other-classes"].images]
        labels = np.r_[np.full(len(split.test), c), data.test_labels[split.rows["anomaly_rows"]]]
        gcn = ImagePreprocessor(gcn=True, scaling="minmax").fit(split.train.astype(np.float32) / 255)
        prepared = {
            "as run": (split.train, test),
            "no augmentation": (split.train, test),
            "GCN + min-max inputs": tuple(
                np.clip(gcn.transform(x.astype(np.float32) / 255), 0, 1) for x in (split.train, test)
            ),
        }
        for variant in args.variants.split(","):
            train, scored = prepared[variant]
            extra = {"hflip": False, "crop_padding": 0} if variant == "no augmentation" else {}
            start = time.perf_counter()
            detector = detectors.create(args.detector, random_state=0, device="cpu", **extra).fit(train)
            seconds = time.perf_counter() - start
            scores = detector.decision_function(scored)
            normal, anomalies = scores[labels == c], scores[labels != c]
            versus_one = roc_auc(normal, scores[labels == 1]) if c != 1 else float("nan")
            rho = spearmanr(scores, test.reshape(len(test), -1).mean(axis=1)).statistic
            auc, one = 100 * roc_auc(normal, anomalies), 100 * versus_one
            print(
                f"| {args.detector} | {c} | {variant} | {auc:.1f} | {one:.1f} | {rho:+.2f} | {seconds:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
