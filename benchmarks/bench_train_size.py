"""How large a training sample the default detectors take: the default of ``--train-size``.

For each size, a class-stratified sample of the MNIST training split (``datasets.allclasses``, as
``generate-attacks --normal-class all`` draws it) trains each detector of ``--detectors`` (default:
the ``all`` group, ``advbench run``'s default) with the parameters a run of a benchmark file gives
it, on one CPU thread as ``advbench run`` runs a pair; it then scores ``--score`` test images (7,000:
1,000 clean test images and six attack sets of at most 1,000). Prints the fit + score seconds per
detector and size, the growth exponent between the two largest sizes (1: linear, 2: quadratic),
and from it each detector's projected seconds at ``--target`` images and the largest sample it
fits and scores within ``--budget`` seconds. Wall-clock seconds depend on other load on the
machine; the CPU-seconds column (process time, fit + score) much less.

    python benchmarks/bench_train_size.py [--root ../shared/data/mnist] [--sizes 1000,2000,4000]
        [--detectors all] [--score 7000] [--target 10000] [--budget 600] [--device cpu]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "mnist"), help="MNIST IDX files")
    parser.add_argument("--sizes", default="1000,2000,4000", help="training sample sizes (default: 1000,2000,4000)")
    parser.add_argument("--detectors", default="all", help="names or groups (default: all)")
    parser.add_argument("--score", type=int, default=7000, help="test images scored per fit (default: 7000)")
    parser.add_argument("--target", type=int, default=10_000, help="size to project to (default: 10000)")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per fit + score (default: 600)")
    parser.add_argument("--device", default="cpu", help="device of the deep detectors (default: cpu)")
    args = parser.parse_args()

    from advbench import detectors
    from advbench.datasets import allclasses, mnist
    from advbench.runs.config import detector_params
    from advbench.runs.devices import configure_process

    configure_process(1, args.device)
    data = mnist.load("mnist", args.root)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    test = data.test_images[np.resize(np.arange(len(data.test_labels)), args.score)]
    names = detectors.expand(args.detectors)
    print(f"fit on n class-stratified MNIST training images, score {args.score}; one thread; seconds (wall / CPU)")
    print(
        f"{'detector':<16}"
        + "".join(f"{f'n={n}':>18}" for n in sizes)
        + f"{'exponent':>10}{f'at {args.target}':>10}"
        + f"{'max n':>10}"
    )
    slowest = (0.0, "")
    for name in names:
        seconds = []
        cells = ""
        for n in sizes:
            rows = allclasses.stratified_rows(data.train_labels, n, seed=0, flag="--sizes")
            detector = detectors.create(name, **detector_params(name, {}, 0, args.device, "default"))
            wall, cpu = time.perf_counter(), time.process_time()
            detector.fit(data.train_images[rows])
            detector.decision_function(test)
            seconds.append(time.perf_counter() - wall)
            cells += f"{f'{seconds[-1]:.1f} / {time.process_time() - cpu:.1f}':>18}"
        exponent = math.log(seconds[-1] / seconds[-2]) / math.log(sizes[-1] / sizes[-2]) if len(sizes) > 1 else 1.0
        exponent = max(exponent, 1.0)  # fixed costs make small sizes look sub-linear; project at least linearly
        projected = seconds[-1] * (args.target / sizes[-1]) ** exponent
        largest = int(sizes[-1] * (args.budget / seconds[-1]) ** (1 / exponent))
        slowest = max(slowest, (projected, name))
        print(f"{name:<16}{cells}{exponent:>10.2f}{projected:>10.0f}{largest:>10}")
    print(f"slowest at {args.target}: {slowest[1]} ({slowest[0]:.0f} s projected; budget {args.budget:.0f} s)")


if __name__ == "__main__":
    main()
