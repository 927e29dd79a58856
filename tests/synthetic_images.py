"""Small synthetic image sets for detector and run tests, and the training-free shortcuts they defeat.

``smooth_images``: random mid-range colours plus a few low-frequency colour waves, the clean images
of the run tests.

``structure_dataset``: a normal class and anomalies that differ only in structure. Every image is a
flat colour plus a pattern of one spatial frequency plus faint pixel noise; the pattern of a normal
image is mostly horizontal stripes, that of an anomaly mostly a checkerboard. Both patterns have the
same energy and random phases, so that the mean image is flat and each test anomaly shares its
colour and contrast with one test normal image: neither the mean intensity nor the distance to the
mean image tells the classes apart (``SHORTCUTS`` score an AUC of about 0.5), while a detector that
models the normal images' structure does. All draws come from one seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score


def smooth_images(n: int, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """``n x 3 x size x size`` float images in [0, 1]: a colour from [0.3, 0.7] per channel plus waves."""
    grid = np.linspace(0.0, 1.0, size)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    images = np.repeat(rng.uniform(0.3, 0.7, size=(n, 3, 1, 1)), size, axis=2).repeat(size, axis=3)
    for _ in range(3):
        fy, fx = rng.uniform(0.5, 2.0, size=(2, n, 1, 1, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1, 1))
        amplitude = rng.uniform(0.03, 0.1, size=(n, 3, 1, 1))
        images = images + amplitude * np.sin(2 * np.pi * (fy * yy + fx * xx) + phase)
    return np.clip(images, 0.0, 1.0)


#: Share of the stripes in the pattern's energy, the rest being checkerboard.
NORMAL_STRIPES, ANOMALY_STRIPES = (0.75, 1.0), (0.0, 0.25)


def patterned_images(
    stripes: tuple[float, float],
    colour: np.ndarray,
    contrast: np.ndarray,
    rng: np.random.Generator,
    size: int = 32,
    cycles: int = 3,
    noise: float = 0.02,
) -> np.ndarray:
    """``n x 3 x size x size`` float images: ``colour + contrast * pattern`` plus Gaussian pixel noise.

    The pattern mixes horizontal stripes and a checkerboard, both of ``cycles`` periods across the
    image, each with mean 0 and mean square 1 and with random phases; the stripes' share of the
    energy is drawn from ``stripes``. The mixture keeps mean 0 and mean square 1 (the two patterns are
    orthogonal), so the pattern changes neither an image's mean nor its distance to its mean.
    ``colour`` is ``n x 3 x 1 x 1`` and ``contrast`` ``n x 1 x 1 x 1``.
    """
    n = len(colour)
    wave = 2 * np.pi * cycles * np.arange(size) / size
    phase = rng.uniform(0, 2 * np.pi, size=(3, n, 1, 1, 1))
    lines = np.sqrt(2) * np.sin(wave[:, None] + phase[0]) * np.ones(size)
    checks = 2 * np.sin(wave[:, None] + phase[1]) * np.sin(wave[None, :] + phase[2])
    share = rng.uniform(*stripes, size=(n, 1, 1, 1))
    pattern = np.sqrt(share) * lines + np.sqrt(1 - share) * checks
    return colour + contrast * pattern + rng.normal(0.0, noise, size=(n, 3, size, size))


def structure_dataset(n_train: int, n_test: int, seed: int):
    """``(X_train, X_test, y_test)`` as uint8: normal training images; ``n_test`` normal (0), ``n_test`` anomalies (1).

    Colours are drawn from [0.45, 0.55] per channel and contrasts from [0.1, 0.16], which keeps
    pixels inside [0, 1] but for noise beyond 3 standard deviations (the tests' draws span 16 to 243
    of 255: nothing clipped that could tell the classes apart); the i-th test anomaly has the colour
    and contrast of the i-th test normal image.
    """
    rng = np.random.default_rng(seed)

    def colour_and_contrast(n):
        return rng.uniform(0.45, 0.55, size=(n, 3, 1, 1)), rng.uniform(0.1, 0.16, size=(n, 1, 1, 1))

    train = patterned_images(NORMAL_STRIPES, *colour_and_contrast(n_train), rng)
    pairs = colour_and_contrast(n_test)
    test = np.concatenate(
        [patterned_images(NORMAL_STRIPES, *pairs, rng), patterned_images(ANOMALY_STRIPES, *pairs, rng)]
    )
    to_uint8 = lambda images: np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)  # noqa: E731
    return to_uint8(train), to_uint8(test), np.r_[np.zeros(n_test), np.ones(n_test)].astype(int)


def _pixels(X: np.ndarray) -> np.ndarray:
    return X.astype(np.float64) / 255.0 if X.dtype == np.uint8 else X.astype(np.float64)


def distance_to_mean_image(X_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Training-free shortcut: the L2 distance of each test image to the mean training image."""
    return np.linalg.norm((_pixels(X_test) - _pixels(X_train).mean(axis=0)).reshape(len(X_test), -1), axis=1)


def mean_intensity_gap(X_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Training-free shortcut: how far each test image's mean intensity lies from the training images'."""
    return np.abs(_pixels(X_test).mean(axis=(1, 2, 3)) - _pixels(X_train).mean())


SHORTCUTS = {"mean image": distance_to_mean_image, "mean intensity": mean_intensity_gap}


def assert_detects(y_true: np.ndarray, scores: np.ndarray, min_auc: float, what: str) -> None:
    """The detector tests' assertion: higher scores for anomalies, with an AUC above ``min_auc``."""
    auc = roc_auc_score(y_true, scores)
    assert auc > min_auc, f"{what}: AUC {auc:.3f}, needs more than {min_auc}"


def check_shortcuts_fail(X_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, min_auc: float) -> None:
    """Each shortcut scores an AUC of 0.5 +- 0.1 on the data and fails ``assert_detects`` at ``min_auc``."""
    for name, shortcut in SHORTCUTS.items():
        scores = shortcut(X_train, X_test)
        assert abs(roc_auc_score(y_test, scores) - 0.5) < 0.1, name
        with pytest.raises(AssertionError, match=f"^{name}: AUC"):
            assert_detects(y_test, scores, min_auc, name)
