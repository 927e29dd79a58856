"""LeNet-type encoders and decoders of the Deep SVDD reference codes, one per input shape.

Both are bias-free with batch norm without affine parameters, as Deep SVDD requires (a bias lets
the network map everything onto the centre); convolutions use "same" padding, activations are
leaky ReLUs (slope 0.01), BatchNorm ``eps=1e-4`` (lukasruff/Deep-SVDD-PyTorch).

- ``3 x 32 x 32`` (GTSRB): the network of ``src/datasets/GTSRB.py`` in the original (Theano)
  Deep SVDD code (Ruff et al., ICML 2018): encoder conv 16@5x5 -> max-pool -> conv 32@5x5 ->
  max-pool -> dense 64 -> dense ``rep_dim`` (32); decoder dense 64 -> reshape 1 x 8 x 8 -> conv
  32@5x5 -> upsample -> conv 16@5x5 -> upsample -> conv 3@5x5 -> sigmoid.
- ``1 x 28 x 28`` (MNIST, Fashion-MNIST): the MNIST LeNet of the reference codes (Deep-SVDD-
  PyTorch ``networks/mnist_LeNet.py``, the network behind Deep SVDD's MNIST numbers): encoder
  conv 8@5x5 -> max-pool -> conv 4@5x5 -> max-pool -> dense ``rep_dim`` (32); decoder reshape
  ``rep_dim/16 x 4 x 4`` -> upsample -> conv 4@5x5 -> upsample -> conv 8@5x5 (no padding
  beyond 1, 16 -> 14) -> upsample -> conv 1@5x5 -> sigmoid.

``LeNetAutoencoder(rep_dim, shape)`` picks the network of ``shape``; another shape is a
ValueError (no reference network exists for it).
"""

from __future__ import annotations

from torch import nn

LEAKY_SLOPE = 0.01
BN_EPS = 1e-4
#: Input shapes (C, H, W) that have a reference network.
SHAPES = ((3, 32, 32), (1, 28, 28))


def _conv_block(in_channels: int, out_channels: int, padding: int = 2) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, 5, padding=padding, bias=False),
        nn.BatchNorm2d(out_channels, eps=BN_EPS, affine=False),
        nn.LeakyReLU(LEAKY_SLOPE),
    ]


def _encoder(rep_dim: int, shape: tuple[int, int, int]) -> nn.Sequential:
    if shape == (3, 32, 32):
        return nn.Sequential(
            *_conv_block(3, 16),
            nn.MaxPool2d(2),
            *_conv_block(16, 32),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 8 * 8, 64, bias=False),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Linear(64, rep_dim, bias=False),
        )
    return nn.Sequential(
        *_conv_block(1, 8),
        nn.MaxPool2d(2),
        *_conv_block(8, 4),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 7 * 7, rep_dim, bias=False),
    )


def _decoder(rep_dim: int, shape: tuple[int, int, int]) -> nn.Sequential:
    if shape == (3, 32, 32):
        return nn.Sequential(
            nn.Linear(rep_dim, 64, bias=False),
            nn.Unflatten(1, (1, 8, 8)),
            nn.LeakyReLU(LEAKY_SLOPE),
            *_conv_block(1, 32),
            nn.Upsample(scale_factor=2),
            *_conv_block(32, 16),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(16, 3, 5, padding=2, bias=False),
            nn.Sigmoid(),
        )
    return nn.Sequential(
        nn.Unflatten(1, (rep_dim // 16, 4, 4)),
        nn.LeakyReLU(LEAKY_SLOPE),
        nn.Upsample(scale_factor=2),
        *_conv_block(rep_dim // 16, 4),
        nn.Upsample(scale_factor=2),
        *_conv_block(4, 8, padding=1),
        nn.Upsample(scale_factor=2),
        nn.Conv2d(8, 1, 5, padding=2, bias=False),
        nn.Sigmoid(),
    )


def check_shape(rep_dim: int, shape) -> tuple[int, int, int]:
    """``shape`` as a tuple; ValueError when no reference network exists for it (or ``rep_dim`` does
    not fit the MNIST decoder, which reshapes the code to ``rep_dim/16 x 4 x 4``)."""
    shape = tuple(int(s) for s in shape)
    if shape not in SHAPES:
        known = ", ".join(" x ".join(map(str, s)) for s in SHAPES)
        raise ValueError(f"no LeNet-type reference network for {' x '.join(map(str, shape))} images (known: {known})")
    if shape == (1, 28, 28) and rep_dim % 16:
        raise ValueError(f"rep_dim must be a multiple of 16 for 1 x 28 x 28 images; got {rep_dim}")
    return shape


class LeNetAutoencoder(nn.Module):
    """Encoder followed by decoder for ``shape`` images; ``encoder`` alone is the Deep SVDD network
    after pretraining."""

    def __init__(self, rep_dim: int = 32, shape=(3, 32, 32)):
        super().__init__()
        shape = check_shape(rep_dim, shape)
        self.rep_dim = rep_dim
        self.encoder = _encoder(rep_dim, shape)
        self.decoder = _decoder(rep_dim, shape)

    def forward(self, x):
        return self.decoder(self.encoder(x))
