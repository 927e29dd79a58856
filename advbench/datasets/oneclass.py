"""One-class protocols on labelled image benchmarks (MNIST, Fashion-MNIST): ``--protocol 1|2``.

One class is normal, every other class anomalous; the two protocols are those of the paper's
section 4.1, after Perera et al. (OCGAN, CVPR 2019):

- Protocol ``2``: train on every training image of the normal class; test on the whole test
  split, the normal class's test images as normals and the other classes' test images as the
  anomaly set ``other-classes`` (Deep SVDD's protocol, Ruff et al. 2018, so its Table 1 compares).
  Nothing is drawn: the seed changes only the detectors' own randomness.
- Protocol ``1``: the normal class's images of both splits are pooled (OCGAN merges the official
  splits for this protocol); per seed a permutation (``numpy.random.default_rng(seed)``) puts the
  first 80% (rounded down) into training and the other 20% into the normal test set; the anomaly
  set ``other-classes`` is as many images again, drawn without replacement by the same generator
  from the other classes of the official test split, so no anomaly was ever a training image of
  the normal class's neighbours.

Rows stored with the scores (``Split.rows``): ``train_rows`` and ``test_rows`` index the pooled
images ``concatenate([train_images, test_images])`` of the benchmark (rows ``>= len(train)`` are
test-split images), ``anomaly_rows`` the official test split.
"""

from __future__ import annotations

import numpy as np

from advbench.datasets.splits import AnomalySet, Split
from advbench.errors import AdvbenchError

PROTOCOLS = ("1", "2")
#: The anomaly set of both protocols.
OTHER_CLASSES = "other-classes"
#: Protocol 1's share of the normal class that trains (OCGAN: 80%).
TRAIN_SHARE = 0.8


def parse_classes(spec: str, available: list[int]) -> list[int]:
    """``all`` or a comma list of class labels (``0,3,7``), each one of ``available``; AdvbenchError otherwise."""
    if str(spec).strip() == "all":
        return list(available)
    try:
        wanted = [int(part) for part in str(spec).split(",") if part.strip()]
    except ValueError:
        raise AdvbenchError(f"--classes: expected all or a comma list of class labels; got {spec!r}") from None
    unknown = [c for c in wanted if c not in available]
    if not wanted or unknown or len(set(wanted)) != len(wanted):
        raise AdvbenchError(f"--classes: expected distinct labels among {', '.join(map(str, available))}; got {spec!r}")
    return wanted


def split(data, protocol: str, normal_class: int, seed: int) -> Split:
    """The images of ``normal_class`` and ``seed`` of ``data`` (``mnist.ImageClasses``) under ``protocol``."""
    train_of = np.flatnonzero(data.train_labels == normal_class)
    test_of = np.flatnonzero(data.test_labels == normal_class)
    others = np.flatnonzero(data.test_labels != normal_class)
    n_train = len(data.train_labels)
    if protocol == "2":
        return Split(
            data.train_images[train_of],
            data.test_images[test_of],
            {OTHER_CLASSES: AnomalySet(data.test_images[others])},
            rows={"train_rows": train_of, "test_rows": n_train + test_of, "anomaly_rows": others},
        )
    if protocol != "1":
        raise ValueError(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    pool = np.r_[train_of, n_train + test_of]
    rng = np.random.default_rng(seed)
    order = pool[rng.permutation(len(pool))]
    cut = int(TRAIN_SHARE * len(pool))
    train_rows, test_rows = order[:cut], order[cut:]
    anomaly_rows = np.sort(rng.choice(others, size=min(len(test_rows), len(others)), replace=False))
    pooled = _pooled(data)
    return Split(
        pooled(train_rows),
        pooled(test_rows),
        {OTHER_CLASSES: AnomalySet(data.test_images[anomaly_rows])},
        rows={"train_rows": train_rows, "test_rows": test_rows, "anomaly_rows": anomaly_rows},
    )


def _pooled(data):
    """Images by row of ``concatenate([train_images, test_images])``, without building that array."""
    n_train = len(data.train_labels)

    def take(rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), *data.train_images.shape[1:]), dtype=data.train_images.dtype)
        in_train = rows < n_train
        out[in_train] = data.train_images[rows[in_train]]
        out[~in_train] = data.test_images[rows[~in_train] - n_train]
        return out

    return take
