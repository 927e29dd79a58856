"""The victim: a small 43-class GTSRB CNN that the attacks fool, its training and checkpoint cache.

The network takes images in [0, 1] and normalizes them itself (per-channel mean and standard
deviation of the training set, stored as buffers), so attacks work in the [0, 1] pixel box.
Architecture (defaults): conv 16-16-pool-32-32-pool-64-pool, dense 256, batch norm and dropout
-- the usual small VGG-style GTSRB classifier at half the common width, sized so that 8 epochs on
two CPU cores (about 5 minutes on a quiet machine) reach the >= 95 % test accuracy the benchmark
asks for. The number of epochs is fixed in the
configuration, never chosen on test data; the test accuracy is only reported.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advbench.attacks.settings import coerce
from advbench.errors import DataError
from advbench.fileio import atomic_path
from advbench.torch_utils import batched_apply, check_finite, minibatches, seed_everything

NUM_CLASSES = 43
#: Tag and version written into checkpoints; bump the version when the network changes.
CHECKPOINT_FORMAT = "advbench-victim"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class VictimConfig:
    """Training settings of the victim (defaults: a budget of a few CPU minutes, see module docstring).

    epochs, batch_size, lr, weight_decay: AdamW with a cosine learning-rate decay to zero over all
    steps (common small-CNN settings). width: channels of the first conv block (doubled per block).
    augment: random shifts of up to ``shift`` (fraction of the side), rotations of up to
    ``rotate`` degrees, scaling by 1 +/- ``scale`` and brightness by 1 +/- ``brightness``; they
    stand in for the viewpoint and lighting changes between GTSRB's training tracks and test set.
    """

    epochs: int = 8
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    width: int = 16
    dropout: float = 0.3
    augment: bool = True
    shift: float = 0.1
    rotate: float = 10.0
    scale: float = 0.1
    brightness: float = 0.2

    @classmethod
    def from_dict(cls, values: dict) -> VictimConfig:
        """Build from a mapping, casting each value to its default's type; ValueError names bad keys."""
        defaults = {f.name: f.default for f in fields(cls)}
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise ValueError(f"unknown victim setting(s) {', '.join(unknown)} (known: {', '.join(defaults)})")
        config = cls(**{key: coerce("victim", key, value, defaults[key]) for key, value in values.items()})
        if config.epochs < 1 or config.batch_size < 1 or config.width < 1:
            raise ValueError("victim.epochs, victim.batch_size and victim.width must be at least 1")
        return config


class VictimNet(nn.Module):
    """VGG-style CNN for 3 x 32 x 32 inputs in [0, 1]; normalization is the first layer."""

    def __init__(self, width: int = 16, dropout: float = 0.3, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.register_buffer("mean", torch.full((1, 3, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, 3, 1, 1), 0.25))
        w = width

        def conv(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *conv(3, w),
            *conv(w, w),
            nn.MaxPool2d(2),
            *conv(w, 2 * w),
            *conv(2 * w, 2 * w),
            nn.MaxPool2d(2),
            *conv(2 * w, 4 * w),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(4 * w * 16, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(256, num_classes),
        )

    def set_normalization(self, images: torch.Tensor) -> None:
        """Set the input normalization to the per-channel mean and std of ``images`` (N x 3 x H x W in [0, 1])."""
        self.mean.copy_(images.mean(dim=(0, 2, 3), keepdim=True))
        self.std.copy_(images.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-3))

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic part: normalization and the convolutional blocks (the dropout is in ``classifier``)."""
        return self.features((x - self.mean) / self.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.trunk(x))


def to_float(images: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 N x 3 x H x W -> float32 tensor in [0, 1] on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).float().div_(255)


def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Predicted labels of float images in [0, 1] (model in eval mode, no gradients)."""
    model.eval()
    return batched_apply(lambda x: model(x).argmax(dim=1), images, batch_size)


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray, device: torch.device) -> float:
    """Top-1 accuracy on uint8 images."""
    pred = predict(model, to_float(images, device)).cpu().numpy()
    return float((pred == labels).mean())


