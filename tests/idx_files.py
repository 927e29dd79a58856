"""Small MNIST-format IDX files written by the tests, and where the real ones are."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from paths import SHARED_DATA

from advbench.datasets import mnist

REAL_MNIST = SHARED_DATA / "mnist"
REAL_FASHION_MNIST = SHARED_DATA / "fashion-mnist"


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def write_arrays(folder: Path, arrays) -> Path:
    """The four IDX files of ``arrays`` (train images, train labels, test images, test labels) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in zip(mnist.FILES, arrays, strict=True):
        (folder / name).write_bytes(idx_bytes(array))
    return folder


def write_files(folder: Path, n_train: int = 30, n_test: int = 10) -> Path:
    """Four small IDX files with labels cycling through 0-9."""
    rng = np.random.default_rng(0)
    arrays = (
        rng.integers(0, 256, (n_train, 28, 28)),
        np.arange(n_train) % 10,
        rng.integers(0, 256, (n_test, 28, 28)),
        np.arange(n_test) % 10,
    )
    return write_arrays(folder, arrays)


def write_patterns(folder: Path, n_train: int = 120, n_test: int = 60, seed: int = 0) -> Path:
    """Four small IDX files a tiny victim learns: class ``c`` (labels cycle 0-9) is a random 4 x 4
    grey pattern of its own, upsampled to 28 x 28, plus pixel noise."""
    rng = np.random.default_rng(seed)
    patterns = np.repeat(np.repeat(rng.integers(30, 226, (10, 4, 4)), 7, axis=1), 7, axis=2)
    arrays = []
    for n in (n_train, n_test):
        labels = np.arange(n) % 10
        arrays += [np.clip(patterns[labels] + rng.normal(0, 12, (n, 28, 28)), 0, 255), labels]
    return write_arrays(folder, arrays)
