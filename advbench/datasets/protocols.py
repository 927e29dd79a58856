"""Where a run's normal training and test images come from: ``advbench run --protocol``.

- ``official`` (default): train on every training image of the normal class in the benchmark
  file (the 780 GTSRB training stop signs) and test on the official test images of that class
  (the 270 test stop signs), the ones the attacks start from.
- ``heldout-train``: the split of the code behind the paper's Boundary column
  (lukasruff/Deep-SVDD, ``src/datasets/GTSRB.py``): per seed, a permutation of the training
  images drawn from the seed (``numpy.random.default_rng(seed)``); its first ``HELDOUT_TEST``
  (100) images are the normal test set, the others (680) train. The attacks stay as they are,
  made from the official test images. GTSRB's training images come in tracks of about 30 frames
  of one physical sign, so the held-out normals have near-duplicates in the training set while
  the adversarial images come from signs never seen in training: a detector can score well there
  by telling seen signs from new ones. The run measures that directly as its ``clean-test`` set:
  the held-out normals against the official test images, with no attack at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advbench.errors import AdvbenchError

PROTOCOLS = ("official", "heldout-train")
#: Normal test images held out of the training images under ``heldout-train`` (Deep SVDD's GTSRB code).
HELDOUT_TEST = 100
#: The anomaly set that ``heldout-train`` adds: the official test images of the normal class.
CLEAN_TEST = "clean-test"


@dataclass(frozen=True)
class NormalSets:
    """The normal images a detector trains and is tested on, and which rows of the file they are.

    ``train_rows`` index ``/normal/train``; ``test_rows`` index ``/normal/train`` too under
    ``heldout-train`` and are None under ``official`` (the test set is ``/normal/test``).
    """

    train: np.ndarray
    test: np.ndarray
    train_rows: np.ndarray
    test_rows: np.ndarray | None


def check_size(protocol: str, n_train: int, where: str) -> None:
    """AdvbenchError naming ``where`` when its ``n_train`` training images are too few for ``protocol``."""
    if protocol == "heldout-train" and n_train <= HELDOUT_TEST:
        raise AdvbenchError(f"{where}: --protocol heldout-train holds out {HELDOUT_TEST} training images and needs "
                            f"more than that; the file has {n_train}")  # fmt: skip


def normal_sets(normal_train: np.ndarray, normal_test: np.ndarray, protocol: str, seed: int) -> NormalSets:
    """The training and test images of one seed under ``protocol`` (see the module docstring)."""
    if protocol == "official":
        return NormalSets(normal_train, normal_test, np.arange(len(normal_train)), None)
    if protocol != "heldout-train":
        raise ValueError(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    order = np.random.default_rng(seed).permutation(len(normal_train))
    test_rows, train_rows = order[:HELDOUT_TEST], order[HELDOUT_TEST:]
    return NormalSets(normal_train[train_rows], normal_train[test_rows], train_rows, test_rows)
