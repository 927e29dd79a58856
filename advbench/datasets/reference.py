"""The reference data of victim-aware detectors: a seeded, class-stratified sample of the victim's
clean training images of every class.

Victim-aware detectors (``advbench.detectors.victim_detector``) may fit on the clean training data
of the classifier they look through, every class of it, not only the benchmark's normal class:
deep Mahalanobis fits one Gaussian per class, KD one density per class, MagNet trains its
autoencoder on it. A reference sample is ``REFERENCE_SIZE`` (10,000) images drawn without
replacement from such a training split, each class in proportion to its share of the split
(scikit-learn's stratified ``train_test_split``, seeded with ``REFERENCE_SEED``), so the same
split gives the same sample, in the split's order, on every machine. On GTSRB's 39,209 training
images that is 25.5 % of each class (rounded as scikit-learn rounds): 53 images of the rarest
classes (210 training images), 574 of the commonest (2,250), 199 stop signs.

The size is ours: large enough for a per-class density of the rarest class and for a tied
covariance of the victim's 256 penultimate features, small enough for one seed of every detector
to fit in seconds on one CPU thread. The sample is recorded by its size, seed and ``sha256`` (of
its images and labels) in every result line of a detector that used it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

#: Images in a reference sample (see the module docstring).
REFERENCE_SIZE = 10_000
#: The seed of the stratified draw.
REFERENCE_SEED = 0


@dataclass(frozen=True)
class Reference:
    """Clean labelled images of every class (uint8 ``N x C x H x W``, int64 labels) and their provenance."""

    images: np.ndarray
    labels: np.ndarray
    seed: int | None = None
    source: str = ""

    def __post_init__(self):
        if self.images.ndim != 4 or len(self.images) != len(self.labels) or len(self.images) == 0:
            raise ValueError(
                f"reference data: expected N x C x H x W images with one label each; got {self.images.shape} "
                f"images and {len(self.labels)} labels"
            )

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def sha256(self) -> str:
        """sha256 of the images and labels (what a result line records)."""
        digest = hashlib.sha256()
        for array in (self.images, self.labels):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def record(self) -> dict:
        """What a result line records of the reference: size, sha256, seed, source, images per class."""
        classes, counts = np.unique(self.labels, return_counts=True)
        return {
            "n": len(self),
            "sha256": self.sha256,
            "seed": self.seed,
            "source": self.source,
            "per_class": {str(int(c)): int(k) for c, k in zip(classes, counts, strict=True)},
        }


def stratified_sample(
    images: np.ndarray, labels: np.ndarray, size: int = REFERENCE_SIZE, seed: int = REFERENCE_SEED, source: str = ""
) -> Reference:
    """``size`` images of ``images`` drawn with ``seed``, each class in proportion to its share, in the
    split's order; the whole split when it holds no more than ``size``."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) <= size:
        rows = np.arange(len(labels))
    else:
        rows, _ = train_test_split(np.arange(len(labels)), train_size=size, stratify=labels, random_state=seed)
        rows = np.sort(rows)
    return Reference(np.ascontiguousarray(images[rows]), labels[rows], seed, source)
