"""GTSRB's normal training and test images: ``advbench run --protocol official|heldout-train``.

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
- ``supervised`` (the adversarial-detection literature's protocol, opt-in): as ``official``, and a
  supervised detector also fits on one training attack set of the file (``--fit-attack NAME``,
  ``generate-attacks --attack-train``): clean training images outside the normal training images
  and the adversarial images made from them. The test attack sets are scored, never fitted on;
  the one of the same attack is the "seen" attack, the others "unseen". The other detectors fit as
  under ``official``.

The protocols of MNIST and Fashion-MNIST are in ``oneclass``.
"""

from __future__ import annotations

import numpy as np

from advbench.datasets.splits import AnomalySet, FitAttack, Split
from advbench.errors import AdvbenchError

PROTOCOLS = ("official", "heldout-train", "supervised")
#: The protocol under which supervised detectors fit on a training attack set.
SUPERVISED = "supervised"
#: Normal test images held out of the training images under ``heldout-train`` (Deep SVDD's GTSRB code).
HELDOUT_TEST = 100
#: The anomaly set that ``heldout-train`` adds: the official test images of the normal class.
CLEAN_TEST = "clean-test"


def check_size(protocol: str, n_train: int, where: str) -> None:
    """AdvbenchError naming ``where`` when its ``n_train`` training images are too few for ``protocol``."""
    if protocol == "heldout-train" and n_train <= HELDOUT_TEST:
        raise AdvbenchError(
            f"{where}: --protocol heldout-train holds out {HELDOUT_TEST} training images and needs "
            f"more than that; the file has {n_train}"
        )


def columns(protocol: str, attacks: list[str]) -> list[str]:
    """The anomaly sets of a run: its attacks, and ``clean-test`` under ``heldout-train``."""
    return [*attacks, CLEAN_TEST] if protocol == "heldout-train" else list(attacks)


def fit_attack(bench, name: str, where: str) -> FitAttack:
    """The training attack set ``name`` of a benchmark file as a supervised detector fits on it;
    AdvbenchError naming ``where`` (the file) when the file has no such set."""
    training = bench.training
    available = list(training.sets) if training is not None else []
    if name not in available:
        hint = (
            f"its training attack sets: {', '.join(available)}"
            if available
            else ("it has no training attack sets (build it with `advbench generate-attacks --attack-train N`)")
        )
        raise AdvbenchError(f"--fit-attack {name}: not a training attack set of {where}; {hint}")
    found = training.sets[name]
    return FitAttack(name, training.sources, found.images, found.source_index)


def gtsrb_split(bench, protocol: str, seed: int, attacks: list[str], fitted_on: str | None = None) -> Split:
    """The images of one seed of a benchmark file (``benchmark_file.BenchmarkContents``) under ``protocol``;
    ``rows`` (``train_rows``, ``test_rows`` into ``/normal/train``) only under ``heldout-train``;
    under ``supervised``, ``fitted_on`` names the training attack set (``fit_attack``)."""
    sets = {name: AnomalySet(bench.attacks[name].images, bench.attacks[name].source_index) for name in attacks}
    if protocol == "official":
        return Split(bench.normal_train, bench.normal_test, sets)
    if protocol == SUPERVISED:
        return Split(bench.normal_train, bench.normal_test, sets, fit_attack=fit_attack(bench, fitted_on, "the file"))
    if protocol != "heldout-train":
        raise ValueError(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    order = np.random.default_rng(seed).permutation(len(bench.normal_train))
    test_rows, train_rows = order[:HELDOUT_TEST], order[HELDOUT_TEST:]
    sets[CLEAN_TEST] = AnomalySet(bench.normal_test)
    return Split(
        bench.normal_train[train_rows],
        bench.normal_train[test_rows],
        sets,
        sources=bench.normal_test,
        rows={"train_rows": train_rows, "test_rows": test_rows},
    )
