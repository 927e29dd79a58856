"""Published one-class AUCs that the MNIST and Fashion-MNIST reports compare with, kept as data.

- ``DEEP_SVDD_MNIST``: Ruff et al., "Deep One-Class Classification" (ICML 2018), Table 1, MNIST:
  mean AUC in % and standard deviation over 10 seeds per normal digit, under Protocol 2 (train on
  the digit's training images, test on the whole test split) with GCN-l1 and min-max scaling.
  The one-class Deep SVDD means were checked against an independent copy of the table; the
  other cells are transcribed from the paper and have no second source here.
- ``PAPER_TABLE1_MNIST``: the paper's Table 1, MNIST column (ablation, Protocol 2, mean AUC over
  the ten digits as a fraction).
- ``PAPER_TABLE2``: the paper's Table 2 (Protocol 1, mean AUC over classes as a fraction) for the
  benchmarks we have; its COIL-100 column has no data here.
"""

from __future__ import annotations

#: The benchmarks whose protocol-2 numbers Deep SVDD's Table 1 and the paper's Table 1 publish.
PROTOCOL_2_PUBLISHED = frozenset({"mnist"})

DEEP_SVDD_CITATION = 'Ruff et al., "Deep One-Class Classification", ICML 2018, Table 1'

#: advbench detector -> Deep SVDD's Table 1 row label.
DEEP_SVDD_NAMES = {
    "ocsvm": "OC-SVM/SVDD",
    "kde": "KDE",
    "iforest": "IF",
    "dcae": "DCAE",
    "deep-svdd-soft": "soft-bound. Deep SVDD",
    "deep-svdd": "one-class Deep SVDD",
}

_ROWS = {  # digit: OC-SVM, KDE, IF, DCAE, soft-boundary, one-class (mean, std)
    0: ((98.6, 0.0), (97.1, 0.0), (98.0, 0.3), (97.6, 0.7), (97.8, 0.7), (98.0, 0.7)),
    1: ((99.5, 0.0), (98.9, 0.0), (97.3, 0.4), (98.3, 0.6), (99.6, 0.1), (99.7, 0.1)),
    2: ((82.5, 0.1), (79.0, 0.0), (88.6, 0.5), (85.4, 2.4), (89.5, 1.2), (91.7, 0.8)),
    3: ((88.1, 0.0), (86.2, 0.0), (89.9, 0.4), (86.7, 0.9), (90.3, 2.1), (91.9, 1.5)),
    4: ((94.9, 0.0), (87.9, 0.0), (92.7, 0.6), (86.5, 2.0), (93.8, 1.5), (94.9, 0.8)),
    5: ((77.1, 0.0), (73.8, 0.0), (85.5, 0.8), (78.2, 2.7), (85.8, 2.5), (88.5, 0.9)),
    6: ((96.5, 0.0), (87.6, 0.0), (95.6, 0.3), (94.6, 0.5), (98.0, 0.4), (98.3, 0.5)),
    7: ((93.7, 0.0), (91.4, 0.0), (92.0, 0.4), (92.3, 1.0), (92.7, 1.4), (94.6, 0.9)),
    8: ((88.9, 0.0), (79.2, 0.0), (89.9, 0.4), (86.5, 1.6), (92.9, 1.4), (93.9, 1.6)),
    9: ((93.1, 0.0), (88.2, 0.0), (93.5, 0.3), (90.4, 1.8), (94.9, 0.6), (96.5, 0.3)),
}

#: detector -> digit -> (mean AUC %, std %).
DEEP_SVDD_MNIST: dict[str, dict[int, tuple[float, float]]] = {
    name: {digit: row[column] for digit, row in _ROWS.items()} for column, name in enumerate(DEEP_SVDD_NAMES)
}

#: The paper's Table 1, MNIST column (Protocol 2): detector -> mean AUC over digits (fraction).
PAPER_TABLE1_MNIST = {
    "ablation-single-ae": 0.510,
    "ablation-single-ae-d": 0.531,
    "ablation-dual-ae-d": 0.972,
    "dual-adversarial": 0.985,
}

#: The paper's Table 2 (Protocol 1): row label -> benchmark -> mean AUC over classes (fraction);
#: ``TABLE2_DETECTORS`` maps our detectors to its rows.
PAPER_TABLE2 = {
    "Proposed method": {"mnist": 0.985, "fashion-mnist": 0.995},
    "DCAE": {"mnist": 0.899, "fashion-mnist": 0.908},
    "OCGAN": {"mnist": 0.977, "fashion-mnist": 0.924},
    "GPND": {"mnist": 0.932, "fashion-mnist": 0.901},
    "ALOCC DR": {"mnist": 0.88, "fashion-mnist": 0.753},
    "ALOCC D": {"mnist": 0.82, "fashion-mnist": 0.601},
}
TABLE2_DETECTORS = {"dual-adversarial": "Proposed method", "dcae": "DCAE"}
