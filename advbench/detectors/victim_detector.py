"""The base of the detectors that look through the victim (Feature Squeezing, MagNet, deep Mahalanobis,
KD, BU, MSP, energy).

The adversarial-detection literature's detectors read the classifier that was attacked: its
softmax, its features, its reaction to squeezed or reconstructed inputs. The defender owns that
classifier and its clean training data, so none of them needs adversarial examples to fit.
``VictimDetector`` ties them to the detector contract (``base.py``):

- ``needs_victim`` is set: ``fit(X, victim=...)`` takes the victim (``victim_access.Victim``), and
  a subclass that sets ``needs_reference`` also takes ``reference=...`` (the victim's clean
  training images of every class, ``datasets.reference``);
- at fit, the victim is checked against the images' shape (ValueError naming it), copied to the
  detector's ``device`` and kept as ``victim_``, so ``decision_function`` and ``score_tensor`` need
  nothing more; then the subclass fits (``_fit_victim(X, reference)``; most have nothing to fit);
- a differentiable detector implements ``_score_tensor(x)`` once: ``_score`` is that function in
  batches without gradients, so ``score_tensor`` equals ``decision_function`` by construction.

Every victim-aware detector takes ``random_state`` (the run's seed; most are deterministic and
ignore it, as the module of each says) and ``device`` (``"cpu"`` by default, for bit-identical
reruns).
"""

from __future__ import annotations

import numpy as np
import torch

from advbench.detectors.autoencoder_training import to_tensor
from advbench.detectors.base import BaseDetector
from advbench.detectors.checks import check_random_state
from advbench.torch_utils import batched_apply, check_device, resolve_device

#: Images per forward pass when scoring.
BATCH = 512


class VictimDetector(BaseDetector):
    """A detector that reads the victim (see the module docstring); subclasses take ``random_state`` and
    ``device`` among their parameters and call ``super()._check_params()``."""

    needs_victim = True
    differentiable = True

    def _check_params(self):
        check_random_state(self.random_state)
        check_device(self.device)

    def _fit(self, X, victim, reference=None):
        self.device_ = resolve_device(self.device)
        self.num_classes_ = victim.check_input(tuple(X.shape[1:]), "the training images")
        if reference is not None and tuple(reference.images.shape[1:]) != tuple(X.shape[1:]):
            raise ValueError(
                f"the reference images have shape {tuple(reference.images.shape[1:])}, the training images "
                f"{tuple(X.shape[1:])}"
            )
        self.victim_ = victim.on(self.device_)
        self._fit_victim(X, reference)

    def _fit_victim(self, X: np.ndarray, reference) -> None:
        """Fit what the score needs besides the victim (nothing by default)."""

    def _inputs(self, X: np.ndarray) -> torch.Tensor:
        return to_tensor(X, self.device_)

    def _score(self, X):
        return batched_apply(self._score_tensor, self._inputs(X), BATCH).cpu().numpy()

    def _reference_features(self, reference) -> tuple[torch.Tensor, np.ndarray]:
        """The victim's penultimate features (float64, on ``device_``) of the reference images, and their labels."""
        images = to_tensor(reference.images.astype(np.float32) / 255.0, self.device_)
        features = batched_apply(lambda x: self.victim_.features_and_logits(x)[0], images, BATCH)
        return features.double(), np.asarray(reference.labels)
