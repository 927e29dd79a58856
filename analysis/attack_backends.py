"""Compare the attack sets of two benchmark files built from the same victim: which images changed.

Written for the switch of FGSM, BIM and DeepFool from torchattacks to foolbox: the old file (built
with torchattacks) against the new one (foolbox). Per attack set present in both: the library of
each, how many images each kept, how many stop signs are kept by both with byte-identical 8-bit
images, the largest pixel difference (in 8-bit levels) among the rest, and the median L2 and
Linf distance to the clean image in each file (pixels in [0, 1]). Prints a Markdown table.

Usage: python analysis/attack_backends.py OLD.h5 NEW.h5
"""

from __future__ import annotations

import argparse

import numpy as np

from advbench.datasets.benchmark_file import read_benchmark


def compare(old, new) -> dict:
    """Counts and distances of two attack sets of the same clean images."""
    shared, old_rows, new_rows = np.intersect1d(old.source_index, new.source_index, return_indices=True)
    a, b = old.images[old_rows].astype(int), new.images[new_rows].astype(int)
    same = (a == b).reshape(len(shared), -1).all(axis=1)
    return {
        "kept": (len(old), len(new)),
        "both": len(shared),
        "identical": int(same.sum()),
        "max_level_diff": int(np.abs(a - b)[~same].max()) if (~same).any() else 0,
        "median_l2": (float(np.median(old.l2)), float(np.median(new.l2))),
        "median_linf": (float(np.median(old.linf)), float(np.median(new.linf))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    args = parser.parse_args()
    old, new = read_benchmark(args.old), read_benchmark(args.new)
    print(
        "| attack | libraries (old / new) | kept (old / new) | kept by both | identical | max diff (levels) "
        "| median L2 (old / new) | median Linf (old / new) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in (name for name in old.attacks if name in new.attacks):
        row = compare(old.attacks[name], new.attacks[name])
        libraries = f"{old.attacks[name].attrs.get('library')} / {new.attacks[name].attrs.get('library')}"
        print(
            f"| {name} | {libraries} | {row['kept'][0]} / {row['kept'][1]} | {row['both']} | {row['identical']} "
            f"| {row['max_level_diff']} | {row['median_l2'][0]:.2f} / {row['median_l2'][1]:.2f} "
            f"| {row['median_linf'][0]:.3f} / {row['median_linf'][1]:.3f} |"
        )


if __name__ == "__main__":
    main()
