"""Tiny synthetic GTSRB stand-in and tiny victim settings for the attack and benchmark-file tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from advbench.attacks.pipeline import GenerateConfig
from advbench.attacks.victim import VictimConfig, train_victim
from advbench.datasets.gtsrb import GTSRB
from advbench.datasets.splits import ImageSet

#: Classes present in the synthetic set (14 is the normal class, as on GTSRB).
CLASSES = (1, 2, 13, 14, 17, 38)


def synthetic_gtsrb(n_train: int = 30, n_test: int = 6, seed: int = 0) -> GTSRB:
    """Per class a random 4x4 colour pattern, upsampled to 32x32, plus pixel noise (uint8)."""
    rng = np.random.default_rng(seed)
    patterns = rng.integers(30, 226, size=(len(CLASSES), 3, 4, 4))

    def split(n: int) -> ImageSet:
        labels = np.repeat(np.array(CLASSES, dtype=np.int64), n)
        base = np.repeat(np.repeat(patterns, 8, axis=2), 8, axis=3)
        images = np.repeat(base, n, axis=0) + rng.normal(0, 12, size=(len(labels), 3, 32, 32))
        return ImageSet(np.clip(images, 0, 255).astype(np.uint8), labels)

    return GTSRB(
        split(n_train), split(n_test), Path("synthetic"), "synthetic", {"synthetic.csv": "0" * 64}, f"synthetic-{seed}"
    )


TINY_VICTIM = VictimConfig(epochs=6, batch_size=30, lr=0.01, width=4, augment=False)

#: Few Boundary and DeepFool steps keep every attack to seconds; the synthetic classes are far
#: apart, so FGSM and BIM need a larger budget than on GTSRB to fool the victim.
TINY_PARAMS = {
    "boundary": {"steps": 20, "init_directions": 20, "batch_size": 8},
    "fgsm": {"eps": 0.3},
    "bim": {"eps": 0.3, "alpha": 0.05},
    "deepfool": {"steps": 5, "batch_size": 8},
}


#: ``TINY_VICTIM`` as a ``--config`` table.
TINY_VICTIM_TOML = """
[victim]
epochs = 6
batch_size = 30
lr = 0.01
width = 4
augment = false
"""
#: ``TINY_VICTIM`` and ``TINY_PARAMS`` as a ``--config`` file says them.
TINY_TOML = (
    TINY_VICTIM_TOML
    + """
[boundary]
steps = 20
init_directions = 20
batch_size = 8

[fgsm]
eps = 0.3

[bim]
eps = 0.3
alpha = 0.05

[deepfool]
steps = 5
batch_size = 8
"""
)


def frozen_victim(data: GTSRB):
    """``TINY_VICTIM`` trained on ``data`` with its weights frozen, and the test stop signs (uint8) it attacks."""
    model, _ = train_victim(data.train, TINY_VICTIM)
    for param in model.parameters():
        param.requires_grad_(False)
    stop = data.test.labels == 14
    return model, data.test.images[stop], data.test.labels[stop]


def tiny_config(**changes) -> GenerateConfig:
    """GenerateConfig for the synthetic set: CPU, the tiny victim, shortened attacks."""
    return GenerateConfig(victim=TINY_VICTIM, params=TINY_PARAMS, device="cpu", **changes)


def write_official_layout(root: Path, data: GTSRB) -> Path:
    """Write ``data`` as a GTSRB copy in the official layout (PPM files, ``;`` CSVs) under ``root``."""
    from PIL import Image

    header = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
    train_dir = root / "GTSRB" / "Final_Training" / "Images"
    test_dir = root / "GTSRB" / "Final_Test" / "Images"
    test_dir.mkdir(parents=True)
    rows: dict[int, list[str]] = {}
    for i, (image, label) in enumerate(zip(data.train.images, data.train.labels, strict=True)):
        folder = train_dir / f"{label:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.transpose(1, 2, 0)).save(folder / f"{i:05d}.ppm")
        rows.setdefault(int(label), []).append(f"{i:05d}.ppm;32;32;0;0;32;32;{label}\n")
    for label, lines in rows.items():
        (train_dir / f"{label:05d}" / f"GT-{label:05d}.csv").write_text(header + "".join(lines))
    lines = []
    for i, (image, label) in enumerate(zip(data.test.images, data.test.labels, strict=True)):
        Image.fromarray(image.transpose(1, 2, 0)).save(test_dir / f"{i:05d}.ppm")
        lines.append(f"{i:05d}.ppm;32;32;0;0;32;32;{label}\n")
    (root / "GTSRB" / "Final_Test" / "GT-final_test.csv").write_text(header + "".join(lines))
    return root


def detector_aware_candidates(model, detector, stop_signs: np.ndarray, attack: str, lambdas=(0.0, 10.0)) -> list:
    """``(labels, [adversarial per lambda])``: PGD (``attack``, a pgd variant) on the detector-aware loss
    against the fitted ``detector`` for each ``lambda``, every one from the same random start (seed 0)."""
    import torch

    from advbench.attacks.adaptive import _attack
    from advbench.attacks.backends import foolbox_batch
    from advbench.attacks.pipeline import attack_plan
    from advbench.torch_utils import seed_everything

    params = next(iter(attack_plan(GenerateConfig(attacks=(attack,))).values()))[1]
    x = torch.from_numpy(stop_signs.astype(np.float32) / 255.0)
    y = torch.full((len(x),), 14)
    scores = detector.decision_scores_
    found = []
    for lam in lambdas:
        seed_everything(0)
        found.append(
            foolbox_batch(model, _attack(params, detector, lam, scores.mean(), scores.std()), params["eps"])(x, y)
        )
    return y, found


def every_class_fgsm_file(base: Path) -> Path:
    """An every-class MNIST-type file (20 test images, FGSM only, the tiny victim in the file), built by
    the CLI from small pattern images under ``base``."""
    from idx_files import write_patterns

    from advbench import cli

    root = write_patterns(base / "mnist")
    (base / "tiny.toml").write_text(TINY_VICTIM_TOML)
    out = base / "data" / "all.h5"
    out.parent.mkdir()
    argv = ["generate-attacks", "--benchmark", "mnist", "--root", str(root), "--data-dir", str(base / "cache")]
    argv += ["--config", str(base / "tiny.toml"), "--device", "cpu", "--quiet", "--out", str(out)]
    argv += ["--normal-class", "all", "--train-size", "60", "--limit", "20", "--attacks", "fgsm"]
    assert cli.main(argv) == 0
    return out
