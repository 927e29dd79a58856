"""How often Feature Squeezing's squeezers change the victim's label of a clean test image.

Feature Squeezing scores an image by how far the victim's softmax moves when the image is
squeezed. A squeezer that changes the label of many clean images gives clean images high scores
too. For each benchmark file given: the share of its clean test images whose victim label changes
under each of the detector's default squeezers for the file's kind of image. Prints a Markdown
table; reads only the benchmark files (victim included).

Usage: python analysis/squeezed_labels.py FILE [FILE ...]
"""

from __future__ import annotations

import argparse

import torch

from advbench.attacks.victim import load_file_victim, predict, to_float
from advbench.datasets.benchmark_file import read_benchmark
from advbench.detectors.feature_squeezing import DEFAULT_SQUEEZERS, squeezer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args()
    print("| file | sha256 | clean test images | squeezer | label changed (%) |")
    print("| --- | --- | ---: | --- | ---: |")
    for path in args.files:
        bench = read_benchmark(path)
        model, _, _, _ = load_file_victim(path)
        clean = to_float(bench.normal_test)
        labels = predict(model, clean)
        for name in DEFAULT_SQUEEZERS[clean.shape[1]]:
            squeezed = torch.from_numpy(squeezer(name)(clean.numpy())).to(clean.dtype)
            changed = (predict(model, squeezed) != labels).float().mean().item()
            print(f"| {path} | {bench.sha256[:12]} | {len(clean)} | {name} | {100 * changed:.1f} |")


if __name__ == "__main__":
    main()
