"""What the dataset-identity check costs a load of MNIST or Fashion-MNIST (``datasets.official``).

``mnist.load`` decompresses the four IDX files, hashes each file's decompressed bytes (sha256) to
tell the official files of one benchmark from the other's, and parses them. This script times, on
one core, a whole ``mnist.load`` and the hashing alone (sha256 of the four decompressed files, as
``idx.read_idx_hashed`` computes it), each the median of ``--repeats`` rounds, and prints the
hashing's share.

Usage: python benchmarks/bench_idx_identity.py [--benchmark mnist|fashion-mnist] [--root DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import statistics
import time
from pathlib import Path

from advbench.datasets import mnist

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _median_seconds(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="mnist", choices=("mnist", "fashion-mnist"))
    parser.add_argument("--root", help="folder of the four IDX files (default: the shared copy)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = Path(args.root) if args.root else SHARED / args.benchmark
    raw = [gzip.decompress(path.read_bytes()) for path in sorted(root.glob("*-ubyte.gz"))]
    load = _median_seconds(lambda: mnist.load(args.benchmark, root), args.repeats)
    hashing = _median_seconds(lambda: [hashlib.sha256(data).hexdigest() for data in raw], args.repeats)
    size = sum(map(len, raw)) / 1e6
    print(f"{args.benchmark} ({root}): {size:.1f} MB decompressed in {len(raw)} files")
    print(f"whole load {1000 * load:.0f} ms; hashing {1000 * hashing:.0f} ms ({100 * hashing / load:.0f} %)")


if __name__ == "__main__":
    main()
