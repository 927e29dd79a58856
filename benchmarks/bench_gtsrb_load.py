"""Time loading the whole real GTSRB (51,839 images): cold (parsing every image) and from the cache.

Usage: python benchmarks/bench_gtsrb_load.py [--gtsrb-root DIR] [--repeat 3]

"Cold" builds the parsed cache in a fresh temporary folder each time (the images themselves may
sit in the operating system's page cache after the first run); "cached" loads from it.
Targets (2-core CPU): cold < 60 s, cached < 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from advbench.datasets.gtsrb import load_gtsrb

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gtsrb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gtsrb-root", default=str(DEFAULT_ROOT))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    cold, cached = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache_dir:
            start = time.perf_counter()
            data = load_gtsrb(args.gtsrb_root, cache_dir=cache_dir)
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            load_gtsrb(args.gtsrb_root, cache_dir=cache_dir)
            cached.append(time.perf_counter() - start)
    n = len(data.train) + len(data.test)
    print(f"images: {n} ({len(data.train)} train, {len(data.test)} test)")
    print(
        f"cold   median {statistics.median(cold):6.2f} s  (min {min(cold):.2f}, max {max(cold):.2f})  "
        f"{n / statistics.median(cold):,.0f} img/s"
    )
    print(f"cached median {statistics.median(cached):6.2f} s  (min {min(cached):.2f}, max {max(cached):.2f})")


if __name__ == "__main__":
    main()
