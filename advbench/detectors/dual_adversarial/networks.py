"""Torch modules of the dual-adversarial detector, built for the shape of the training images.

The paper (Chen et al., "Latent Regularized Generative Dual Adversarial Network for Abnormal
Detection", section 3.1 and its Figure 2) names the parts but gives no layer sizes in the text,
so the architecture here is our choice: a small DCGAN-style network (Radford et al., 2016),
4x4 convolutions of stride 2, batch normalization after every convolution but the first and
the last, LeakyReLU(0.2) in encoders and discriminators, ReLU in decoders.

Sizes follow from the input shape ``C x H x W`` (``Geometry``): each stride-2 convolution halves
the side (rounding down), so ``3 x 32 x 32 -> c1 x 16 x 16 -> c2 x 8 x 8 -> c3 x 4 x 4`` for GTSRB
and ``1 x 28 x 28 -> 14 -> 7 -> 3`` for MNIST; each transposed convolution of the decoder doubles
the side and adds the one pixel that rounding dropped (``output_padding``), so the decoder returns
exactly ``C x H x W``.

- :class:`Encoder`: ``CxHxW -> c1 -> c2 -> c3 -> (mean, log-variance)``. The ``c2`` map is the
  "middle feature map" used by the local mutual-information estimator. The log-variance head
  exists only when the encoder is variational; it is clamped to ``[LOGVAR_MIN, LOGVAR_MAX]``.
- :class:`Decoder`: the mirror image; its last layer is a sigmoid, so a reconstruction is an
  image in ``[0, 1]``, which is then standardized with the training mean and std. The output
  therefore lives in the same (normalized) space as the inputs and is bounded, which also keeps
  the auxiliary autoencoder's ``-k`` term (eq. 6) from growing without limit.
- :class:`AutoEncoder`: encoder + decoder; used for the generator G and the auxiliary D'.
- :class:`Discriminator`: the image discriminator D, one logit per image.
- :class:`MIEstimator`: the statistics network T of eq. (11), global part (middle map + z ->
  one logit) and local part (middle map with z tiled over its positions -> one logit per position),
  after Deep InfoMax (Hjelm et al., ICLR 2019).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


def _down(c_in: int, c_out: int, norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def _up(c_in: int, c_out: int, extra: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, output_padding=extra, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


class Geometry(NamedTuple):
    """Spatial sizes of one input shape: ``sides[i]`` is (H, W) after ``i`` stride-2 convolutions."""

    channels: int
    sides: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, shape) -> Geometry:
        """The geometry of ``C x H x W`` images; ValueError when a side is too small for three halvings."""
        c, h, w = (int(v) for v in shape)
        if min(h, w) < 8:
            raise ValueError(f"the dual-adversarial networks need images of at least 8 x 8 pixels; got {h} x {w}")
        sides = [(h, w)]
        for _ in range(3):
            sides.append((sides[-1][0] // 2, sides[-1][1] // 2))
        return cls(c, tuple(sides))

    def area(self, level: int) -> int:
        return self.sides[level][0] * self.sides[level][1]

    def extra(self, level: int) -> tuple[int, int]:
        """``output_padding`` of the transposed convolution from ``level`` to ``level - 1``."""
        (h, w), (h_in, w_in) = self.sides[level - 1], self.sides[level]
        return h - 2 * h_in, w - 2 * w_in


#: Range of the encoder's log-variance (ours). Without the upper bound, adversarial training at the
#: paper's learning rate lets it run away (KL above 1e8 within 15 epochs on the stop signs); a
#: posterior wider than e times the prior's std is never needed.
LOGVAR_MIN, LOGVAR_MAX = -10.0, 2.0


class Encoding(NamedTuple):
    """What an encoder pass gives: latent mean, log-variance (None if not variational), middle map."""

    mean: torch.Tensor
    logvar: torch.Tensor | None
    middle: torch.Tensor


class Encoder(nn.Module):
    """Convolutional encoder to a latent mean (and log-variance when ``variational``)."""

    def __init__(self, latent_dim: int, channels: tuple[int, int, int], variational: bool, geometry: Geometry):
        super().__init__()
        c1, c2, c3 = channels
        top = c3 * geometry.area(3)
        self.to_middle = nn.Sequential(_down(geometry.channels, c1, norm=False), _down(c1, c2, norm=True))
        self.to_top = _down(c2, c3, norm=True)
        self.mean = nn.Linear(top, latent_dim)
        self.logvar = nn.Linear(top, latent_dim) if variational else None

    def forward(self, x: torch.Tensor) -> Encoding:
        middle = self.to_middle(x)
        top = self.to_top(middle).flatten(1)
        logvar = None if self.logvar is None else self.logvar(top).clamp(LOGVAR_MIN, LOGVAR_MAX)
        return Encoding(self.mean(top), logvar, middle)


class Decoder(nn.Module):
    """Mirror of :class:`Encoder`; outputs images in [0, 1], standardized with the training stats."""

    def __init__(self, latent_dim: int, channels: tuple[int, int, int], pixel_mean, pixel_std, geometry: Geometry):
        super().__init__()
        c1, c2, c3 = channels
        self.top = (c3, *geometry.sides[3])
        self.project = nn.Sequential(nn.Linear(latent_dim, c3 * geometry.area(3)), nn.ReLU())
        self.up = nn.Sequential(
            _up(c3, c2, geometry.extra(3)),
            _up(c2, c1, geometry.extra(2)),
            nn.ConvTranspose2d(c1, geometry.channels, 4, stride=2, padding=1, output_padding=geometry.extra(1)),
            nn.Sigmoid(),
        )
        shape = (1, geometry.channels, 1, 1)
        self.register_buffer("pixel_mean", torch.as_tensor(pixel_mean, dtype=torch.float32).reshape(shape))
        self.register_buffer("pixel_std", torch.as_tensor(pixel_std, dtype=torch.float32).reshape(shape))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        image = self.up(self.project(z).view(-1, *self.top))
        return (image - self.pixel_mean) / self.pixel_std


class AutoEncoder(nn.Module):
    """Encoder + decoder (the generator G, and the auxiliary autoencoder D' with its own weights)."""

    def __init__(
        self,
        latent_dim: int,
        channels: tuple[int, int, int],
        variational: bool,
        pixel_mean,
        pixel_std,
        geometry: Geometry,
    ):
        super().__init__()
        self.encoder = Encoder(latent_dim, channels, variational, geometry)
        self.decoder = Decoder(latent_dim, channels, pixel_mean, pixel_std, geometry)

    def forward(
        self, x: torch.Tensor, noise: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Encoding, torch.Tensor]:
        """Reconstruct ``x``; return ``(reconstruction, encoding, z)``.

        ``z`` is the mean, or, when ``noise`` is given and the encoder is variational, the
        reparameterized sample ``mean + exp(logvar / 2) * noise``.
        """
        enc = self.encoder(x)
        z = enc.mean
        if noise is not None and enc.logvar is not None:
            z = z + torch.exp(0.5 * enc.logvar) * noise
        return self.decoder(z), enc, z


class Discriminator(nn.Module):
    """Image discriminator D: real ``x`` vs. reconstruction ``G(x)``, one logit per image."""

    def __init__(self, channels: tuple[int, int, int], geometry: Geometry):
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            _down(geometry.channels, c1, norm=False), _down(c1, c2, norm=True), _down(c2, c3, norm=True)
        )
        self.logit = nn.Linear(c3 * geometry.area(3), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logit(self.features(x).flatten(1)).squeeze(1)


class MIEstimator(nn.Module):
    """Statistics network T of eq. (11): a global and a local (per-position) critic.

    ``global_logits(middle, z)``: the middle feature map is reduced by one strided convolution,
    flattened, concatenated with ``z`` and passed through a two-layer MLP -> one logit per image.
    ``local_logits(middle, z)``: ``z`` is tiled over the middle map's positions, concatenated with the
    map along channels, then two 1x1 convolutions -> one logit per position (Deep InfoMax's
    "concat-and-convolve" local critic).
    """

    def __init__(self, latent_dim: int, middle_channels: int, geometry: Geometry, hidden: int = 256):
        super().__init__()
        self.global_features = nn.Sequential(
            nn.Conv2d(middle_channels, middle_channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten()
        )
        self.global_head = nn.Sequential(
            nn.Linear(middle_channels * geometry.area(3) + latent_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        )
        self.local_head = nn.Sequential(
            nn.Conv2d(middle_channels + latent_dim, hidden // 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(hidden // 2, 1, 1)
        )

    def global_logits(self, middle: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.global_head(torch.cat([self.global_features(middle), z], dim=1)).squeeze(1)

    def local_logits(self, middle: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        tiled = z[:, :, None, None].expand(-1, -1, middle.shape[2], middle.shape[3])
        return self.local_head(torch.cat([middle, tiled], dim=1)).squeeze(1)
