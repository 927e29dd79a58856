"""Time the main job, the two commands of ``make benchmark``, stage by stage, and compare its table.

Runs, each as one process timed from its start (the venv already built, as ``make benchmark``
finds it after ``make setup``)::

    advbench generate-attacks --gtsrb-root ROOT --out DIR/gtsrb_stop_adv.h5
    advbench run --data DIR/gtsrb_stop_adv.h5 --detectors all --seeds 10 --jobs 2 --out DIR/run

and prints one row per stage with its seconds and share of the total: for ``generate-attacks``,
loading the data (its log line), the victim (shipped, cached or trained: the rest of the time
before the attacks), each attack (the file's ``seconds``) and writing (what is left); for ``run``,
its wall time, with each detector's fit and score seconds summed over its pairs (worker time: two
workers share the wall time). With ``--compare FOLDER`` it then compares every line's AUC with the
published folder's (same detector, seed and attack), and the Table 4 cells (means over seeds,
rounded to 0.1 as the table shows them). It also prints Boundary's floor: the seconds of the victim's
forward passes alone that foolbox's Boundary makes (one per step on the batch of attacked images,
and one more every ``update_stats_every_k`` steps), timed on the built file's images and victim.

    python benchmarks/bench_main_job.py --gtsrb-root ../shared/data/gtsrb [--out DIR] \
        [--compare reports/gtsrb-stop] [--seeds 10] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADVBENCH = [sys.executable, "-m", "advbench"]


def _timed(command: list[str], log: Path) -> float:
    start = time.perf_counter()
    with open(log, "w") as handle:
        done = subprocess.run(command, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} exited with {done.returncode}; see {log}")
    return time.perf_counter() - start


def generate_stages(log: Path, data: Path, total: float) -> list[tuple[str, float]]:
    """The stages of ``generate-attacks`` from its log and the file's attack timings."""
    from advbench.datasets.benchmark_file import read_benchmark

    text = log.read_text()
    load = float(re.search(r"test images \(([\d.]+) s\)", text).group(1))
    attacks = [
        (f"attack {name}", float(a.attrs.get("seconds", 0.0))) for name, a in read_benchmark(data).attacks.items()
    ]
    victim_line = next((line for line in text.splitlines() if line.startswith("victim: ")), "victim")
    victim_kind = "shipped" if "shipped" in victim_line else "trained" if "training" in text else "cached"
    rest = total - load - sum(seconds for _, seconds in attacks)
    return [("data load", load), (f"victim ({victim_kind}) and writing", rest), *attacks]


def run_stages(out: Path, wall: float) -> list[tuple[str, float]]:
    """The run's wall time and each detector's summed fit and score seconds (worker time)."""
    per_detector: dict[str, float] = defaultdict(float)
    seen = set()
    for line in (out / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        key = (record["detector"], record["seed"])
        if key not in seen and "[" not in record["detector"]:
            seen.add(key)
            per_detector[record["detector"]] += (record.get("fit_seconds") or 0) + (record.get("score_seconds") or 0)
    return [("run (wall)", wall), *((f"  {name} (worker s)", s) for name, s in per_detector.items())]


def boundary_floor(data: Path, repeat: int = 20) -> float:
    """Seconds of the forward passes Boundary makes on ``data``'s attacked images (its parameters in the file),
    from the median time of one pass of the whole batch through the file's victim with 8-bit rounding."""
    import numpy as np
    import torch

    from advbench.attacks.victim import load_file_victim
    from advbench.datasets.benchmark_file import read_benchmark

    contents = read_benchmark(data)
    params = contents.attacks["boundary"].attrs["params"]
    model = load_file_victim(data, flag="--data")[0]
    x = torch.from_numpy(contents.normal_test.astype(np.float32) / 255.0)
    times = []
    with torch.no_grad():
        for _ in range(repeat + 1):
            start = time.perf_counter()
            model(torch.round(x * 255) / 255)
            times.append(time.perf_counter() - start)
    passes = params["steps"] * (1 + 1 / params["update_stats_every_k"])
    return float(np.median(times[1:])) * passes


def _aucs(folder: Path) -> dict[tuple[str, int, str], float]:
    lines = (json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines())
    return {(r["detector"], r["seed"], r["attack"]): r["auc"] for r in lines if r.get("auc") is not None}


def compare(new: Path, published: Path) -> int:
    """Print how many lines and Table 4 cells differ from ``published``; the count of differing cells."""
    ours, theirs = _aucs(new), _aucs(published)
    shared = sorted(set(ours) & set(theirs))
    lines = sum(ours[key] != theirs[key] for key in shared)
    cells = defaultdict(lambda: ([], []))
    for detector, seed, attack in shared:
        cells[detector, attack][0].append(ours[detector, seed, attack])
        cells[detector, attack][1].append(theirs[detector, seed, attack])
    differ = [
        key for key, (a, b) in cells.items() if round(100 * sum(a) / len(a), 1) != round(100 * sum(b) / len(b), 1)
    ]
    print(f"lines: {lines} of {len(shared)} AUCs differ from {published} (only here: {len(set(ours) - set(theirs))})")
    print(f"Table 4 cells: {len(differ)} of {len(cells)} differ at 0.1 {sorted(differ)}")
    return len(differ)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gtsrb-root", required=True)
    parser.add_argument("--out", help="folder for the file and the run (default: a temporary one)")
    parser.add_argument("--compare", type=Path, help="a published run folder to compare the run with")
    parser.add_argument("--seeds", default="10")
    parser.add_argument("--jobs", default="2")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="advbench-main-job-"))
    out.mkdir(parents=True, exist_ok=True)
    data, run = out / "gtsrb_stop_adv.h5", out / "run"
    generate = ADVBENCH + ["generate-attacks", "--gtsrb-root", args.gtsrb_root, "--out", str(data)]
    generate_seconds = _timed(generate, out / "generate.log")
    command = ["run", "--data", str(data), "--detectors", "all", "--seeds", args.seeds, "--jobs", args.jobs]
    run_seconds = _timed([*ADVBENCH, *command, "--out", str(run)], out / "run.log")
    total = generate_seconds + run_seconds
    print(f"{'stage':<40} {'seconds':>9} {'share':>7}")
    stages = [
        ("generate-attacks (wall)", generate_seconds),
        *generate_stages(out / "generate.log", data, generate_seconds),
    ]
    for name, seconds in [*stages, *run_stages(run, run_seconds)]:
        print(f"{name:<40} {seconds:>9.1f} {seconds / total:>7.1%}")
    print(f"{'total':<40} {total:>9.1f} {1:>7.0%}")
    print(f"Boundary's floor (the victim's forward passes alone): {boundary_floor(data):.1f} s")
    return 1 if args.compare and compare(run, args.compare) else 0


if __name__ == "__main__":
    sys.exit(main())
