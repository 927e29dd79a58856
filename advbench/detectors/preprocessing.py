"""Image preprocessing fitted on the training images only.

Global contrast normalization (L1) follows Deep SVDD (Ruff et al., ICML 2018, reference code
``datasets/preprocessing.py``): subtract each image's mean and divide by its mean absolute
deviation. Then either min-max scaling to [0, 1] or mean/std standardization with statistics
of the training split (per channel). Nothing here ever sees test images when fitting.
"""

from __future__ import annotations

import numpy as np

#: Accepted values of ``scaling``.
SCALINGS = ("minmax", "standard", None)


def global_contrast_normalization(X: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Per-image L1 global contrast normalization of an ``N x C x H x W`` float array."""
    X = X - X.mean(axis=(1, 2, 3), keepdims=True)
    scale = np.abs(X).mean(axis=(1, 2, 3), keepdims=True)
    return X / np.maximum(scale, eps)


class ImagePreprocessor:
    """Optional GCN followed by train-fitted scaling.

    Parameters
    ----------
    gcn : bool
        Apply L1 global contrast normalization first.
    scaling : {"minmax", "standard", None}
        ``"minmax"``: per-channel min/max of the training images mapped to [0, 1];
        ``"standard"``: per-channel training mean and std; ``None``: no scaling.
    """

    def __init__(self, gcn: bool = False, scaling: str | None = "minmax"):
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be 'minmax', 'standard' or None; got {scaling!r}")
        self.gcn = gcn
        self.scaling = scaling

    def fit(self, X: np.ndarray) -> ImagePreprocessor:
        X = global_contrast_normalization(X) if self.gcn else X
        if self.scaling == "minmax":
            self.shift_ = X.min(axis=(0, 2, 3), keepdims=True)
            self.scale_ = np.maximum(X.max(axis=(0, 2, 3), keepdims=True) - self.shift_, 1e-8)
        elif self.scaling == "standard":
            self.shift_ = X.mean(axis=(0, 2, 3), keepdims=True)
            self.scale_ = np.maximum(X.std(axis=(0, 2, 3), keepdims=True), 1e-8)
        else:
            self.shift_, self.scale_ = np.zeros((1, X.shape[1], 1, 1)), np.ones((1, X.shape[1], 1, 1))
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = global_contrast_normalization(X) if self.gcn else X
        return ((X - self.shift_) / self.scale_).astype(np.float32)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def transform_tensor(self, x):
        """``transform`` as a differentiable torch function of a float ``N x C x H x W`` tensor."""
        import torch

        if self.gcn:
            x = x - x.mean(dim=(1, 2, 3), keepdim=True)
            x = x / x.abs().mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)
        shift = torch.as_tensor(self.shift_, dtype=x.dtype, device=x.device)
        scale = torch.as_tensor(self.scale_, dtype=x.dtype, device=x.device)
        return (x - shift) / scale


class PixelFeatures:
    """Flattened, preprocessed pixels, optionally reduced by PCA; all fitted on training images.

    The feature map of the classic (non-deep) detectors: ``ImagePreprocessor(gcn, scaling)``,
    flattening to ``N x (C*H*W)``, then, when ``pca`` is given, a PCA fitted on the training
    features (None or False: none; an int keeps that many components, a float in (0, 1) keeps enough components to
    explain that fraction of the variance; ``random_state`` seeds the randomized solver).
    """

    def __init__(
        self,
        gcn: bool = False,
        scaling: str | None = "minmax",
        pca: int | float | None = None,
        random_state: int | None = None,
    ):
        self.gcn = gcn
        self.scaling = scaling
        self.pca = pca
        self.random_state = random_state

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        self.preprocessor_ = ImagePreprocessor(self.gcn, self.scaling)
        Z = self.preprocessor_.fit_transform(X).reshape(X.shape[0], -1)
        if self.pca is None or self.pca is False:
            self.pca_ = None
            return Z
        from sklearn.decomposition import PCA

        n_components = self.pca
        if isinstance(n_components, int):
            n_components = min(n_components, *Z.shape)
        self.pca_ = PCA(n_components=n_components, svd_solver="full", random_state=self.random_state)
        return self.pca_.fit_transform(Z).astype(np.float32)

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = self.preprocessor_.transform(X).reshape(X.shape[0], -1)
        return Z if self.pca_ is None else self.pca_.transform(Z).astype(np.float32)
