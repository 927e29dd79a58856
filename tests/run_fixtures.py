"""A small synthetic benchmark file and a fast detector configuration for the run/report tests.

The "attacks" are the clean test images plus Gaussian pixel noise of four strengths: real images
files in the real layout, with numbers that tell detectors apart, built in well under a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from synthetic_images import smooth_images

from advbench.datasets.benchmark_file import AttackSet, BenchmarkContents, write_benchmark

NOISE = {"boundary": 0.02, "fgsm": 0.08, "bim": 0.05, "deepfool": 0.03}

#: One or two epochs and small batches: every deep detector fits in about a second.
FAST_CONFIG = """
[detectors.kde]
bandwidths = [0.5, 2.0]
cv = 3
[detectors.dcae]
epochs = 1
batch_size = 32
[detectors.deep-svdd]
epochs = 1
ae_epochs = 1
batch_size = 32
[detectors.deep-svdd-soft]
epochs = 1
ae_epochs = 1
warm_up_epochs = 0
batch_size = 32
[detectors.rcae]
pretrain_epochs = 1
iterations = 1
epochs_per_iteration = 1
batch_size = 32
[detectors.dual-adversarial]
epochs = 2
batch_size = 32
[detectors.ablation-single-ae]
epochs = 2
batch_size = 32
[detectors.ablation-single-ae-d]
epochs = 2
batch_size = 32
[detectors.ablation-dual-ae-d]
epochs = 2
batch_size = 32
"""


def _uint8(images: np.ndarray) -> np.ndarray:
    return np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)


def write_synthetic_benchmark(
    path: Path, n_train: int = 60, n_test: int = 30, n_attack: int = 20, seed: int = 0, benchmark: str | None = None
) -> Path:
    """Write the synthetic benchmark file to ``path`` and return it: GTSRB's stop signs by default
    (3 x 32 x 32, normal class 14), or a file of ``benchmark`` ``mnist``/``fashion-mnist`` (grey
    28 x 28, every class normal)."""
    rng = np.random.default_rng(seed)
    grey = benchmark is not None
    size = 28 if grey else 32

    def images(n: int) -> np.ndarray:
        found = smooth_images(n, rng, size)
        return found[:, :1] if grey else found

    train = _uint8(images(n_train))
    clean = images(n_test)
    attacks = {}
    for name, noise in NOISE.items():
        index = rng.choice(n_test, size=n_attack, replace=False)
        images = _uint8(clean[index] + rng.normal(0.0, noise, size=clean[index].shape))
        attacks[name] = AttackSet(
            images,
            index,
            np.ones(n_attack),
            np.full(n_attack, 1.0),
            np.full(n_attack, noise),
            {"attempted": n_test, "succeeded": n_attack},
        )
    attrs = (
        {"normal_class": 14, "seed": seed}
        if not grey
        else {"normal_class": "all", "seed": seed, "benchmark": benchmark}
    )
    write_benchmark(path, BenchmarkContents(train, _uint8(clean), attacks, attrs))
    return path


def write_config(path: Path, extra: str = "") -> Path:
    path.write_text(FAST_CONFIG + extra, encoding="utf-8")
    return path


def mann_whitney_auc(negatives, positives) -> float:
    """ROC AUC as the Mann-Whitney U statistic over every (negative, positive) pair, ties one half: an
    independent check of the runner's ``metrics.roc_auc`` (scikit-learn's ROC curve)."""
    negatives, positives = np.asarray(negatives)[:, None], np.asarray(positives)[None, :]
    return float(np.mean((positives > negatives) + 0.5 * (positives == negatives)))


def classic_run(root: Path) -> tuple[Path, Path]:
    """The synthetic benchmark file and a run folder of OC-SVM and Isolation Forest over two seeds
    (seconds), both under ``root``: what the report and site tests render."""
    from advbench.cli import main

    data = write_synthetic_benchmark(root / "bench.h5")
    out = root / "classic"
    argv = ["run", "--data", str(data), "--out", str(out), "--detectors", "ocsvm,iforest", "--seeds", "2"]
    assert main(argv) == 0
    return data, out


def rendered_reports(root: Path) -> Path:
    """``root/reports`` holding ``stop``: the ``classic_run`` folder rendered by ``advbench report`` and
    copied without its scores, as a published reports folder holds it (what the site tests build on)."""
    import shutil

    from advbench.cli import main

    _, out = classic_run(root)
    assert main(["report", str(out), "--resamples", "100"]) == 0
    reports = root / "reports"
    shutil.copytree(out, reports / "stop", ignore=shutil.ignore_patterns("scores"))
    return reports
