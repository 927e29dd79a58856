"""Seconds per image of each member of the strongest-attack ensemble (``advbench.attacks.strongest``).

Runs one cell of ``advbench evaluate-adaptive`` (one detector, seed 0, one budget, no checks) on the
first ``--images`` normal test images of a benchmark file, on ``--threads`` CPU threads, and prints
each member's seconds per image, the plain PGD's, and the ensemble's total per image and for the
whole cell. Every member runs (nothing is taken from the members kept beside the file). The checks
cost more, on the images still robust after the worst case only: ``convergence`` runs the members
that won an image again at twice the steps with two random starts (four times their cost per
image), ``unbounded`` once more at the ensemble's steps.

Usage: python benchmarks/bench_strongest.py FILE --detector victim-mahalanobis [--eps 8/255]
       [--images 270] [--steps 200] [--threads 1] [--gtsrb-root DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from advbench.attacks.variants import parse_value
from advbench.runs.adaptive_eval import AdaptiveConfig
from advbench.runs.evaluate_adaptive import CELLS, evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--detector", required=True)
    parser.add_argument("--eps", default="8/255")
    parser.add_argument("--images", type=int)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--gtsrb-root")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = AdaptiveConfig(
        data=args.file,
        detectors=(args.detector,),
        budgets=(float(parse_value(args.eps, "--eps")),),
        steps=args.steps,
        checks=(),
        images=args.images,
        gtsrb_root=args.gtsrb_root,
    )
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        evaluate(config, Path(folder) / "cell", "bench_strongest", log=lambda message: None, keep_members=False)
        total = time.perf_counter() - start
        (cell,) = [json.loads(line) for line in (Path(folder) / "cell" / CELLS).read_text().splitlines()]
    n = cell["attacked"]
    print(f"{args.detector}, {n} images, eps {args.eps}, {args.steps} steps, {args.threads} thread(s)")
    for name, member in cell["members"].items():
        print(f"  {name:<16} {member['seconds'] / n:8.3f} s/image  (fools {member['fooled']}/{n})")
    members = sum(member["seconds"] for member in cell["members"].values())
    print(f"  {'ensemble':<16} {members / n:8.3f} s/image, {members / 60:.1f} min for the cell")
    print(f"  whole cell with fitting and plain PGD: {total:.0f} s")


if __name__ == "__main__":
    main()
