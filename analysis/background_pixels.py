"""How many near-constant background pixels each image of a benchmark file changes.

A pixel is background when it is 0 in at least ``--share`` (default 99 %) of the file's clean
training images. For the clean test images and every attack set, the mean and median number of
background pixels that are not 0. A detector that scores each pixel against its training
distribution (ECOD, COPOD, HBOS) sees such a pixel as an extreme value. Prints a Markdown table;
reads only the benchmark file.

Usage: python analysis/background_pixels.py FILE [--share 0.99]
"""

from __future__ import annotations

import argparse

import numpy as np

from advbench.datasets.benchmark_file import read_benchmark


def inked(images: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Per image, its background pixels (any channel) that are not 0."""
    return (images.reshape(len(images), -1)[:, background] > 0).sum(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--share", type=float, default=0.99, help="share of training images at 0 (default: 0.99)")
    args = parser.parse_args()
    bench = read_benchmark(args.file)
    train = bench.normal_train.reshape(len(bench.normal_train), -1)
    background = (train == 0).mean(axis=0) >= args.share
    print(
        f"{int(background.sum())} of {train.shape[1]} pixels are 0 in at least {100 * args.share:g} % of the "
        f"{len(train)} training images of {args.file} (sha256 {bench.sha256[:12]}).\n"
    )
    print("| images | count | background pixels not 0: mean | median |")
    print("| --- | ---: | ---: | ---: |")
    for name, images in [("clean test", bench.normal_test)] + [(n, a.images) for n, a in bench.attacks.items()]:
        counts = inked(images, background)
        print(f"| {name} | {len(images)} | {counts.mean():.1f} | {np.median(counts):.0f} |")


if __name__ == "__main__":
    main()
