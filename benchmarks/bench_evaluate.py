"""Time ``advbench.evaluate`` against ``advbench run`` for one detector over N seeds of a benchmark file.

Each side runs in a fresh Python process, one after the other, so both pay the interpreter start,
the imports and the reading of the file: ``python -c "advbench.evaluate(NAME, DATA, seeds=N,
out=...)"`` and ``advbench run --data DATA --detectors NAME --seeds N --out ...`` (which also renders
the folder's tables and figures, as it always does). Both use one thread per pair and one pair at a
time (the run's defaults). Prints each side's wall seconds and checks that the two folders hold the
same AUROCs, bit for bit (exit 1 when they differ). The folders go to a temporary folder.

Usage: python benchmarks/bench_evaluate.py --data datasets/gtsrb_stop_adv.h5 [--detector ocsvm] [--seeds 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _aucs(out: Path) -> dict:
    from advbench.runs import results

    return {(line["detector"], line["seed"], line["attack"]): line["auc"] for line in results.read_results(out)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="benchmark file of `advbench generate-attacks`")
    parser.add_argument("--detector", default="ocsvm", help="a detector name of `advbench list` (default: ocsvm)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default: 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        api, cli = Path(tmp) / "evaluate", Path(tmp) / "run"
        arguments = f"{args.detector!r}, {args.data!r}, seeds={args.seeds}, out={str(api)!r}"
        call = f"import advbench; advbench.evaluate({arguments})"
        seconds = {
            "advbench.evaluate": _timed([sys.executable, "-c", call]),
            "advbench run": _timed(
                [
                    sys.executable,
                    "-m",
                    "advbench",
                    "run",
                    "--data",
                    args.data,
                    "--detectors",
                    args.detector,
                    "--seeds",
                    str(args.seeds),
                    "--out",
                    str(cli),
                ]
            ),
        }
        same = _aucs(api) == _aucs(cli)
    print(f"{args.detector}, seeds 0-{args.seeds - 1}, {args.data}:")
    for what, value in seconds.items():
        print(f"  {what:<18} {value:7.1f} s")
    print(f"  AUROCs identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
