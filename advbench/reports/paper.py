"""Published reference numbers that advbench compares with, kept as data.

Source: Chen et al., "Latent Regularized Generative Dual Adversarial Network For Abnormal
Detection". Table 4: average AUC in % with standard deviation over 10 seeds per method on GTSRB
stop signs under four attacks. Table 1: ablation study, one AUC per variant on the STOP SIGN data
(the paper does not say which attack or attacks that number covers).

Row names of the paper are mapped to advbench's detector names (``PAPER_NAMES`` gives the paper's
label of each, ``TABLE1_NAMES`` for Table 1), attack columns to advbench's attack names.
"""

from __future__ import annotations

CITATION = 'Chen et al., "Latent Regularized Generative Dual Adversarial Network For Abnormal Detection"'

#: advbench detector name -> the row label in the paper's Table 4.
PAPER_NAMES: dict[str, str] = {
    "ocsvm": "OC-SVM/SVDD",
    "kde": "KDE",
    "iforest": "IF",
    "dcae": "DCAE",
    "mahalanobis": "MAHALANOBIS",
    "deep-svdd-soft": "SOFT-BOUND",
    "deep-svdd": "ONE-CLASS",
    "rcae": "RCAE",
    "dual-adversarial": "Ours",
}

#: advbench detector name -> the row label in the paper's Table 1.
TABLE1_NAMES: dict[str, str] = {
    "ablation-single-ae": "Single autoencoder",
    "ablation-single-ae-d": "Single autoencoder + Discriminator",
    "ablation-dual-ae-d": "Dual autoencoder + Discriminator",
    "dual-adversarial": "Dual autoencoder + Discriminator + Mutual information",
}

#: Table 4: detector -> attack -> (mean AUC %, std %), over 10 seeds.
TABLE4: dict[str, dict[str, tuple[float, float]]] = {
    "ocsvm": {"boundary": (67.5, 1.2), "fgsm": (19.9, 0.1), "bim": (19.9, 0.9), "deepfool": (18.6, 0.1)},
    "kde": {"boundary": (60.5, 1.7), "fgsm": (69.3, 0.4), "bim": (53.3, 0.4), "deepfool": (51.8, 0.5)},
    "iforest": {"boundary": (73.8, 0.9), "fgsm": (44.4, 0.8), "bim": (53.9, 0.6), "deepfool": (51.1, 0.9)},
    "dcae": {"boundary": (79.1, 3.0), "fgsm": (36.7, 0.5), "bim": (45.1, 0.0), "deepfool": (36.8, 0.5)},
    "mahalanobis": {"boundary": (56.0, 0.5), "fgsm": (58.1, 0.3), "bim": (56.1, 0.5), "deepfool": (56.7, 0.9)},
    "deep-svdd-soft": {"boundary": (77.8, 4.9), "fgsm": (82.7, 0.5), "bim": (74.9, 0.8), "deepfool": (78.4, 0.4)},
    "deep-svdd": {"boundary": (80.3, 2.8), "fgsm": (82.8, 0.1), "bim": (81.8, 0.5), "deepfool": (65.8, 0.7)},
    "rcae": {"boundary": (87.4, 2.7), "fgsm": (57.6, 0.7), "bim": (64.5, 0.8), "deepfool": (46.3, 0.3)},
    "dual-adversarial": {"boundary": (90.5, 1.6), "fgsm": (84.4, 0.2), "bim": (85.9, 0.9), "deepfool": (84.6, 0.5)},
}

#: Table 1, STOP SIGN column: detector -> AUC (a fraction, one number per variant).
TABLE1: dict[str, float] = {
    "ablation-single-ae": 0.194,
    "ablation-single-ae-d": 0.403,
    "ablation-dual-ae-d": 0.894,
    "dual-adversarial": 0.921,
}
