"""Robust convolutional autoencoder (RCAE; Chalapathy, Menon & Chawla, ECML-PKDD 2017).

The training images are split as ``X = L + S``: ``L = AE(X)`` is the autoencoder's reconstruction
and ``S`` a sparse matrix that absorbs the pixels the autoencoder should not have to explain.
The objective ``||X - S - AE(X)||^2 + lambda ||S||_1 + weight decay`` is minimized by
alternating, for ``iterations`` rounds:

1. autoencoder step: ``epochs_per_iteration`` epochs of Adam on inputs ``X``, targets ``X - S``;
2. proximal step: ``S = soft_threshold(X - AE(X), lambda / 2)`` (the exact minimizer in ``S``).

Score of a new image (the inductive use in the paper): its squared reconstruction error
``||x - AE(x)||^2``; ``S`` exists only for training images.

Defaults and sources: the LeNet-type autoencoder of ``lenet.py`` (the DCAE network, so RCAE and
DCAE differ only in ``S``); ``lambda = 0.1`` in units of the [0, 1]-scaled pixels, i.e. residuals
smaller than 0.05 are left to the autoencoder and only the excess of larger ones goes to ``S`` (the
paper tunes lambda over a grid with labels, which this benchmark does not allow); batch size 200,
weight decay 1e-6, learning rate 1e-3, train min-max scaling without GCN, as ``dcae.py``;
2 rounds of 5 epochs (10 autoencoder epochs in all, the DCAE budget) to fit a 60 s fit+score
budget on 780 images and 2 CPU cores -- the reference code trains far longer.
"""

from __future__ import annotations

import torch

from advbench.detectors.autoencoder_training import (
    fit_inputs, reconstruction_errors, to_tensor, train_reconstruction,
)
from advbench.detectors.base import BaseDetector
from advbench.detectors.lenet import LeNetAutoencoder
from advbench.detectors.torch_utils import batched_apply, evaluating, resolve_device, seed_everything


def soft_threshold(x: torch.Tensor, threshold: float) -> torch.Tensor:
    """Proximal operator of ``threshold * ||.||_1``: shrink every entry towards zero by ``threshold``."""
    return torch.sign(x) * torch.clamp(x.abs() - threshold, min=0.0)


class RCAEDetector(BaseDetector):
    """Robust convolutional autoencoder; score = squared reconstruction error.

    Parameters
    ----------
    lam : float
        Weight of ``||S||_1`` (default 0.1, see the module docstring).
    iterations, epochs_per_iteration :
        Alternating rounds and autoencoder epochs per round (2 and 5).
    rep_dim, lr, batch_size, weight_decay :
        As in ``DCAEDetector`` (32, 1e-3, 200, 1e-6).
    gcn, scaling :
        Preprocessing, see ``ImagePreprocessor``.
    random_state : int or None
        Seeds weights and mini-batch order.
    device : str
        Torch device ("cpu" by default for bit-identical reruns).

    Attributes
    ----------
    history_ : dict
        ``{"ae_loss": [per epoch], "sparse_fraction": [per round: share of nonzero entries of S],
        "objective": [per round: mean ||X - S - AE(X)||^2 + lam ||S||_1 per image]}``.
    """

    description = "Robust convolutional autoencoder (Chalapathy et al. 2017), X = AE(X) + sparse S; reconstruction error"

    def __init__(self, lam: float = 0.1, iterations: int = 2, epochs_per_iteration: int = 5, rep_dim: int = 32,
                 lr: float = 1e-3, batch_size: int = 200, weight_decay: float = 1e-6, gcn: bool = False,
                 scaling="minmax", random_state=None, device: str = "cpu"):
        self.lam = lam
        self.iterations = iterations
        self.epochs_per_iteration = epochs_per_iteration
        self.rep_dim = rep_dim
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.gcn = gcn
        self.scaling = scaling
        self.random_state = random_state
        self.device = device

    def _fit(self, X):
        if self.lam < 0:
            raise ValueError(f"lam must be >= 0; got {self.lam}")
        generator = seed_everything(self.random_state)
        self.device_ = resolve_device(self.device)
        self.preprocessor_, inputs = fit_inputs(X, self.gcn, self.scaling, self.device_)
        self.model_ = LeNetAutoencoder(self.rep_dim).to(self.device_)
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        sparse = torch.zeros_like(inputs)
        self.history_ = {"ae_loss": [], "sparse_fraction": [], "objective": []}
        for round_ in range(self.iterations):
            self.history_["ae_loss"] += train_reconstruction(
                self.model_, inputs, inputs - sparse, optimizer, epochs=self.epochs_per_iteration,
                batch_size=self.batch_size, generator=generator, what="RCAE",
                first_epoch=round_ * self.epochs_per_iteration)
            with evaluating(self.model_):
                residual = inputs - batched_apply(self.model_, inputs)
            sparse = soft_threshold(residual, self.lam / 2)
            objective = ((residual - sparse) ** 2).flatten(1).sum(1) + self.lam * sparse.abs().flatten(1).sum(1)
            self.history_["sparse_fraction"].append(float((sparse != 0).float().mean()))
            self.history_["objective"].append(float(objective.mean()))

    def _score(self, X):
        inputs = to_tensor(self.preprocessor_.transform(X), self.device_)
        return reconstruction_errors(self.model_, inputs).cpu().numpy()
