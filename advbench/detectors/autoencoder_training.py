"""Training and scoring loops shared by the autoencoder-based detectors (DCAE, Deep SVDD
pretraining, RCAE): preprocessing to tensors, Adam with the reference codes' step learning-rate
drop, mini-batch training on the per-image squared reconstruction error, and reconstruction
errors in eval mode. The detectors' shared setup around them is ``autoencoder_detector.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from advbench.detectors.preprocessing import ImagePreprocessor
from advbench.torch_utils import batched_apply, check_finite, evaluating, minibatches


def to_tensor(X: np.ndarray, device: torch.device) -> torch.Tensor:
    """A float32 tensor of images on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)


def fit_inputs(X: np.ndarray, gcn: bool, scaling: str | None, device: torch.device):
    """Fit an ``ImagePreprocessor`` on the training images; return it and the preprocessed tensor."""
    preprocessor = ImagePreprocessor(gcn, scaling)
    return preprocessor, to_tensor(preprocessor.fit_transform(X), device)


def adam(parameters, lr: float, weight_decay: float, lr_milestones=()):
    """Adam and its learning-rate schedule: the rate is divided by 10 at each epoch in ``lr_milestones``.

    The reference codes' two-phase schedule ("searching + fine-tuning", Ruff et al. 2018, section
    4.1: 1e-4 then 1e-5). Call ``scheduler.step()`` once per epoch.
    """
    optimizer = torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=sorted(lr_milestones), gamma=0.1)
    return optimizer, scheduler


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The learning rate the optimizer's next step uses (what ``history_`` records per epoch as ``lr``)."""
    return float(optimizer.param_groups[0]["lr"])


def squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-image sum of squared differences (the reference code's L2 reconstruction loss)."""
    return ((outputs - targets) ** 2).flatten(1).sum(dim=1)


@dataclass
class Training:
    """How ``train_reconstruction`` trains: the optimizer, the generator that shuffles the minibatches
    of ``batch_size``, the scheduler (from ``adam``; stepped after every epoch, when given), what a
    DivergenceError calls the model, and ``lrs``, the learning rate of each epoch trained
    (``current_lr``, appended to over every call)."""

    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    batch_size: int
    what: str
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    lrs: list[float] = field(default_factory=list)


def train_reconstruction(
    model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor, training: Training, epochs: int, first_epoch=0
) -> list[float]:
    """Train ``model(inputs) ~ targets`` for ``epochs`` shuffled epochs (numbered from ``first_epoch``
    in errors); return the mean loss per epoch. Raises DivergenceError (a RuntimeError) when an
    epoch's loss is NaN or infinite."""
    optimizer = training.optimizer
    model.train()
    losses = []
    for epoch in range(first_epoch, first_epoch + epochs):
        training.lrs.append(current_lr(optimizer))
        total = 0.0
        for index in minibatches(inputs.shape[0], training.batch_size, training.generator):
            optimizer.zero_grad()
            loss = squared_error(model(inputs[index]), targets[index]).mean()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
        losses.append(check_finite(total / inputs.shape[0], training.what, epoch))
        if training.scheduler is not None:
            training.scheduler.step()
    return losses


def reconstruction_errors(model: torch.nn.Module, inputs: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Per-image squared reconstruction error, in eval mode without gradients (mode restored after)."""
    with evaluating(model):
        return batched_apply(lambda x: squared_error(model(x), x), inputs, batch_size)
