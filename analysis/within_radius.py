"""The share of a benchmark file's test images that an attack fooled within a given norm radius.

Robustness papers publish a lower bound on a classifier's robust error: the share of test images
for which some attack found an adversarial example within a radius. A benchmark file holds the
same evidence for its victim: every kept attack image has its L2 and L-inf distance to its source.
For each radius given, this prints, per attack and for the union of all attacks (an image counts
once, whichever attack fooled it), the share of the file's normal test images (every one of them
classified correctly by the victim) with an attack image within that radius. Prints a Markdown
table; reads only the benchmark file.

Usage: python analysis/within_radius.py FILE [--l2 R ...] [--linf R ...]
"""

from __future__ import annotations

import argparse
from fractions import Fraction

import numpy as np

from advbench.datasets.benchmark_file import read_benchmark

#: Distances are computed on 8-bit images, so a radius such as 4/255 must not lose an image to the
#: last bit of a float.
TOLERANCE = 1e-9


def radius(text: str) -> float:
    """A radius from the command line: a number or a fraction such as 4/255."""
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError) as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or a fraction") from error
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--l2", nargs="*", type=radius, default=[], metavar="R", help="L2 radii")
    parser.add_argument("--linf", nargs="*", type=radius, default=[], metavar="R", help="L-inf radii (4/255 works)")
    args = parser.parse_args()
    if not args.l2 and not args.linf:
        parser.error("give at least one radius with --l2 or --linf")
    bench = read_benchmark(args.file)
    total = len(bench.normal_test)
    names = list(bench.attacks)
    print(f"Benchmark file {args.file} (sha256 {bench.sha256[:12]}), {total} normal test images.\n")
    print("| norm | radius | " + " | ".join(names) + " | any attack |")
    print("| --- | ---: | " + " | ".join("---:" for _ in names) + " | ---: |")
    for norm, radii in (("L2", args.l2), ("L-inf", args.linf)):
        for r in radii:
            fooled = {}
            for name in names:
                attack = bench.attacks[name]
                distance = attack.l2 if norm == "L2" else attack.linf
                fooled[name] = set(np.asarray(attack.source_index)[np.asarray(distance) <= r + TOLERANCE].tolist())
            cells = [f"{100 * len(fooled[name]) / total:.1f}" for name in names]
            union = 100 * len(set().union(*fooled.values())) / total
            print(f"| {norm} | {r:.4g} | " + " | ".join(cells) + f" | {union:.1f} |")


if __name__ == "__main__":
    main()
