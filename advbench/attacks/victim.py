"""The victim: a small CNN that the attacks fool, its training and checkpoint cache.

The network takes images in [0, 1] and normalizes them itself (per-channel mean and standard
deviation of the training set, stored as buffers), so attacks work in the [0, 1] pixel box.
Architecture (defaults): conv 16-16-pool-32-32-pool-64-pool, dense 256, batch norm and dropout
-- the usual small VGG-style GTSRB classifier at half the common width, sized so that 8 epochs on
two CPU cores (a few minutes) reach the >= 95 % test accuracy the benchmark
asks for. The same network takes every benchmark's images: its input channels, side and class
count (``Architecture``) come from the benchmark (GTSRB: 3 x 32 x 32, 43 classes; MNIST and
Fashion-MNIST: 1 x 28 x 28, 10 classes), its training settings from ``VictimConfig`` over the
benchmark's victim settings (``datasets.registry``). The number of epochs is fixed in the
configuration, never chosen on test data; the test accuracy is only reported.

``state_arrays``/``model_from_arrays`` turn a trained victim into named NumPy arrays and back, so a
benchmark file can carry its victim (``datasets.benchmark_file``); ``load_file_victim`` is the one
function that returns the victim of such a file.
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
from advbench.datasets.splits import ImageSet
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


@dataclass(frozen=True)
class Architecture:
    """What the network's shape takes from the benchmark: input channels, image side and classes
    (defaults: GTSRB's 3 x 32 x 32 and 43 classes, what checkpoints from before the field hold)."""

    in_channels: int = 3
    image_size: int = 32
    num_classes: int = NUM_CLASSES

    @classmethod
    def of(cls, image_shape: tuple[int, ...], num_classes: int) -> Architecture:
        """The architecture for square ``C x S x S`` images (S at least 8: three 2x2 poolings) and ``num_classes``."""
        channels, height, width = (int(n) for n in image_shape)
        if height != width or height < 8 or channels < 1 or num_classes < 2:
            raise ValueError(f"the victim takes square images of side >= 8 and >= 2 classes; got {image_shape}")
        return cls(channels, height, int(num_classes))

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.in_channels, self.image_size, self.image_size)


class VictimNet(nn.Module):
    """VGG-style CNN for ``C x S x S`` inputs in [0, 1] (GTSRB's 3 x 32 x 32 by default); normalization
    is the first layer."""

    def __init__(
        self,
        width: int = 16,
        dropout: float = 0.3,
        num_classes: int = NUM_CLASSES,
        in_channels: int = 3,
        image_size: int = 32,
    ):
        super().__init__()
        self.architecture = Architecture(in_channels, image_size, num_classes)
        self.register_buffer("mean", torch.full((1, in_channels, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, in_channels, 1, 1), 0.25))
        w = width

        def conv(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *conv(in_channels, w),
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
            nn.Linear(4 * w * (image_size // 8) ** 2, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(256, num_classes),
        )

    @classmethod
    def build(cls, config: VictimConfig, architecture: Architecture) -> VictimNet:
        """The untrained network of ``config``'s width and dropout and ``architecture``'s shape."""
        return cls(
            config.width, config.dropout, architecture.num_classes, architecture.in_channels, architecture.image_size
        )

    def set_normalization(self, images: torch.Tensor) -> None:
        """Set the input normalization to the per-channel mean and std of ``images`` (N x C x H x W in [0, 1])."""
        self.mean.copy_(images.mean(dim=(0, 2, 3), keepdim=True))
        self.std.copy_(images.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-3))

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic part: normalization and the convolutional blocks (the dropout is in ``classifier``)."""
        return self.features((x - self.mean) / self.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.trunk(x))


def to_float(images: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 N x C x H x W -> float32 tensor in [0, 1] on ``device``."""
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
    train: ImageSet,
    config: VictimConfig,
    *,
    num_classes: int = NUM_CLASSES,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = False,
    log=None,
) -> tuple[VictimNet, list[dict]]:
    """Train the victim on ``train``'s uint8 ``N x C x S x S`` images labelled ``0..num_classes - 1``;
    return the model (eval mode) and per-epoch loss/accuracy/seconds.

    ``log``, when given, receives one line per finished epoch.
    """
    from tqdm import tqdm

    device = torch.device(device)
    images, labels = train.images, train.labels
    generator = seed_everything(seed)
    model = VictimNet.build(config, Architecture.of(images.shape[1:], num_classes)).to(device)
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
    """Write the victim (state dict on CPU, config, architecture, training history, provenance) atomically."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": asdict(config),
        "architecture": asdict(model.architecture),
        "history": history,
        "meta": meta,
        "state_dict": state,
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(payload, tmp)


def _first_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"


def load_checkpoint(
    path: str | os.PathLike, device: torch.device | str = "cpu"
) -> tuple[VictimNet, VictimConfig, list[dict], dict]:
    """Load a victim checkpoint (weights only); DataError naming the file when it is missing or not one.
    A checkpoint without an ``architecture`` (written before it was recorded) is GTSRB's."""
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
        model = VictimNet.build(config, Architecture(**payload.get("architecture", {})))
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise DataError(f"--victim {path}: damaged checkpoint ({_first_line(exc)})") from None
    model.to(device).eval()
    return model, config, payload.get("history", []), payload.get("meta", {})


def state_arrays(model: VictimNet) -> dict[str, np.ndarray]:
    """The victim's weights and buffers (batch-norm statistics, input normalization) as NumPy arrays by name."""
    return {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}


def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """sha256 of named arrays (by name: name, dtype, shape and bytes of each): a victim's weights hash."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def victim_record(model: VictimNet, config: VictimConfig, history: list[dict], test_accuracy: float) -> dict:
    """What a benchmark file stores of its victim (``datasets.benchmark_file``): ``arrays`` (the state
    by name) and ``attrs``: architecture, training settings and history, input normalization, test
    accuracy and the arrays' sha256."""
    arrays = state_arrays(model)
    attrs = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "architecture": asdict(model.architecture),
        "config": asdict(config),
        "history": history,
        "normalization": {"mean": arrays["mean"].ravel().tolist(), "std": arrays["std"].ravel().tolist()},
        "test_accuracy": float(test_accuracy),
        "sha256": arrays_sha256(arrays),
    }
    return {"arrays": arrays, "attrs": attrs}


def load_file_victim(
    path: str | os.PathLike, device: torch.device | str = "cpu", flag: str = "--victim-from"
) -> tuple[VictimNet, VictimConfig, list[dict], dict]:
    """The victim stored in the benchmark file ``path`` (eval mode, on ``device``), its training settings,
    history and ``meta`` (the stored attributes: architecture, normalization, test accuracy, sha256,
    and the file's ``benchmark`` and ``image_shape``), as ``load_checkpoint`` returns a checkpoint's.

    DataError naming ``flag`` and the file when it holds no victim (written before schema 4) or a
    damaged one (arrays that do not hash to the recorded sha256 or do not fit the architecture).
    """
    from advbench.datasets.benchmark_file import read_victim

    arrays, meta = read_victim(path, flag)
    where = f"{flag} {path}"
    if arrays_sha256(arrays) != meta.get("sha256"):
        raise DataError(f"{where}: damaged victim (its weights do not match their recorded sha256)")
    try:
        config = VictimConfig.from_dict(meta["config"])
        model = VictimNet.build(config, Architecture(**meta["architecture"]))
        model.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in arrays.items()})
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise DataError(f"{where}: damaged victim ({_first_line(exc)})") from None
    model.to(device).eval()
    return model, config, meta.get("history", []), meta
