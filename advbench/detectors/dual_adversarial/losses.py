"""The loss terms of eqs. (2)-(11) of the dual-adversarial paper, as plain functions.

Every norm is averaged over the batch. Within one image, ``reduction`` decides its scale:

- ``"mean"``: per-entry units, as PyTorch's losses reduce by default (the paper's implementation
  is in PyTorch): ``||a - b||_1`` divided by the number of pixels, ``||z - z'||_2`` divided by
  the square root of the latent size (the root mean square), the KL term averaged over latent
  coordinates. The terms of eq. (1) are then of comparable size, so the paper's weights act.
- ``"sum"``: the norms as written, summed over the pixels of a standardized image or over the
  latent coordinates. The reconstruction terms are then about 3,000 times larger than the
  adversarial and mutual-information terms (``docs/dual-adversarial.md`` gives the measured gradient
  shares).

The anomaly score is always the per-image sum ``per_image_l1`` (the reduction only rescales it).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

#: Upper end of the Jensen-Shannon estimate below (2 JS(P, Q) <= log 4 nats).
LOG4 = math.log(4.0)


#: Accepted values of ``reduction``.
REDUCTIONS = ("mean", "sum")


def per_image_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``||a - b||_1`` of each image (sum of absolute pixel errors); also the anomaly score."""
    return (a - b).abs().flatten(1).sum(dim=1)


def image_l1(a: torch.Tensor, b: torch.Tensor, reduction: str) -> torch.Tensor:
    """Eqs. (3), (5): ``E ||a - b||_1`` over the batch, per pixel with ``reduction="mean"``."""
    per_image = per_image_l1(a, b)
    return (per_image / a[0].numel() if reduction == "mean" else per_image).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Eq. (2), the D side: binary cross-entropy of real ``x`` (label 1) vs. ``G(x)`` (label 0)."""
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_adversarial_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Eq. (2), the G side, in the non-saturating form ``-log D(G(x))`` (Goodfellow et al., 2014)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def latent_distance(z: torch.Tensor, z_aux: torch.Tensor, reduction: str) -> torch.Tensor:
    """``||z - z_aux||_2`` of each image (smoothed at 0 by 1e-8), the RMS with ``reduction="mean"``: the
    distance inside eq. (4), and the ``latent`` score variant (``detector.py``)."""
    squares = (z - z_aux).flatten(1).pow(2)
    return ((squares.mean(dim=1) if reduction == "mean" else squares.sum(dim=1)) + 1e-8).sqrt()


def latent_loss(z: torch.Tensor, z_aux: torch.Tensor, reduction: str) -> torch.Tensor:
    """Eq. (4): ``E ||G_e(x) - G'_e(G(x))||_2``, the batch mean of ``latent_distance``."""
    return latent_distance(z, z_aux, reduction).mean()


def dual_loss(real_error: torch.Tensor, fake_error: torch.Tensor, k: float) -> torch.Tensor:
    """Eq. (6): ``L_dual = ||x - D'(x)||_1 - k ||G(x) - D'(G(x))||_1`` from the two errors of eq. (5)."""
    return real_error - k * fake_error


def kl_standard_normal(mean: torch.Tensor, logvar: torch.Tensor, reduction: str) -> torch.Tensor:
    """``KL(N(mean, exp(logvar)) || N(0, I))`` of each image, summed (or averaged) over latent dimensions."""
    terms = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar)
    return (terms.mean(dim=1) if reduction == "mean" else terms.sum(dim=1)).mean()


def js_mi_loss(positive_logits: torch.Tensor, negative_logits: torch.Tensor) -> torch.Tensor:
    """Eq. (11) without its sign and weights: ``-E_P[log sigma(T)] - E_Q[log(1 - sigma(T))]``.

    ``P`` are matching (x, z) pairs, ``Q`` mismatched ones. Minimizing this over T and the encoder
    maximizes the Jensen-Shannon lower bound on the mutual information (Nowozin et al., 2016;
    Hjelm et al., 2019). ``LOG4 - js_mi_loss`` is the estimate itself (``2 JS``, 0 at chance).
    """
    return F.softplus(-positive_logits).mean() + F.softplus(negative_logits).mean()
