"""Feature-space attack: pull the victim's penultimate features onto another class's statistics.

Detectors that read the victim's penultimate features (deep Mahalanobis above all) flag an
adversarial image whose features sit far from every class the victim learnt. This attack moves the
features of each image into the nearest other class instead of merely across the decision
boundary, so that the image looks like a clean member of the class it is now classified as. The
idea is Sabour, Cao, Faghri and Fleet's ("Adversarial Manipulation of Deep Representations", ICLR
2016: an image whose internal representation mimics a guide image of another class), and the
principle, attack the detector's own statistic, Carlini and Wagner's ("Adversarial Examples Are
Not Easily Detected: Bypassing Ten Detection Methods", 2017) and Bryniarski, Hingun, Pachuca, Wang
and Carlini's ("Evading Adversarial Example Detection Defenses with Orthogonal Projected Gradient
Descent", ICLR 2022).

Ours: the target and loss. Per image, the target is the nearest other class than the true one by
the detector's own class distance from the clean image's features:

- a detector with class Gaussians (``means_``, ``precision_``, ``classes_``: deep Mahalanobis) gives
  its squared Mahalanobis distance ``(f - mu_c)^T P (f - mu_c)`` to each class;
- any other detector that reads the victim (``victim_``) gives none, so the class means of the
  victim's features over a ``reference`` sample (``datasets.reference``: images and labels of
  every class) stand in, with the squared Euclidean distance ``|f - mu_c|^2``.

A PGD (``steps`` 200, L-inf or L2, from the base's random start) minimizes per image

    d_t(f(x')) + [victim(x') != t] * CE(victim(x'), t) + lam * (score(x') - mean) / std

with ``t`` the target: the distance of the features to the target's statistics (for deep
Mahalanobis, an upper bound of its score, the smallest distance over classes), plus the
cross-entropy towards the target while the victim does not predict it (a mask recomputed at every
step, no gradient through it), plus, with ``lam > 0`` (default 0), the detector's standardized
score (``detector_attack.Standardized``) for a detector whose score is not that distance. The base
(``DetectorAttack``) keeps, per image, the iterate that fools the victim after 8-bit rounding with
the lowest detector score. ``reports/gtsrb-stop/adaptive/strongest/`` measures it on the stop signs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advbench.attacks.detector_attack import DetectorAttack, project
from advbench.detectors.victim_mahalanobis import class_means, squared_distances
from advbench.torch_utils import batched_apply

#: Madry et al.'s (2018) step rule: ``STEP_FACTOR * eps / steps``, so that the iterates can cross
#: the ball from any start and still move along its boundary.
STEP_FACTOR = 2.5


@dataclass(frozen=True)
class ClassStatistics:
    """Per class (``classes``: the victim's labels) the mean of its features, and the metric's precision."""

    classes: torch.Tensor
    means: torch.Tensor
    precision: torch.Tensor

    def distances(self, features: torch.Tensor) -> torch.Tensor:
        """The squared distance of each image's features to each class: ``N x K``, float64."""
        return squared_distances(features.double(), self.means, self.precision)

    def nearest_other(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The index (into ``classes``) of the nearest class other than each image's label."""
        distances = self.distances(features)
        distances[self.classes[None, :] == labels[:, None]] = float("inf")
        return distances.argmin(dim=1)


def detector_statistics(detector) -> ClassStatistics:
    """Deep Mahalanobis's own class Gaussians: its means, shared precision and classes."""
    classes = torch.as_tensor(np.asarray(detector.classes_), device=detector.means_.device)
    return ClassStatistics(classes, detector.means_.double(), detector.precision_.double())


def reference_statistics(victim, reference) -> ClassStatistics:
    """Class means of the victim's features over the ``reference`` images, with the Euclidean metric."""
    images = torch.from_numpy(reference.images.astype(np.float32) / 255.0).to(victim.device)
    features = batched_apply(lambda x: victim.features_and_logits(x)[0], images, 512).double()
    classes, means = class_means(features.cpu().numpy(), np.asarray(reference.labels))
    eye = torch.eye(means.shape[1], dtype=torch.float64, device=victim.device)
    return ClassStatistics(torch.as_tensor(classes, device=victim.device), torch.from_numpy(means).to(eye), eye)


def class_statistics(detector, reference) -> ClassStatistics:
    """The detector's class Gaussians when it has them, else the reference's class means (ValueError without one)."""
    if all(hasattr(detector, key) for key in ("means_", "precision_", "classes_")):
        statistics = detector_statistics(detector)
    elif reference is None:
        raise ValueError(
            f"FeatureSpaceAttack: {type(detector).__name__} keeps no class statistics (means_, precision_, "
            "classes_); pass reference= (images and labels of every class) for class means of the victim's features"
        )
    else:
        statistics = reference_statistics(detector.victim_, reference)
    if len(statistics.classes) < 2:
        raise ValueError("FeatureSpaceAttack: the class statistics hold one class, so no other class to move to")
    return statistics


class FeatureSpaceAttack(DetectorAttack):
    """PGD that pulls the victim's penultimate features onto the nearest other class (see the module docstring).

    Parameters
    ----------
    model, detector, eps, norm, steps, restarts, seed
        As ``DetectorAttack``; the detector must read the victim (``victim_``, ValueError otherwise).
    alpha : float or None
        The step size (L-inf: per pixel, along the gradient's sign; L2: the step's length); None:
        ``2.5 * min(eps, 1) / steps`` (Madry et al. 2018's rule, with 1 standing in for an unbounded ``eps``).
    reference : datasets.reference.Reference or None
        Labelled images of every class, for a detector without class Gaussians (unused with one).
    lam : float
        Weight of the detector's standardized score in the loss (0: the distance and cross-entropy alone).
    """

    name = "feature-space"
    source = "Sabour et al. 2016; Carlini and Wagner 2017; Bryniarski et al. 2022 (target and loss ours)"

    def __init__(  # noqa: PLR0913 -- a constructor: the attack's settings
        self,
        model: nn.Module,
        detector,
        *,
        eps: float,
        norm: str = "linf",
        steps: int = 200,
        restarts: int = 1,
        seed: int = 0,
        alpha: float | None = None,
        reference=None,
        lam: float = 0.0,
    ):
        if getattr(detector, "victim_", None) is None:
            raise ValueError(
                f"FeatureSpaceAttack: {type(detector).__name__} does not read the victim (no victim_), so it has "
                "no penultimate features to move; fit a victim-aware detector with victim=..."
            )
        super().__init__(model, detector, eps=eps, norm=norm, steps=steps, restarts=restarts, seed=seed)
        self.victim = detector.victim_
        self.statistics = class_statistics(detector, reference)
        self.alpha = STEP_FACTOR * min(self.eps, 1.0) / self.steps if alpha is None else float(alpha)
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha!r}")
        self.lam = float(lam)

    def _run(self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator):
        with torch.no_grad():
            features, _ = self.victim.features_and_logits(images)
        index = self.statistics.nearest_other(features, labels)
        x = self._start(images, generator)
        for _ in range(self.steps):
            x = x.detach().requires_grad_(True)
            with torch.enable_grad():  # the attack may be called under torch.no_grad()
                (gradient,) = torch.autograd.grad(self._loss(x, index).sum(), x)
            x = project(self._step(x.detach(), -gradient, self.alpha), images, self.eps, self.norm)
            yield x

    def _loss(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """The per-image loss of the module docstring, towards the classes ``index`` (into the statistics)."""
        features, logits = self.victim.features_and_logits(x)
        target = self.statistics.classes[index]
        pending = (logits.argmax(dim=1) != target).double()
        loss = self._feature_loss(features, index) + pending * F.cross_entropy(logits, target, reduction="none")
        return loss + self.lam * self.score(x) if self.lam else loss

    def _feature_loss(self, features: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """The squared distance of each image's features to its target class."""
        return self.statistics.distances(features).gather(1, index[:, None]).squeeze(1)
