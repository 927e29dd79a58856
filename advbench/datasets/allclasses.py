"""``generate-attacks --normal-class all``: every class normal, the setting of the
adversarial-detection literature (Feature Squeezing, MagNet, KD+BU, LID, Mahalanobis).

A benchmark file built this way holds, in the place of one class's images:

- ``/normal/train``: a seeded, class-stratified sample of the benchmark's clean training split,
  ``--train-size`` images (``DEFAULT_TRAIN_SIZE``; the whole split when it holds no more), the
  images every detector trains on;
- ``/normal/test``: a seeded, class-stratified sample of the test images that the victim
  classifies correctly, ``--limit`` images (``DEFAULT_LIMIT``); the attacks start from exactly
  these images, so every adversarial image has its clean source among the normal test images.

Both samples are drawn by scikit-learn's stratified ``train_test_split`` (each class in proportion
to its share, rounded as scikit-learn rounds), seeded with the file's ``--seed``, and kept in the
split's order; their rows in the official splits and their labels are stored beside them.

``DEFAULT_TRAIN_SIZE`` is measured, not guessed: ``benchmarks/bench_train_size.py`` times one fit
and score of every default detector on class-stratified MNIST samples of growing size, and 10,000
is the largest round size at which the slowest of them (the dual-adversarial detector, linear in
the training images) fits and scores one seed in about ten minutes on one thread; every other
default detector takes it (OC-SVM and KDE, quadratic in the sample, take minutes).
``docs/commands.md`` (``--train-size``) gives the measured figures and the machine.
"""

from __future__ import annotations

import numpy as np

from advbench.errors import AdvbenchError

#: The value of ``--normal-class`` that makes every class normal.
ALL = "all"
#: Default ``--train-size``: images in the detectors' training sample (see the module docstring).
DEFAULT_TRAIN_SIZE = 10_000
#: Default ``--limit`` under ``--normal-class all``: clean test images attacked (as the literature's 1,000).
DEFAULT_LIMIT = 1_000


def parse_normal_class(text: str, benchmark) -> int | str:
    """``all`` or a class id of ``benchmark`` (``datasets.registry.Benchmark``); AdvbenchError naming
    ``--normal-class`` otherwise."""
    if str(text).strip().lower() == ALL:
        return ALL
    try:
        value = int(text)
    except ValueError:
        raise AdvbenchError(
            f"--normal-class {text!r}: expected all or a {benchmark.label} class id in 0..{benchmark.num_classes - 1}"
        ) from None
    return benchmark.check_class(value)


def stratified_rows(labels: np.ndarray, size: int, seed: int, flag: str) -> np.ndarray:
    """Sorted rows of a seeded sample of ``size`` of ``labels``' rows, each class in proportion to
    its share (all rows when ``size`` is at least their number); AdvbenchError naming ``flag`` when
    scikit-learn cannot draw it (fewer rows than classes, a class with one row, ...)."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if size >= len(labels):
        return np.arange(len(labels))
    try:
        rows, _ = train_test_split(np.arange(len(labels)), train_size=size, stratify=labels, random_state=seed)
    except ValueError as exc:
        raise AdvbenchError(
            f"{flag} {size}: no class-stratified sample of {size} from {len(labels)} images of "
            f"{len(np.unique(labels))} classes ({(str(exc).splitlines() or [''])[0]})"
        ) from None
    return np.sort(rows)


def test_rows(labels: np.ndarray, correct: np.ndarray, limit: int, seed: int, flag: str = "--limit") -> np.ndarray:
    """Rows to attack: a stratified sample (``stratified_rows``) of ``limit`` of the rows the victim
    classifies correctly (``correct``, boolean); AdvbenchError naming ``flag`` (``--limit`` for the
    test split, ``--attack-train`` for the held-out training images) when there are fewer of them."""
    eligible = np.flatnonzero(correct)
    if limit > len(eligible):
        what = "test images" if flag == "--limit" else "held-out training images"
        raise AdvbenchError(
            f"{flag} {limit}: the victim classifies only {len(eligible)} of the {len(labels)} {what} "
            "correctly; attack at most that many"
        )
    return eligible[stratified_rows(np.asarray(labels)[eligible], limit, seed, flag)]
