"""Time one seed of every detector of ``advbench run`` on the real benchmark file, and estimate a full run.

Runs ``advbench run --seeds 1 --jobs 1`` (one thread per pair, as the run's default) into a
fresh folder, reads ``fit_seconds`` and ``score_seconds`` of each detector from its
``results.jsonl``, prints them, and estimates the wall time of ``--seeds S --jobs J`` by
scheduling the ``S x detectors`` pairs in the run's order onto ``J`` workers (each pair taking
its measured one-seed time; the time of rendering tables and figures is added once). The estimate
assumes the J workers get a core each; other load on the machine slows both the measurement
and the real run.

Usage: python benchmarks/bench_run.py [--data FILE] [--detectors all] [--seeds 10] [--jobs 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def estimate(pair_seconds: dict[str, float], detectors: list[str], seeds: int, jobs: int) -> float:
    """Wall seconds of ``seeds`` x ``detectors`` pairs on ``jobs`` workers, taken in the run's order."""
    workers = [0.0] * jobs
    for _ in range(seeds):
        for name in detectors:
            heapq.heappush(workers, heapq.heappop(workers) + pair_seconds[name])
    return max(workers)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO / "datasets" / "gtsrb_stop_adv.h5"), help="benchmark HDF5 file")
    parser.add_argument("--detectors", default="all", help="detectors or groups (default: all)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds of the run to estimate (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the run to estimate (default 2)")
    parser.add_argument("--config", help="TOML configuration passed to advbench run")
    parser.add_argument("--out", help="run folder (default: a temporary one)")
    args = parser.parse_args(argv)

    from advbench.cli import main as advbench

    out = Path(args.out or tempfile.mkdtemp(prefix="bench_run_"))
    command = [
        "run",
        "--data",
        args.data,
        "--detectors",
        args.detectors,
        "--seeds",
        "1",
        "--out",
        str(out),
        "--jobs",
        "1",
    ]
    if args.config:
        command += ["--config", args.config]
    start = time.perf_counter()
    code = advbench(command)
    wall = time.perf_counter() - start
    if code == 2:
        return code
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    pairs = {r["detector"]: r for r in records}
    order = list(pairs)
    print(f"\nOne seed per detector on {args.data} (1 thread; wall time, measured under the machine's current load):")
    print(f"{'detector':<22}{'fit s':>9}{'score s':>9}{'total s':>9}  AUC % per attack")
    pair_seconds = {}
    for name in order:
        r = pairs[name]
        if r["error"]:
            print(f"{name:<22}  FAILED: {r['error']}")
            pair_seconds[name] = 0.0
            continue
        pair_seconds[name] = r["fit_seconds"] + r["score_seconds"]
        aucs = ", ".join(f"{x['attack']} {100 * x['auc']:.1f}" for x in records if x["detector"] == name)
        print(f"{name:<22}{r['fit_seconds']:>9.1f}{r['score_seconds']:>9.1f}{pair_seconds[name]:>9.1f}  {aucs}")
    compute = sum(pair_seconds.values())
    overhead = max(0.0, wall - compute)
    total = estimate(pair_seconds, order, args.seeds, args.jobs) + overhead
    print(
        f"\nsum over detectors: {compute:.0f} s; whole one-seed command: {wall:.0f} s "
        f"(loading, tables, figures: {overhead:.0f} s)"
    )
    print(f"estimated --seeds {args.seeds} --jobs {args.jobs}: {total / 60:.1f} min ({total:.0f} s)")
    print(f"results in {out}")
    return code


if __name__ == "__main__":
    sys.exit(main())
