"""Turn raw attack outputs into stored adversarial images: drop non-finite ones, quantize, re-check.

Clean GTSRB images are 8-bit. An adversarial image left in float would differ from them by its
pixel grid alone, which a detector could learn instead of the content, so every adversarial
image is rounded to 8 bits (``round(255 x)``) as an image file would hold it, classified again
by the victim, and kept only if it still fools it. An attack has *succeeded* on an image when
the rounded image fools the victim, for every attack alike; how many fooled it before rounding
is counted too (rounding undoes some small perturbations, and can also complete one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from advbench.attacks.victim import predict


@dataclass
class Outcome:
    """What one attack produced, row-aligned over the kept images.

    ``rows`` index the attacked images; ``attempted`` counts all of them, ``nonfinite`` those with
    NaN or infinite output, ``fooled_before_rounding`` the finite ones misclassified as the attack
    returned them, ``succeeded`` those misclassified after rounding to 8 bits: the kept ones.
    """

    rows: np.ndarray
    images: np.ndarray
    predicted_label: np.ndarray
    l2: np.ndarray
    linf: np.ndarray
    attempted: int
    fooled_before_rounding: int
    nonfinite: int

    @property
    def succeeded(self) -> int:
        return int(self.rows.shape[0])

    @property
    def kept(self) -> int:
        return self.succeeded


def quantize(images: torch.Tensor) -> np.ndarray:
    """Float images in [0, 1] -> uint8 arrays (rounded to the nearest of 256 levels, clipped)."""
    return torch.round(images.detach().clamp(0, 1) * 255).to(torch.uint8).cpu().numpy()


def distances(adversarial: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image L2 and L-inf distances between uint8 image stacks, in [0, 1] pixel units."""
    diff = (adversarial.astype(np.float64) - clean.astype(np.float64)).reshape(
        len(clean), int(np.prod(clean.shape[1:]))
    ) / 255
    return np.linalg.norm(diff, axis=1), np.abs(diff).max(axis=1, initial=0.0)


def keep_adversarial(model: nn.Module, clean: np.ndarray, adversarial: torch.Tensor, labels: np.ndarray) -> Outcome:
    """Quantize ``adversarial`` (float, aligned with uint8 ``clean`` and true ``labels``) and keep what
    fools ``model``."""
    attempted = int(adversarial.shape[0])
    labels = np.asarray(labels)
    finite = torch.isfinite(adversarial.flatten(1)).all(dim=1).cpu().numpy()
    rows = np.flatnonzero(finite)
    if rows.size:
        finite_adv = adversarial[torch.from_numpy(rows).to(adversarial.device)]
        fooled_before = int((predict(model, finite_adv).cpu().numpy() != labels[rows]).sum())
        quantized = quantize(finite_adv)
        pred = predict(model, torch.from_numpy(quantized).to(adversarial.device).float().div_(255)).cpu().numpy()
    else:
        fooled_before, quantized, pred = 0, np.empty((0, *clean.shape[1:]), np.uint8), np.empty(0, np.int64)
    fooled = pred != labels[rows]
    kept_rows = rows[fooled]
    images = quantized[fooled]
    l2, linf = distances(images, clean[kept_rows])
    return Outcome(
        rows=kept_rows.astype(np.int64),
        images=images,
        predicted_label=pred[fooled].astype(np.int64),
        l2=l2,
        linf=linf,
        attempted=attempted,
        fooled_before_rounding=fooled_before,
        nonfinite=attempted - rows.size,
    )
