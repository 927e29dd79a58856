"""Deep convolutional autoencoder (DCAE) baseline; score = squared reconstruction error.

The LeNet-type autoencoder of the Deep SVDD reference code for GTSRB (``lenet.py``), trained
with Adam on the per-image sum of squared errors, as the DCAE baseline of Ruff et al. (ICML
2018). Defaults and their sources:

- preprocessing: pixels to [0, 1], then train min-max scaling, no GCN (``scripts/gtsrb_cae.sh``);
- batch size 200 (Deep-SVDD-PyTorch examples; the Theano GTSRB script uses 64, which is about
  twice as slow per epoch on a CPU);
- weight decay 1e-6 (the paper's lambda; ``--ae_C 1e6`` in the GTSRB script);
- learning rate 1e-3 and 10 epochs: the reference trains 250 + 100 epochs at 1e-4 then 1e-5,
  which takes hours on a CPU; to fit a 60 s fit+score budget on 780 images and 2 CPU cores we
  train 10 epochs with Adam's default rate 1e-3 and no learning-rate drop.
"""

from __future__ import annotations

import torch

from advbench.detectors.autoencoder_training import (
    fit_inputs, reconstruction_errors, to_tensor, train_reconstruction,
)
from advbench.detectors.base import BaseDetector
from advbench.detectors.lenet import LeNetAutoencoder
from advbench.detectors.torch_utils import resolve_device, seed_everything


class DCAEDetector(BaseDetector):
    """LeNet-type convolutional autoencoder; score = ``||x - AE(x)||^2`` on preprocessed pixels.

    Parameters
    ----------
    rep_dim : int
        Code size (32, the reference's ``gtsrb_rep_dim``).
    epochs, lr, batch_size, weight_decay :
        Adam training (defaults: 10, 1e-3, 200, 1e-6; see the module docstring for sources).
    gcn, scaling :
        Preprocessing, see ``ImagePreprocessor``.
    random_state : int or None
        Seeds weights and mini-batch order.
    device : str
        Torch device ("cpu" by default for bit-identical reruns; "auto" picks CUDA when present).

    Attributes
    ----------
    history_ : dict
        ``{"ae_loss": [mean training loss per epoch]}``.
    """

    description = "Deep convolutional autoencoder (LeNet-type, Deep SVDD's GTSRB net); reconstruction error"

    def __init__(self, rep_dim: int = 32, epochs: int = 10, lr: float = 1e-3, batch_size: int = 200,
                 weight_decay: float = 1e-6, gcn: bool = False, scaling="minmax", random_state=None,
                 device: str = "cpu"):
        self.rep_dim = rep_dim
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.gcn = gcn
        self.scaling = scaling
        self.random_state = random_state
        self.device = device

    def _fit(self, X):
        generator = seed_everything(self.random_state)
        self.device_ = resolve_device(self.device)
        self.preprocessor_, inputs = fit_inputs(X, self.gcn, self.scaling, self.device_)
        self.model_ = LeNetAutoencoder(self.rep_dim).to(self.device_)
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        losses = train_reconstruction(self.model_, inputs, inputs, optimizer, epochs=self.epochs,
                                      batch_size=self.batch_size, generator=generator, what="DCAE")
        self.history_ = {"ae_loss": losses}

    def _score(self, X):
        inputs = to_tensor(self.preprocessor_.transform(X), self.device_)
        return reconstruction_errors(self.model_, inputs).cpu().numpy()
