"""LeNet-type encoder and decoder for 3 x 32 x 32 images, as in the Deep SVDD reference code for GTSRB.

Architecture of ``src/datasets/GTSRB.py`` in the original (Theano) Deep SVDD code (Ruff et al.,
ICML 2018): encoder conv 16@5x5 -> max-pool -> conv 32@5x5 -> max-pool -> dense 64 -> dense
``rep_dim`` (32); decoder dense 64 -> reshape 1 x 8 x 8 -> conv 32@5x5 -> upsample -> conv
16@5x5 -> upsample -> conv 3@5x5 -> sigmoid. Convolutions use "same" padding and batch norm,
activations are leaky ReLUs. Every layer is bias-free and batch norm has no affine
parameters, as Deep SVDD requires (a bias lets the network map everything onto the centre);
BatchNorm ``eps=1e-4`` and the leaky-ReLU slope 0.01 follow the PyTorch reference
(lukasruff/Deep-SVDD-PyTorch).
"""

from __future__ import annotations

from torch import nn

LEAKY_SLOPE = 0.01
BN_EPS = 1e-4


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, 5, padding=2, bias=False),
        nn.BatchNorm2d(out_channels, eps=BN_EPS, affine=False),
        nn.LeakyReLU(LEAKY_SLOPE),
    ]


class LeNetEncoder(nn.Module):
    """``N x 3 x 32 x 32`` images -> ``N x rep_dim`` codes."""

    def __init__(self, rep_dim: int = 32):
        super().__init__()
        self.rep_dim = rep_dim
        self.net = nn.Sequential(
            *_conv_block(3, 16),
            nn.MaxPool2d(2),
            *_conv_block(16, 32),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 8 * 8, 64, bias=False),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Linear(64, rep_dim, bias=False),
        )

    def forward(self, x):
        return self.net(x)


class LeNetDecoder(nn.Module):
    """``N x rep_dim`` codes -> ``N x 3 x 32 x 32`` images in (0, 1)."""

    def __init__(self, rep_dim: int = 32):
        super().__init__()
        self.net = nn.Sequential(
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

    def forward(self, z):
        return self.net(z)


class LeNetAutoencoder(nn.Module):
    """Encoder followed by decoder; ``encoder`` alone is the Deep SVDD network after pretraining."""

    def __init__(self, rep_dim: int = 32):
        super().__init__()
        self.encoder = LeNetEncoder(rep_dim)
        self.decoder = LeNetDecoder(rep_dim)

    def forward(self, x):
        return self.decoder(self.encoder(x))
