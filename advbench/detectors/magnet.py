"""MagNet's detectors (Meng and Chen, "MagNet: a Two-Pronged Defense against Adversarial Examples",
CCS 2017), without its reformer.

An autoencoder ``AE`` trained on clean images gives two detectors:

- detector I, reconstruction error: ``mean |x - AE(x)|^p`` over the pixels (the authors' code,
  ``AEDetector``), ``p = norm`` (1, the norm of the paper's CIFAR-10 reconstruction detector);
- detector II, probability divergence: the Jensen-Shannon divergence between the victim's softmax
  at temperature ``T`` on ``x`` and on ``AE(x)`` (``DBDetector``), one per temperature, ``T = 10`` and
  ``T = 40`` (the paper's CIFAR-10 defence).

The paper flags an image when any detector exceeds its threshold, each threshold set at the same
false-positive rate on clean validation images. The score here follows that rule in a form that
needs no rate and stays differentiable: each part is standardized by its mean and standard
deviation over the clean training images (the pair's normal training images; no adversarial
image is used) and the score is the largest standardized part. Each part alone is a score variant
(``reconstruction``, ``jsd-t10``, ``jsd-t40``), recorded as ``magnet[<variant>]``.

Autoencoder: the paper's CIFAR-10 one, three 3 x 3 convolutions with "same" padding and sigmoid
activations, ``filters`` (3) filters, then one filter per channel (the authors' ``DAE`` with the
structure ``[3]``), trained on the reference images (the victim's clean training data of every
class, ``datasets.reference``, as MagNet trains on the classifier's training set) to reconstruct
them from copies with Gaussian noise of standard deviation ``noise`` (0.025, the paper's CIFAR-10
value) clipped to [0, 1], drawn once before training (as the authors' code), with Adam on the
squared error (the authors' Keras mean squared error times the pixel count: Adam's steps do not
depend on the scale). Left out: the activity penalty of 1e-9 on the activations (below float32
resolution of the loss) and the reformer (a defence, not a detector).

Training schedule per profile (``profiles.py``): ``reference``: 400 epochs at Adam's rate 1e-3 with
batch size 256 (the authors' CIFAR-10 training); ``default``, ours: 3 epochs on the 10,000
reference images at rate 1e-2 with batch size 32 (939 Adam steps, about 12 CPU seconds on one
thread, near the DCAE's default fit of 13 s), chosen on the training loss, not on an AUC: the
paper's rate and batch size for 3 epochs (120 steps) leave the autoencoder returning a blur
(squared error 183 per image on the GTSRB reference; 53 after one epoch of this default), with AUCs
on the stop signs below 50 %. The autoencoder's
weights, mini-batch order and noise come from ``random_state``.

Differentiable: ``score_tensor`` (through the autoencoder and the victim) serves detector-aware
attacks, the white-box setting in which Carlini and Wagner (2017) broke MagNet.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from torch import nn

from advbench.detectors import profiles
from advbench.detectors.autoencoder_training import Training, adam, to_tensor, train_reconstruction
from advbench.detectors.base import DEFAULT_VARIANT
from advbench.detectors.checks import check_choice, check_int, check_list, check_number
from advbench.detectors.victim_detector import BATCH, VictimDetector
from advbench.torch_utils import seed_everything

#: Training schedule per profile (sources in the module docstring).
SCHEDULES = {
    "default": {"epochs": 3, "lr": 1e-2, "batch_size": 32},
    "reference": {"epochs": 400, "lr": 1e-3, "batch_size": 256},
}
#: The score variant of detector I (reconstruction error).
RECONSTRUCTION = "reconstruction"


def magnet_autoencoder(channels: int, filters: int = 3) -> nn.Sequential:
    """MagNet's CIFAR-10 autoencoder for ``channels``-channel images (module docstring)."""

    def conv(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.Sigmoid()]

    return nn.Sequential(*conv(channels, filters), *conv(filters, filters), *conv(filters, channels))


