"""Small synthetic image sets with a clear anomaly, for detector tests.

Normal images are smooth: a random mid-range colour plus a few low-frequency colour waves.
Anomalies are such images with a darker or brighter base colour and strong Gaussian pixel noise,
so that both pixel-space detectors and detectors that look only at the leading principal
components (the colour) can see them. All draws come from one seed.
"""

from __future__ import annotations

import numpy as np


def smooth_images(n: int, rng: np.random.Generator, size: int = 32, shifted: bool = False) -> np.ndarray:
    """``n x 3 x size x size`` float images in [0, 1] made of low-frequency waves.

    The base colour is drawn from [0.3, 0.7] per channel, or with ``shifted`` from
    [0.05, 0.2] or [0.8, 0.95].
    """
    grid = np.linspace(0.0, 1.0, size)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    base = rng.uniform(0.3, 0.7, size=(n, 3, 1, 1))
    if shifted:
        base = np.where(
            rng.random((n, 3, 1, 1)) < 0.5, rng.uniform(0.05, 0.2, base.shape), rng.uniform(0.8, 0.95, base.shape)
        )
    images = np.repeat(base, size, axis=2).repeat(size, axis=3)
    for _ in range(3):
        fy, fx = rng.uniform(0.5, 2.0, size=(2, n, 1, 1, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1, 1))
        amplitude = rng.uniform(0.03, 0.1, size=(n, 3, 1, 1))
        images = images + amplitude * np.sin(2 * np.pi * (fy * yy + fx * xx) + phase)
    return np.clip(images, 0.0, 1.0)


def anomaly_dataset(n_train: int = 120, n_test: int = 40, noise: float = 0.15, seed: int = 0):
    """``(X_train, X_test, y_test)``: uint8 smooth training images; test = smooth (0) + anomalies (1)."""
    rng = np.random.default_rng(seed)
    train = smooth_images(n_train, rng)
    normal = smooth_images(n_test, rng)
    noisy = np.clip(smooth_images(n_test, rng, shifted=True) + rng.normal(0.0, noise, size=normal.shape), 0.0, 1.0)
    to_uint8 = lambda images: np.round(images * 255).astype(np.uint8)  # noqa: E731
    X_test = np.concatenate([to_uint8(normal), to_uint8(noisy)])
    y_test = np.r_[np.zeros(n_test), np.ones(n_test)].astype(int)
    return to_uint8(train), X_test, y_test
