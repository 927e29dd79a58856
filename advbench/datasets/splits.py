"""What one (normal class, seed) of a benchmark gives a run: clean training images, clean test
images and named anomaly sets; and ``ImageSet``, the labelled images of one split of a benchmark.

Every benchmark is this shape. On GTSRB (``protocols``) the anomaly sets are the attacks of the
benchmark file, whose images were made from clean test images (``source_index``), plus
``clean-test`` under ``heldout-train``; on MNIST and Fashion-MNIST (``oneclass``) the one anomaly
set is ``other-classes``, test images of the other classes. A detector is fitted on ``train`` (a
supervised detector also on ``fit_attack``, a training attack set, under ``--protocol supervised``) and
scores ``test``, ``sources`` and every anomaly set; ``rows`` say which rows of the benchmark each
set holds and are stored beside the scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ImageSet:
    """Labelled images of one split of a benchmark: uint8 ``N x C x H x W`` and int64 labels ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class AnomalySet:
    """Anomalous images; ``source_index[i]`` is the row of the split's ``sources`` that image ``i``
    was made from (adversarial images), None for anomalies that are images of their own."""

    images: np.ndarray
    source_index: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class FitAttack:
    """A training attack set as a supervised detector fits on it (``--protocol supervised --fit-attack``):
    its ``name``, the clean training images attacked (``clean``, disjoint from the normal training and
    test images) and the adversarial images made from them (``adversarial``; ``source_index[i]`` is
    the row of ``clean`` that image ``i`` came from)."""

    name: str
    clean: np.ndarray
    adversarial: np.ndarray
    source_index: np.ndarray


@dataclass(frozen=True)
class Split:
    """The images of one (normal class, seed); ``sources`` None means the normal test images are the
    attacks' sources themselves."""

    train: np.ndarray
    test: np.ndarray
    anomalies: dict[str, AnomalySet]
    sources: np.ndarray | None = None
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    fit_attack: FitAttack | None = None  # what a supervised detector also fits on (``protocols``, supervised)

    @property
    def source_images(self) -> np.ndarray:
        return self.test if self.sources is None else self.sources
