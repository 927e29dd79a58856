"""Whether an attack moves images towards the training data's mean image, and how it changes their contrast.

A pixel-space detector that scores distance from the bulk of the training images ranks an
adversarial image as more normal than its source when the attack pulls it towards the mean image,
which gives an AUC below 50. For each attack set of a benchmark file: the mean per-image pixel
standard deviation (contrast) of the attack images and of their source images, their mean L2
distance to the mean training image, and the share of attack images closer to that mean than their
source. Prints a Markdown table; reads only the benchmark file.

Usage: python analysis/towards_mean.py FILE
"""

from __future__ import annotations

import argparse

import numpy as np

from advbench.datasets.benchmark_file import read_benchmark


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", metavar="FILE")
    args = parser.parse_args()
    bench = read_benchmark(args.file)
    mean_image = _flat(bench.normal_train).mean(axis=0)
    clean = _flat(bench.normal_test)
    print(f"Benchmark file {args.file} (sha256 {bench.sha256[:12]}); pixels in [0, 1].\n")
    print(
        "| attack | images | contrast (pixel std) | of their sources | L2 to the mean training image "
        "| of their sources | closer to the mean than their source (%) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, attack in bench.attacks.items():
        adversarial, sources = _flat(attack.images), clean[np.asarray(attack.source_index)]
        distance = np.linalg.norm(adversarial - mean_image, axis=1)
        source_distance = np.linalg.norm(sources - mean_image, axis=1)
        closer = 100 * np.mean(distance < source_distance)
        print(
            f"| {name} | {len(adversarial)} | {adversarial.std(axis=1).mean():.4f} | {sources.std(axis=1).mean():.4f} "
            f"| {distance.mean():.3f} | {source_distance.mean():.3f} | {closer:.1f} |"
        )


if __name__ == "__main__":
    main()