def jensen_shannon(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``JSD(p, q) = (KL(p || m) + KL(q || m)) / 2``, ``m = (p + q) / 2``, per row (natural logarithm)."""
    m = (p + q) / 2
    xlogy = torch.special.xlogy
    return ((xlogy(p, p) - xlogy(p, m)).sum(dim=1) + (xlogy(q, q) - xlogy(q, m)).sum(dim=1)) / 2


def divergence_name(temperature: int) -> str:
    """The score variant of detector II at ``temperature``: ``jsd-t10``."""
    return f"jsd-t{temperature}"


class MagNetDetector(VictimDetector):
    """MagNet's detectors I and II combined by their largest standardized score (module docstring).

    Parameters
    ----------
    norm : {1, 2}
        ``p`` of detector I's reconstruction error (1).
    temperatures : list of int >= 1
        One detector II per temperature (10 and 40); empty for detector I alone.
    noise : float >= 0
        Standard deviation of the training noise (0.025).
    filters : int
        Filters of the autoencoder's hidden convolutions (3).
    profile : {"default", "reference"}
        Where ``None`` schedule parameters take their values (``SCHEDULES``).
    epochs, lr, batch_size :
        Adam schedule of the autoencoder; ``None`` takes the profile's value.
    random_state : int or None
        Seeds the weights, the noise and the mini-batch order.
    device : str
        Torch device ("cpu" by default for bit-identical reruns).

    Attributes
    ----------
    autoencoder_ : nn.Module
        The trained autoencoder. ``schedule_``: the schedule used. ``history_``: ``{"ae_loss": [...]}``.
    part_mean_, part_std_ : dict
        Each part's mean and standard deviation on the clean training images (the combination rule).
    """

    description = "MagNet (Meng & Chen 2017): max of standardized AE reconstruction error and JSD at T = 10, 40"
    needs_reference = True
    schedules = SCHEDULES

    def __init__(  # noqa: PLR0913 -- a constructor: hyperparameters
        self,
        norm: int = 1,
        temperatures=(10, 40),
        noise: float = 0.025,
        filters: int = 3,
        profile: str = "default",
        epochs: int | None = None,
        lr: float | None = None,
        batch_size: int | None = None,
        random_state=None,
        device: str = "cpu",
    ):
        self.norm = norm
        self.temperatures = temperatures
        self.noise = noise
        self.filters = filters
        self.profile = profile
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        check_choice("norm", self.norm, (1, 2))
        check_list("temperatures", self.temperatures, "integers >= 1", partial(check_int, "temperatures"), empty=True)
        if len(set(self.temperatures)) != len(self.temperatures):
            raise ValueError(f"temperatures must be distinct; got {self.temperatures!r}")
        check_number("noise", self.noise)
        check_int("filters", self.filters)
        profiles.resolve(self, self.schedules)
        super()._check_params()

    def _variant_names(self):
        return (DEFAULT_VARIANT, RECONSTRUCTION, *map(divergence_name, self.temperatures))

    def _fit_victim(self, X, reference):
        self.schedule_ = profiles.resolve(self, self.schedules)
        generator = seed_everything(self.random_state)
        clean = to_tensor(reference.images.astype(np.float32) / 255.0, self.device_)
        noise = torch.randn(clean.shape, generator=generator).to(self.device_)
        noisy = (clean + self.noise * noise).clamp_(0.0, 1.0)
        self.autoencoder_ = magnet_autoencoder(X.shape[1], self.filters).to(self.device_)
        optimizer, _ = adam(self.autoencoder_.parameters(), self.schedule_["lr"], 0.0)
        training = Training(optimizer, generator, self.schedule_["batch_size"], "MagNet autoencoder")
        losses = train_reconstruction(self.autoencoder_, noisy, clean, training, self.schedule_["epochs"])
        self.autoencoder_.eval().requires_grad_(False)
        self.history_ = {"ae_loss": losses}
        parts = self._all_parts(X)
        self.part_mean_ = {name: float(values.mean()) for name, values in parts.items()}
        self.part_std_ = {name: max(float(values.std()), 1e-12) for name, values in parts.items()}

    def _parts(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Detector I's and each detector II's score of float images ``x`` (float64, with gradients)."""
        rebuilt = self.autoencoder_(x)
        parts = {RECONSTRUCTION: (x - rebuilt).abs().pow(self.norm).flatten(1).mean(dim=1).double()}
        if self.temperatures:
            logits, logits_rebuilt = self.victim_.logits(x).double(), self.victim_.logits(rebuilt).double()
            for temperature in self.temperatures:
                p = torch.softmax(logits / temperature, dim=1)
                q = torch.softmax(logits_rebuilt / temperature, dim=1)
                parts[divergence_name(temperature)] = jensen_shannon(p, q)
        return parts

    def _all_parts(self, X: np.ndarray) -> dict[str, torch.Tensor]:
        x = self._inputs(X)
        with torch.no_grad():
            chunks = [self._parts(x[start : start + BATCH]) for start in range(0, len(x), BATCH)]
        return {name: torch.cat([chunk[name] for chunk in chunks]) for name in chunks[0]}

    def _combine(self, parts: dict[str, torch.Tensor]) -> torch.Tensor:
        standardized = [(values - self.part_mean_[name]) / self.part_std_[name] for name, values in parts.items()]
        return torch.stack(standardized, dim=1).amax(dim=1)

    def _score_tensor(self, x):
        return self._combine(self._parts(x))

    def _score_variants(self, X):
        parts = self._all_parts(X)
        return {DEFAULT_VARIANT: self._combine(parts).cpu().numpy(), **{k: v.cpu().numpy() for k, v in parts.items()}}

    def _score(self, X):
        return self._score_variants(X)[DEFAULT_VARIANT]
