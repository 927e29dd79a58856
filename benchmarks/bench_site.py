"""How long ``advbench site`` takes to build the results site of every published folder.

Builds the site of ``--reports`` (default ``reports``) into a temporary folder ``--repeats`` times
(each a fresh build, as the command does) and prints the wall time of each, their median, the
number of run folders, leaderboards and files written, and the site's size. The goal: under a
minute for every published folder on a 2-core machine. Run it after ``advbench report`` has
written every folder's ``entries.json``.

Usage: python benchmarks/bench_site.py [--reports DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from advbench.site import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", default="reports", help="folder of run folders (default: reports)")
    parser.add_argument("--repeats", type=int, default=3, help="builds to time (default 3)")
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        for _ in range(args.repeats):
            start = time.perf_counter()
            build.build(args.reports, out)
            times.append(time.perf_counter() - start)
        files = [p for p in out.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        folders = len(list((out / "folders").rglob("index.html")))
        boards = len(list((out / "leaderboards").glob("*.html")))
    print(f"run folders {folders}, leaderboards {boards}, files {len(files)}, {size / 2**20:.1f} MiB")
    print("builds (s): " + ", ".join(f"{t:.2f}" for t in times) + f"; median {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
