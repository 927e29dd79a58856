"""What scoring every score variant costs beside scoring the detector's own score alone (dual family).

For each detector (default: the dual-adversarial detector and its Table 1 presets), fits it once
(``--epochs``, default 1: the networks' size, not their training, sets the scoring time) and
times scoring what a pair of ``advbench run`` scores: the training images (scored by ``fit``), the
clean test images and every anomaly set,

- ``paper``: with ``decision_function`` (what a pair scored before score variants);
- ``all``: with ``score_variants`` (every variant from one pass per batch; what a pair scores now).

Each timing is the median of ``--repeats`` rounds (the two orders alternate), with ``--threads 1``
as ``advbench run`` uses. The ratio ``all / paper`` is printed; it should stay below 2.

Data, the first that exists: the attacks of a benchmark file (``--data``, from ``advbench
generate-attacks``: 780 training, 270 test stop signs, four attacks); the real GTSRB stop signs
(``--gtsrb-root``, default ``../shared/data/gtsrb``) with four Gaussian-noise copies of the 270 test
images (sigma 4, 8, 16, 32 in 1/255); else (or with ``--synthetic``) random smooth images of the
same sizes. AUCs are not computed: nothing here looks at how well a variant detects.

Usage: python benchmarks/bench_score_variants.py [--data FILE] [--gtsrb-root DIR] [--synthetic]
       [--detectors a,b] [--epochs N] [--repeats N] [--seed N] [--threads N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from bench_detectors import build_parser  # the sibling script; its folder is on sys.path

from advbench import detectors
from advbench.runs.devices import configure_process

PRESETS = "dual-adversarial,ablation-dual-ae-d,ablation-single-ae-d,ablation-single-ae"
SIGMAS = (4, 8, 16, 32)


def synthetic(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` smooth random 3 x 32 x 32 uint8 images (a coloured blob on a background)."""
    yy, xx = np.mgrid[0:32, 0:32]
    centre = rng.uniform(8, 24, (n, 2))
    width = rng.uniform(4, 9, n)
    blob = np.exp(
        -((yy - centre[:, :1, None]) ** 2 + (xx - centre[:, 1:, None]) ** 2) / (2 * width[:, None, None] ** 2)
    )
    images = rng.uniform(0.0, 0.4, (n, 3, 1, 1)) + rng.uniform(0.3, 0.6, (n, 3, 1, 1)) * blob[:, None]
    return np.round(255 * np.clip(images, 0, 1)).astype(np.uint8)


def noisy_copies(test: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    found = {}
    for sigma in SIGMAS:
        noise = rng.normal(0.0, sigma, test.shape)
        found[f"gaussian-{sigma}"] = np.clip(np.round(test + noise), 0, 255).astype(np.uint8)
    return found


def load(args) -> tuple[str, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``(where the images come from, train, test, anomaly sets)``."""
    rng = np.random.default_rng(args.seed)
    if args.data and not args.synthetic:
        from advbench.datasets.benchmark_file import read_benchmark

        bench = read_benchmark(args.data)
        attacks = {name: attack.images for name, attack in bench.attacks.items() if len(attack)}
        return f"benchmark file {args.data}", bench.normal_train, bench.normal_test, attacks
    if Path(args.gtsrb_root).is_dir() and not args.synthetic:
        from advbench.datasets.gtsrb import load_gtsrb, normal_split

        split = normal_split(load_gtsrb(args.gtsrb_root, cache_dir=args.cache_dir), 14)
        return f"GTSRB stop signs in {args.gtsrb_root}", split.train, split.test, noisy_copies(split.test, rng)
    test = synthetic(270, rng)
    return "synthetic images", synthetic(780, rng), test, noisy_copies(test, rng)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def measure(detector, sets: list[np.ndarray], repeats: int) -> dict[str, float]:
    """Median seconds of scoring ``sets`` both ways (see the module docstring)."""
    ways = {
        "paper": lambda: [detector.decision_function(images) for images in sets],
        "all": lambda: [detector.score_variants(images) for images in sets],
    }
    rounds: dict[str, list[float]] = {name: [] for name in ways}
    for repeat in range(repeats):
        for name in list(ways)[:: 1 if repeat % 2 == 0 else -1]:
            rounds[name].append(timed(ways[name]))
    return {name: statistics.median(values) for name, values in rounds.items()}


def main(argv=None) -> int:
    parser = build_parser(__doc__.splitlines()[0], PRESETS)
    parser.add_argument("--epochs", type=int, default=1, help="training epochs of each fit (default 1)")
    parser.add_argument("--repeats", type=int, default=5, help="timing rounds, the median is kept (default 5)")
    parser.add_argument("--synthetic", action="store_true", help="random smooth images even where real data exists")
    parser.set_defaults(threads=1)
    args = parser.parse_args(argv)
    configure_process(args.threads, args.device)
    source, train, test, anomalies = load(args)
    sets = [train, test, *anomalies.values()]
    print(
        f"{source}: scoring {' + '.join(str(len(images)) for images in sets)} images (train, test, anomaly sets); "
        f"{args.epochs} epoch(s), {args.threads} thread(s), device {args.device}, median of {args.repeats} rounds"
    )
    print(f"{'detector':<22}{'variants':>9}{'paper s':>9}{'all s':>8}{'all/paper':>11}")
    for name in detectors.expand(args.detectors):
        detector = detectors.create(name, epochs=args.epochs, device=args.device, random_state=args.seed)
        detector.fit(train)
        seconds = measure(detector, sets, args.repeats)
        print(
            f"{name:<22}{len(detector.variant_names()):>9}{seconds['paper']:>9.3f}{seconds['all']:>8.3f}"
            f"{seconds['all'] / seconds['paper']:>11.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
