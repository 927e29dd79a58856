"""MNIST and Fashion-MNIST from their four official IDX files, with checked downloads.

The files, their MD5s (the official ones, as torchvision lists them) and where they are
downloaded from are in ``SOURCES``. Images load as uint8 ``N x 1 x 28 x 28`` arrays, labels as
int64. Where the folder is by default (``$ADVBENCH_MNIST_ROOT`` / ``$ADVBENCH_FASHION_MNIST_ROOT``,
else ``datasets/<benchmark>``) is the benchmark registry's (``datasets.registry``). ``load``
checks which benchmark's official files the folder holds (``datasets.official``): another
benchmark's is an error, a copy of neither is read with a warning.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advbench.datasets import official
from advbench.datasets.idx import read_idx_hashed
from advbench.datasets.splits import ImageSet
from advbench.errors import DataError
from advbench.fileio import arrays_sha256

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@dataclass(frozen=True)
class Source:
    """Where a benchmark's files come from: base address and MD5 per file."""

    base_url: str
    md5: dict[str, str] = field(default_factory=dict)


SOURCES = {
    "mnist": Source(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        dict(
            zip(
                FILES,
                (
                    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    "d53e105ee54ea40749a09fcbcd1e9432",
                    "9fb629c4189551a2d022fa330f9573f3",
                    "ec29112dd5afa0611ce80d1b7f02629c",
                ),
                strict=True,
            )
        ),
    ),
    "fashion-mnist": Source(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        dict(
            zip(
                FILES,
                (
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "25c81989df183df01b3e8a0aad5dffbe",
                    "bef4ecab320f06d8554ea6380940ec79",
                    "bb300cfdad3c16e7a12a480ee83cd310",
                ),
                strict=True,
            )
        ),
    ),
}


@dataclass(frozen=True)
class ImageClasses:
    """A labelled image benchmark: train and test images (uint8, N x C x H x W) and labels."""

    name: str
    root: Path
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    sha256: str = ""

    @property
    def classes(self) -> list[int]:
        return sorted(set(self.train_labels.tolist()) | set(self.test_labels.tolist()))

    @property
    def train(self) -> ImageSet:
        return ImageSet(self.train_images, self.train_labels)

    @property
    def test(self) -> ImageSet:
        return ImageSet(self.test_images, self.test_labels)

    @functools.cached_property
    def content_sha256(self) -> str:
        """sha256 of the loaded images and labels, as GTSRB's (what the victim cache is keyed by)."""
        return arrays_sha256(self.train_images, self.train_labels, self.test_images, self.test_labels)

    def provenance(self) -> dict:
        """What a benchmark file records of the files it was built from."""
        return {"idx_sha256": self.sha256, "content_sha256": self.content_sha256}

    def summary(self) -> dict:
        """What ``advbench info --benchmark NAME --json`` prints."""
        classes = self.classes
        return {
            "benchmark": self.name,
            "root": str(self.root),
            "train": int(len(self.train_labels)),
            "test": int(len(self.test_labels)),
            "classes": len(classes),
            "image_shape": list(self.train_images.shape[1:]),
            "train_per_class": {str(c): int((self.train_labels == c).sum()) for c in classes},
            "test_per_class": {str(c): int((self.test_labels == c).sum()) for c in classes},
        }


def _split(root: Path, arrays: dict, images_file: str, labels_file: str) -> tuple[np.ndarray, np.ndarray]:
    """The images (with a channel axis) and labels of one split, checked to fit each other."""
    images, labels = arrays[images_file], arrays[labels_file]
    if images.ndim != 3 or labels.ndim != 1:
        raise DataError(f"{root / images_file}: expected an image file and {labels_file} a label file")
    if len(images) != len(labels):
        raise DataError(f"{root / labels_file}: {len(labels)} labels for {len(images)} images in {images_file}")
    return images[:, None].copy(), labels.astype(np.int64)


def load(benchmark: str, root: str | os.PathLike) -> ImageClasses:
    """Read the four IDX files of ``benchmark`` from ``root`` (DataError naming a missing or damaged file,
    or files of another benchmark; a warning for files that are not the official ones)."""
    root = Path(root)
    missing = [name for name in FILES if not (root / name).is_file()]
    if missing:
        raise DataError(
            f"{root}: missing {', '.join(missing)} (pass --root, or --download to fetch the official files)"
        )
    arrays, hashes = {}, {}
    for name in FILES:
        arrays[name], hashes[name] = read_idx_hashed(root / name)
    train = _split(root, arrays, FILES[0], FILES[1])
    test = _split(root, arrays, FILES[2], FILES[3])
    sha256 = files_sha256(root)
    official.check(benchmark, root, hashes, sha256)
    return ImageClasses(benchmark, root, *train, *test, sha256=sha256)


def files_sha256(root: Path) -> str:
    """One sha256 over the four files in ``FILES`` order: what a run records as its data's hash."""
    import hashlib

    digest = hashlib.sha256()
    for name in FILES:
        with open(root / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def download(benchmark: str, target: str | os.PathLike, *, base_url: str | None = None, progress: bool = False) -> Path:
    """Fetch the four files into ``target`` (kept when already there with the right MD5); return it."""
    from advbench.datasets.download import fetch_checked

    source = SOURCES[benchmark]
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    base = base_url or source.base_url
    base = base if base.endswith("/") else base + "/"
    hint = f"put the four official files ({', '.join(FILES)}) into {target} by hand, or pass --root"
    for name in FILES:
        fetch_checked(base + name, target / name, source.md5[name], hint, progress=progress)
    return target
