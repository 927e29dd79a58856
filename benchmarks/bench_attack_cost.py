"""Seconds per image of attacks on a benchmark's default victim, through ``advbench generate-attacks``.

Runs ``generate-attacks`` in this process on the first ``--limit`` images the attacks start from
(GTSRB: the correctly classified test stop signs; MNIST and Fashion-MNIST: a class-stratified
sample of correctly classified test images, every class normal), with the shipped victim, into a
temporary folder, then reads each attack's seconds (the attack, its 8-bit rounding and re-check)
from the file and prints seconds per image and how many images each attack kept. The victim is
not trained (the shipped one fits the default settings) and is not timed.

    python benchmarks/bench_attack_cost.py --benchmark gtsrb --root ../shared/data/gtsrb --limit 8 \
        [--attacks jsma,square,hopskipjump] [--device cpu]
    python benchmarks/bench_attack_cost.py --benchmark mnist --root ../shared/data/mnist --limit 20
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ATTACKS = "jsma,square,hopskipjump"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="gtsrb", help="gtsrb, mnist or fashion-mnist (default: gtsrb)")
    parser.add_argument("--root", required=True, help="the benchmark's data folder (GTSRB root or IDX folder)")
    parser.add_argument("--limit", type=int, default=8, help="images attacked (default: 8)")
    parser.add_argument("--attacks", default=ATTACKS, help=f"attacks (default: {ATTACKS})")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    args = parser.parse_args()

    from advbench import cli
    from advbench.datasets.benchmark_file import read_benchmark

    root_flag = "--gtsrb-root" if args.benchmark == "gtsrb" else "--root"
    every_class = [] if args.benchmark == "gtsrb" else ["--normal-class", "all"]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "cost.h5"
        argv = ["generate-attacks", "--benchmark", args.benchmark, root_flag, args.root, *every_class]
        argv += ["--limit", str(args.limit), "--attacks", args.attacks, "--device", args.device]
        argv += ["--out", str(out), "--quiet"]
        start = time.perf_counter()
        if cli.main(argv) != 0:
            raise SystemExit("generate-attacks failed")
        total = time.perf_counter() - start
        bench = read_benchmark(out)
    print(f"{args.benchmark} ({bench.version}): {args.limit} images attacked; whole command {total:.0f} s")
    width = max(len(name) for name in bench.attacks)
    print(f"{'attack':<{width}} {'s per image':>12} {'kept':>10}")
    for name, attack in bench.attacks.items():
        seconds = attack.attrs["seconds"] / attack.attrs["attempted"]
        print(f"{name:<{width}} {seconds:>12.2f} {len(attack):>5} of {attack.attrs['attempted']}")


if __name__ == "__main__":
    main()
