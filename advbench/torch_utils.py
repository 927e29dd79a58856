"""Torch helpers shared by the detectors, the attacks and the run loop: seeding, the device
resolver, batching, divergence checks."""

from __future__ import annotations

import math
import random

import numpy as np
import torch


class DivergenceError(RuntimeError):
    """A training loss became NaN or infinite."""


def seed_everything(seed: int | None) -> torch.Generator:
    """Seed Python, NumPy and torch from ``seed`` and return a torch Generator for data order."""
    seed = 0 if seed is None else int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def resolve_device(device: str | None) -> torch.device:
    """The one device resolver: ``"auto"``/None is CUDA when this machine has it, else the CPU;
    ``cpu``, ``cuda`` and ``cuda:N`` name themselves. ValueError (without the flag or parameter
    that named it: the caller adds that) for a CUDA device this machine lacks or a name that is
    no torch device."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"not a torch device ({exc})") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("CUDA is not available on this machine (use cpu or auto)")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"this machine has {torch.cuda.device_count()} CUDA device(s)")
    return resolved


def check_device(device: str | None) -> None:
    """ValueError naming the parameter unless ``device`` is a device this machine has (``resolve_device``)."""
    try:
        resolve_device(device)
    except ValueError as exc:
        raise ValueError(f"device={device!r}: {exc}") from None


def check_finite(loss: torch.Tensor | float, what: str, epoch: int) -> float:
    """Return ``loss`` as a float, raising DivergenceError when it is NaN or infinite."""
    value = float(loss)
    if not math.isfinite(value):
        raise DivergenceError(f"{what} loss became {value} in epoch {epoch}")
    return value


def minibatches(n: int, batch_size: int, generator: torch.Generator | None = None):
    """Yield index tensors covering ``range(n)``: shuffled with ``generator``, in order without."""
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


@torch.no_grad()
def batched_apply(fn, X: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Apply ``fn`` to ``X`` in batches without gradients and concatenate the results."""
    return torch.cat([fn(X[i : i + batch_size]) for i in range(0, X.shape[0], batch_size)])


class evaluating:
    """Context manager: ``model`` in eval mode without gradients; its previous mode is restored on exit."""

    def __init__(self, model: torch.nn.Module):
        self.model = model

    def __enter__(self) -> torch.nn.Module:
        self._was_training = self.model.training
        self._grad = torch.no_grad()
        self._grad.__enter__()
        self.model.eval()
        return self.model

    def __exit__(self, *exc) -> None:
        self.model.train(self._was_training)
        self._grad.__exit__(*exc)
