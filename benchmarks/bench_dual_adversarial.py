"""Time the dual-adversarial detector and its Table 1 ablations on the real GTSRB stop signs.

Trains each variant with its defaults on the 780 clean training stop signs and prints the total
and per-epoch training time, the per-epoch mean losses (``history_``, the data of the paper's
Figure 4), and the AUC of each anomaly set against the 270 clean test stop signs. The anomaly
sets are those of ``bench_detectors.load_sets``: the attacks of a benchmark file (``--data``),
or Gaussian-noise copies of the clean test images. The AUCs are reported only; nothing is
chosen by them.

Usage: python benchmarks/bench_dual_adversarial.py [--gtsrb-root DIR] [--detectors a,b] [--seed N] [--data FILE]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from bench_detectors import deep_params, prepare, score_sets  # the sibling script; its folder is on sys.path

from advbench import detectors

VARIANTS = "ablation-single-ae,ablation-single-ae-d,ablation-dual-ae-d,dual-adversarial"


def run_variant(name: str, args, train, test, anomalies) -> None:
    det = detectors.create(name, random_state=args.seed, **deep_params(name, args))
    start = time.perf_counter()
    det.fit(train)
    fit_s = time.perf_counter() - start
    epochs = [row["time_s"] for row in det.history_]
    start = time.perf_counter()
    aucs = score_sets(det, test, anomalies)
    score_s = time.perf_counter() - start
    print(f"\n== {name} (seed {args.seed}, {len(epochs)} epochs)")
    print(
        f"fit {fit_s:.1f} s; per epoch mean {np.mean(epochs):.2f} s (min {min(epochs):.2f}, max {max(epochs):.2f});"
        f" scoring {score_s:.1f} s"
    )
    history = pd.DataFrame(det.history_).set_index("epoch").dropna(axis=1, how="all")
    print(history.to_string(float_format=lambda v: f"{v:.3f}"))
    for attack, auc in aucs.items():
        print(f"AUC {attack:<16} {auc:.3f}")


def main(argv=None) -> int:
    args, variants, train, test, anomalies = prepare(__doc__.splitlines()[0], VARIANTS, argv)
    print(
        f"{len(train)} training images, {len(test)} clean test images; anomaly sets: "
        + ", ".join(f"{name} ({len(images)})" for name, images in anomalies.items())
    )
    for name in variants:
        run_variant(name, args, train, test, anomalies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
