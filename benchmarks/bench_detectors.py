"""Time each baseline detector's fit and score on the real GTSRB stop signs (780 train images).

Anomalies: the attacks of a benchmark file (``--data FILE``, from ``advbench generate-attacks``),
or, without one, Gaussian-noise copies of the 270 clean test stop signs (sigma ``--noise-sigma``
in units of 1/255, quantized to uint8, drawn from ``--seed``). Prints, per detector, the fit
seconds, the seconds to score the clean test images plus every anomaly set, and the AUC of
each anomaly set against the clean test images (reported, never used to choose anything).
Wall-clock seconds depend on other load on the machine; the CPU-seconds column (process time
of all threads, fit + score) does much less, and divided by the number of cores used it
approximates the wall time on an idle machine.

``--profile default|reference`` trains the deep detectors with that profile's schedule (one seed
of each deep detector under both profiles: ``--detectors deep --profile default`` and
``--profile reference``); ``--threads N`` fixes the CPU threads of torch and BLAS as ``advbench run`` does (it uses 1).

Usage: python benchmarks/bench_detectors.py [--gtsrb-root DIR] [--detectors a,b] [--seed N] [--data FILE]
       [--profile default|reference] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from advbench import detectors
from advbench.detectors.profiles import PROFILES
from advbench.errors import AdvbenchError
from advbench.runs.devices import configure_process

REPO = Path(__file__).resolve().parents[1]
BASELINES = "ocsvm,kde,iforest,mahalanobis,dcae,deep-svdd,deep-svdd-soft,rcae"
DEEP = set(detectors.GROUPS["deep"]) | set(detectors.GROUPS["ablation"])


def build_parser(description: str, default_detectors: str) -> argparse.ArgumentParser:
    """The options shared by the detector benchmark scripts."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--gtsrb-root",
        default=str(REPO.parent / "shared" / "data" / "gtsrb"),
        help="GTSRB folder (default: ../shared/data/gtsrb beside the repository)",
    )
    parser.add_argument("--cache-dir", default=str(REPO / "datasets" / "cache"), help="parsed-image cache folder")
    parser.add_argument(
        "--detectors", default=default_detectors, help=f"comma list or group (default: {default_detectors})"
    )
    parser.add_argument("--seed", type=int, default=0, help="detector random_state and noise seed (default 0)")
    parser.add_argument("--data", help="benchmark HDF5 file whose attacks are the anomalies")
    parser.add_argument("--noise-sigma", type=float, default=8.0, help="noise std in 1/255 units (default 8)")
    parser.add_argument(
        "--device", default="cpu", help="torch device for deep detectors (default cpu: the time limits are for CPUs)"
    )
    parser.add_argument(
        "--profile",
        default="default",
        choices=PROFILES,
        help="training profile of the deep detectors (default: default)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads of torch and BLAS, as `advbench run --threads` sets them (default: the libraries' choice)",
    )
    return parser


def deep_params(name: str, args) -> dict:
    """Constructor parameters that the options set for a deep detector (none for a classic one)."""
    return {"device": args.device, "profile": args.profile} if name in DEEP else {}


def load_sets(args) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Training images, clean test images and the named anomaly sets."""
    if args.data:
        from advbench.datasets.benchmark_file import read_benchmark

        bench = read_benchmark(args.data)
        anomalies = {name: attack.images for name, attack in bench.attacks.items() if len(attack)}
        return bench.normal_train, bench.normal_test, anomalies
    from advbench.datasets.gtsrb import load_gtsrb, normal_split

    split = normal_split(load_gtsrb(args.gtsrb_root, cache_dir=args.cache_dir), 14)
    rng = np.random.default_rng(args.seed)
    noisy = split.test.astype(np.float64) + rng.normal(0.0, args.noise_sigma, size=split.test.shape)
    noisy = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    return split.train, split.test, {f"gaussian-{args.noise_sigma:g}": noisy}


def score_sets(detector, test: np.ndarray, anomalies: dict[str, np.ndarray]) -> dict[str, float]:
    """AUC of each anomaly set against the clean test images (reported, never used to choose)."""
    clean = detector.decision_function(test)
    aucs = {}
    for key, images in anomalies.items():
        scores = detector.decision_function(images)
        aucs[key] = roc_auc_score(np.r_[np.zeros(len(clean)), np.ones(len(scores))], np.r_[clean, scores])
    return aucs


def timed(name: str, detector, train, test, anomalies: dict, width: int = 16, **given) -> str:
    """Fit ``detector`` on ``train`` (with ``given``, for a victim-aware one), score the sets, and return its
    row: fit, score and total seconds, process CPU seconds, the AUC of each anomaly set."""
    start, cpu_start = time.perf_counter(), time.process_time()
    detector.fit(train, **given)
    fitted = time.perf_counter()
    aucs = score_sets(detector, test, anomalies)
    scored, cpu = time.perf_counter(), time.process_time() - cpu_start
    return f"{name:<{width}}{fitted - start:>8.1f}{scored - fitted:>9.1f}{scored - start:>9.1f}{cpu:>8.1f}" + "".join(
        f"{auc:>16.3f}" for auc in aucs.values()
    )


def prepare(description: str, default_detectors: str, argv=None):
    """Parse the options and load the data: ``(args, names, train, test, anomalies)``.

    Exits with status 2 and a one-line message on bad input.
    """
    args = build_parser(description, default_detectors).parse_args(argv)
    if args.threads:
        configure_process(args.threads, args.device)
    try:
        return args, detectors.expand(args.detectors), *load_sets(args)
    except (AdvbenchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


def main(argv=None) -> int:
    args, names, train, test, anomalies = prepare(__doc__.splitlines()[0], BASELINES, argv)
    n_scored = len(test) + sum(len(images) for images in anomalies.values())
    print(
        f"train {len(train)}, clean test {len(test)}, anomalies "
        + ", ".join(f"{name} {len(images)}" for name, images in anomalies.items())
        + f"; seed {args.seed}; profile {args.profile}; scoring {n_scored} images"
    )
    header = f"{'detector':<16}{'fit s':>8}{'score s':>9}{'total s':>9}{'cpu s':>8}" + "".join(
        f"{'AUC ' + n:>16}" for n in anomalies
    )
    print(header)
    for name in names:
        detector = detectors.create(name, random_state=args.seed, **deep_params(name, args))
        print(timed(name, detector, train, test, anomalies), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