def _augment(x: torch.Tensor, config: VictimConfig, generator: torch.Generator) -> torch.Tensor:
    """Random affine (shift, rotation, scale) and brightness change per image, drawn from ``generator``."""
    n = x.shape[0]
    u = torch.rand(n, 5, generator=generator).mul_(2).sub_(1).to(x.device)  # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(config.rotate)
    scale = 1 + u[:, 1] * config.scale
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin, u[:, 2] * 2 * config.shift], 1),
            torch.stack([sin, cos, u[:, 3] * 2 * config.shift], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return (x * (1 + u[:, 4] * config.brightness).view(-1, 1, 1, 1)).clamp_(0, 1)


def train_victim(
    images: np.ndarray,
    labels: np.ndarray,
    config: VictimConfig,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = False,
    log=None,
) -> tuple[VictimNet, list[dict]]:
    """Train the victim on uint8 images; return the model (eval mode) and per-epoch loss/accuracy/seconds.

    ``log``, when given, receives one line per finished epoch.
    """
    from tqdm import tqdm

    device = torch.device(device)
    generator = seed_everything(seed)
    model = VictimNet(config.width, config.dropout).to(device)
    x_all = to_float(images, device)
    y_all = torch.as_tensor(labels, dtype=torch.long, device=device)
    model.set_normalization(x_all)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(y_all) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs * steps_per_epoch)
    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        start, total_loss, correct = time.perf_counter(), 0.0, 0
        batches = tqdm(
            minibatches(len(y_all), config.batch_size, generator),
            total=steps_per_epoch,
            desc=f"victim epoch {epoch}/{config.epochs}",
            unit="batch",
            disable=not progress,
            leave=False,
        )
        for index in batches:
            index = index.to(device)
            x, y = x_all[index], y_all[index]
            if config.augment:
                x = _augment(x, config, generator)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += check_finite(loss.detach(), "victim", epoch) * len(y)
            correct += int((logits.argmax(1) == y).sum())
        history.append(
            {
                "epoch": epoch,
                "loss": total_loss / len(y_all),
                "train_accuracy": correct / len(y_all),
                "seconds": time.perf_counter() - start,
            }
        )
        if log is not None:
            log(
                "victim epoch {epoch}: loss {loss:.4f}, train accuracy {train_accuracy:.4f}, {seconds:.0f} s".format(
                    **history[-1]
                )
            )
    model.eval()
    return model, history


def cache_key(data_sha256: str, config: VictimConfig, seed: int) -> str:
    """Short hash of the data's content hash, training settings, seed and checkpoint version."""
    payload = json.dumps([CHECKPOINT_VERSION, data_sha256, asdict(config), int(seed)], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def save_checkpoint(
    path: str | os.PathLike, model: VictimNet, config: VictimConfig, history: list[dict], meta: dict
) -> None:
    """Write the victim (state dict on CPU, config, training history, provenance) atomically."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": asdict(config),
        "history": history,
        "meta": meta,
        "state_dict": state,
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(payload, tmp)


def load_checkpoint(
    path: str | os.PathLike, device: torch.device | str = "cpu"
) -> tuple[VictimNet, VictimConfig, list[dict], dict]:
    """Load a victim checkpoint (weights only); DataError naming the file when it is missing or not one."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"--victim {path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged or foreign file
        raise DataError(f"--victim {path}: not a readable torch checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise DataError(f"--victim {path}: not an advbench victim checkpoint")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise DataError(
            f"--victim {path}: checkpoint version {payload.get('version')} is not {CHECKPOINT_VERSION}; retrain it"
        )
    try:
        config = VictimConfig.from_dict(payload["config"])
        model = VictimNet(config.width, config.dropout)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise DataError(
            f"--victim {path}: damaged checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from None
    model.to(device).eval()
    return model, config, payload.get("history", []), payload.get("meta", {})
