"""Time ``advbench generate-attacks --benchmark mnist --normal-class all``, victim training included,
and each attack's share of the time.

Runs the command in this process into a fresh folder with ``--train-victim`` (so the victim is
trained, neither shipped nor taken from a cache) with FGSM, BIM, PGD, DeepFool, C&W and Boundary
at the benchmark's defaults, then reads the file: victim training seconds (its per-epoch
history), each attack's seconds (attack, 8-bit rounding and re-check), and the rest (data
loading, the victim's test predictions, writing).
``--limit`` below the default 1,000 measures fewer images; the table then adds, clearly labelled,
the attack seconds scaled to 1,000 images (each attack's time grows with the images it attacks;
the victim's training and the rest do not).

    python benchmarks/bench_generate_all.py --root ../shared/data/mnist [--benchmark mnist] [--limit 1000]
        [--attacks fgsm,bim,pgd,deepfool,cw,boundary] [--device cpu] [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ATTACKS = "fgsm,bim,pgd,deepfool,cw,boundary"
FULL = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="mnist", help="mnist or fashion-mnist (default: mnist)")
    parser.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "mnist"), help="its IDX files")
    parser.add_argument("--limit", type=int, default=FULL, help=f"test images attacked (default: {FULL})")
    parser.add_argument("--attacks", default=ATTACKS, help=f"attacks (default: {ATTACKS})")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu: the target is the 2-core CPU)")
    parser.add_argument("--keep", help="write the file and the victim here instead of a temporary folder")
    args = parser.parse_args()

    from advbench import cli
    from advbench.datasets.benchmark_file import read_benchmark

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        out = folder / f"{args.benchmark}_all_adv.h5"
        argv = [
            "generate-attacks",
            "--benchmark",
            args.benchmark,
            "--root",
            args.root,
            "--normal-class",
            "all",
            "--limit",
            str(args.limit),
            "--attacks",
            args.attacks,
            "--device",
            args.device,
            "--out",
            str(out),
            "--quiet",
            "--train-victim",  # the shipped victim would skip the training this script times
        ]
        start = time.perf_counter()
        if cli.main(argv) != 0:
            raise SystemExit("generate-attacks failed")
        total = time.perf_counter() - start
        bench = read_benchmark(out)
    victim = bench.attrs["victim"]
    if not victim["trained_here"]:
        raise SystemExit(f"the victim came from a cache in {folder}: use a fresh --keep folder")
    rows = {"victim training": victim["train_seconds"]}
    rows |= {name: attack.attrs["seconds"] for name, attack in bench.attacks.items()}
    rows["rest (load, predictions, write)"] = total - sum(rows.values())
    scale = FULL / args.limit
    width = max(map(len, rows))
    print(
        f"{args.benchmark}, every class normal: {args.limit} test images attacked, victim test accuracy "
        f"{bench.attrs['victim_test_accuracy']:.4f} after {len(victim['history'])} epochs"
    )
    extra = f" {'seconds at 1,000 (scaled)':>27}" if args.limit != FULL else ""
    print(f"{'stage':<{width}} {'seconds':>9} {'share':>7}{extra}")
    scaled_total = 0.0
    for name, seconds in rows.items():
        scaled = seconds * scale if name in bench.attacks else seconds
        scaled_total += scaled
        more = f" {scaled:>27.0f}" if args.limit != FULL else ""
        print(f"{name:<{width}} {seconds:>9.1f} {seconds / total:>7.1%}{more}")
    print(f"{'total':<{width}} {total:>9.1f} {1:>7.0%}" + (f" {scaled_total:>27.0f}" if args.limit != FULL else ""))
    if args.limit != FULL:
        shares = ", ".join(
            f"{name} {seconds * scale / scaled_total:.0%}" for name, seconds in rows.items() if name in bench.attacks
        )
        print(f"scaled to {FULL} images (attack seconds x {scale:g}; victim and rest as measured): {shares}")


if __name__ == "__main__":
    main()
