"""Time one (normal class, seed) of each detector on MNIST or Fashion-MNIST, as ``advbench run`` computes it.

Each detector runs through the run loop's own ``pair.fit_and_score`` (same split, preprocessing, scoring
of the normal test images and the ``other-classes`` set, same thread setting: ``--threads``,
default 1, as ``advbench run``), in this process, one after the other. Prints per detector the
fit and score seconds, the whole pair's wall seconds and the AUC (reported, never used to choose
anything), then the total, and the estimate for a whole protocol: the sum over detectors times
the number of classes, divided by ``--jobs`` (the classes differ in size by up to 15%: MNIST's
digit 1 has 6,742 training images, digit 5 5,421). Scores files go to a temporary folder.

Usage: python benchmarks/bench_oneclass.py [--benchmark mnist] [--root DIR] [--protocol 2] [--class 0]
       [--seed 0] [--detectors all,ablation] [--profile default] [--threads 1] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from advbench import detectors
from advbench.datasets import registry
from advbench.runs import devices, pair, sources
from advbench.runs.config import detector_params
from advbench.runs.pair import PairTask

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--benchmark", default="mnist", choices=[name for name in registry.names() if registry.get(name).pairs_by_class]
    )
    parser.add_argument("--root", help="IDX folder (default: ../shared/data/<benchmark> beside the repository)")
    parser.add_argument("--protocol", default="2", choices=("1", "2"))
    parser.add_argument("--class", dest="normal_class", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--detectors", default="all,ablation")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--jobs", type=int, default=2, help="workers assumed by the whole-protocol estimate (default 2)"
    )
    args = parser.parse_args()
    root = Path(args.root or REPO.parent / "shared" / "data" / args.benchmark)
    devices.configure_process(args.threads, "cpu")
    source = sources.open_source(args.benchmark, root)
    total = 0.0
    print(
        f"{args.benchmark} protocol {args.protocol}, class {args.normal_class}, seed {args.seed}, "
        f"{args.threads} thread(s), profile {args.profile}"
    )
    print(f"{'detector':<22} {'fit s':>8} {'score s':>8} {'pair s':>8} {'AUC %':>7}")
    with tempfile.TemporaryDirectory() as out:
        for name in detectors.expand(args.detectors):
            task = {
                "benchmark": args.benchmark,
                "data": str(root),
                "data_sha256": source.sha256,
                "out": out,
                "attacks": None,
                "threads": args.threads,
                "profile": args.profile,
                "protocol": args.protocol,
                "versions": {},
                "detector": name,
                "seed": args.seed,
                "normal_class": args.normal_class,
                "config_hash": "",
                "params": detector_params(name, {}, args.seed, "cpu", args.profile, args.benchmark),
            }
            start = time.perf_counter()
            line = pair.fit_and_score(PairTask(**task))[0]
            seconds = time.perf_counter() - start
            total += seconds
            if line.error:
                print(f"{name:<22} FAILED: {line.error}")
                continue
            print(
                f"{name:<22} {line.fit_seconds:8.1f} {line.score_seconds:8.1f} {seconds:8.1f} {100 * line.auc:7.1f}",
                flush=True,
            )
    classes = len(source.classes)
    print(
        f"total {total:.0f} s; {classes} classes with --jobs {args.jobs}: "
        f"about {total * classes / args.jobs / 60:.0f} min"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
