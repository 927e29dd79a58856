"""The base of the LeNet-autoencoder detectors (DCAE, Deep SVDD, RCAE): what they share around training.

The split follows anomalib's torch module / training / loss: the networks are in ``lenet.py``, the
training and scoring loops in ``autoencoder_training.py``, and this module holds the detector
skeleton that ties them to the detector contract (``base.py``):

- the shared hyperparameters and their checks: ``rep_dim``, ``weight_decay``, ``gcn``, ``scaling``,
  ``device``, ``random_state``, and the schedule of ``profile`` (``profiles.resolve`` over the
  class's ``schedules``);
- the setup at the start of every fit, in this order (the order fixes the random draws):
  resolve the schedule into ``schedule_``, seed Python, NumPy and torch from ``random_state``,
  resolve ``device_``, fit the ``ImagePreprocessor`` (``preprocessor_``) on the training images,
  build the ``LeNetAutoencoder`` for their shape on ``device_``; the subclass then trains it
  (``_train_autoencoder``);
- the preprocessed tensor of images to score (``_inputs``).

``ReconstructionErrorDetector`` adds the score of DCAE and RCAE: the squared reconstruction
error of their trained autoencoder ``model_``.
"""

from __future__ import annotations

import numpy as np
import torch

from advbench.detectors import profiles
from advbench.detectors.autoencoder_training import fit_inputs, reconstruction_errors, squared_error, to_tensor
from advbench.detectors.base import BaseDetector
from advbench.detectors.checks import check_choice, check_int, check_number, check_random_state
from advbench.detectors.lenet import LeNetAutoencoder
from advbench.detectors.preprocessing import SCALINGS
from advbench.torch_utils import check_device, resolve_device, seed_everything


class LeNetAutoencoderDetector(BaseDetector):
    """A detector built on a LeNet-type autoencoder; subclasses implement ``_train_autoencoder``.

    Subclasses take the constructor parameters ``rep_dim``, ``profile``, ``weight_decay``, ``gcn``,
    ``scaling``, ``random_state`` and ``device`` (plus their schedule parameters, ``None`` by
    default), set ``schedules`` to their table of schedules per profile, and call
    ``super()._check_params()`` after checking their own parameters.
    """

    differentiable = True
    #: Training schedule per profile (``profiles.resolve``): each subclass sets its own.
    schedules: dict[str, dict]

    def _check_params(self):
        check_int("rep_dim", self.rep_dim)
        check_number("weight_decay", self.weight_decay)
        check_choice("gcn", self.gcn, (False, True))
        check_choice("scaling", self.scaling, SCALINGS)
        check_device(self.device)
        check_random_state(self.random_state)
        profiles.resolve(self, self.schedules)

    def _fit(self, X):
        self.schedule_ = profiles.resolve(self, self.schedules)
        generator = seed_everything(self.random_state)
        self.device_ = resolve_device(self.device)
        self.preprocessor_, inputs = fit_inputs(X, self.gcn, self.scaling, self.device_)
        autoencoder = LeNetAutoencoder(self.rep_dim, X.shape[1:]).to(self.device_)
        self._train_autoencoder(autoencoder, inputs, generator)

    def _train_autoencoder(
        self, autoencoder: LeNetAutoencoder, inputs: torch.Tensor, generator: torch.Generator
    ) -> None:  # pragma: no cover - abstract
        """Train the freshly built ``autoencoder`` on the preprocessed training ``inputs`` with the
        schedule ``self.schedule_``, drawing mini-batch orders from ``generator``; set the fitted
        attributes the score needs and ``history_``."""
        raise NotImplementedError

    def _inputs(self, X: np.ndarray) -> torch.Tensor:
        """Images to score, preprocessed as the training images, as a tensor on ``device_``."""
        return to_tensor(self.preprocessor_.transform(X), self.device_)


class ReconstructionErrorDetector(LeNetAutoencoderDetector):
    """Score = ``||x - AE(x)||^2`` on preprocessed pixels, with the trained autoencoder ``model_``."""

    def _score(self, X):
        return reconstruction_errors(self.model_, self._inputs(X)).cpu().numpy()

    def _score_tensor(self, x):
        inputs = self.preprocessor_.transform_tensor(x)
        return squared_error(self.model_.eval()(inputs), inputs)
