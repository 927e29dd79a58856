"""The feature-space attack on deep Mahalanobis at several step sizes: is its step what keeps it weak?

``evaluate-adaptive``'s feature-space member takes Madry et al.'s step rule, ``2.5 * eps / steps``
(``advbench.attacks.feature_space``). This script runs that member alone on a benchmark file's
normal test images against deep Mahalanobis, fitted and cached as ``evaluate-adaptive`` fits it,
at each step size of ``--alphas`` (fractions of ``eps``; the same steps, start and seed), and
prints per step size the images it makes fool the victim, the AUC over them, and the
detection-aware robust accuracy at 5 % FPR. It is a diagnostic on the test images: a step size
that does better here is selected on them, so no evaluation takes it from this table.

Usage: python analysis/feature_space_step.py FILE [--gtsrb-root DIR] [--seed 0] [--eps 8/255]
       [--steps 200] [--alphas 0.0125,0.1,0.25]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--gtsrb-root")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eps", default="8/255")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--alphas", default="0.0125,0.1,0.25", help="step sizes as fractions of eps")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from advbench import detectors
    from advbench.attacks.adaptive import DetectorCache
    from advbench.attacks.feature_space import FeatureSpaceAttack
    from advbench.attacks.strongest import scored
    from advbench.attacks.variants import parse_value
    from advbench.runs import victim_inputs
    from advbench.runs.adaptive_eval import AdaptiveConfig
    from advbench.runs.evaluate_adaptive import _inputs
    from advbench.runs.metrics import roc_auc
    from advbench.runs.robust_accuracy import robust_accuracy

    name = "victim-mahalanobis"
    eps = float(parse_value(args.eps, "--eps"))
    config = AdaptiveConfig(data=args.file, detectors=(name,), gtsrb_root=args.gtsrb_root)
    source, inputs, images, labels = _inputs(config, None)
    model = victim_inputs.given(inputs, ("victim",))["victim"].on("cpu").model.eval()
    cache = DetectorCache(Path(args.file).parent, source.benchmark, torch.device("cpu"))
    uses = victim_inputs.given(inputs, detectors.needs(detectors.create(name)))
    detector, _ = cache.fitted(name, args.seed, source.bench.normal_train, uses)
    clean = np.asarray(detector.decision_function(np.round(images.numpy() * 255).astype(np.uint8)), np.float64)
    print(f"{name}, seed {args.seed}, eps {args.eps}, {args.steps} steps, {len(images)} images\n")
    print("| Step (x eps) | Fooled | AUC | DARA@5% | Seconds |\n|---|---|---|---|---|")
    for fraction in (float(word) for word in args.alphas.split(",")):
        start = time.perf_counter()
        attack = FeatureSpaceAttack(model, detector, eps=eps, steps=args.steps, seed=args.seed, alpha=fraction * eps)
        found = scored(model, detector, attack(images, labels), labels, start)
        auc = roc_auc(clean, found.scores[found.fooled]) if found.fooled.any() else float("nan")
        dara = robust_accuracy(clean, found.scores, found.fooled, 0.05)
        print(
            f"| {fraction:g} | {int(found.fooled.sum())}/{len(images)} | {100 * auc:.1f} | {100 * dara:.1f} | "
            f"{found.seconds:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
