"""Orthogonal and Selective PGD: fool the victim and evade the detector by stepping on one constraint at a time.

After Bryniarski, Hingun, Pachuca, Wang and Carlini, "Evading Adversarial Example Detection Defenses
with Orthogonal Projected Gradient Descent" (ICLR 2022; reference code ``v-wangg/OrthogonalPGD``).
An attacked image has two constraints: the victim misclassifies it, and the detector's score is at
most a threshold. Summing the two losses lets the larger gradient drown the other; these attacks
step on one constraint at a time instead:

- ``SelectivePGD``: while the victim is not fooled, step along the gradient of its cross-entropy;
  once it is fooled and the detector flags the image, step along minus the detector's gradient.
- ``OrthogonalPGD``: the same, each gradient first projected orthogonally to the other's
  (per image, in the flattened image space), so that to first order a step on one constraint does
  not undo the other.

Where an image satisfies both constraints it stays where it is. The step is the norm's steepest
ascent along the chosen direction (``DetectorAttack._step``: its sign for L-inf, its unit vector
for L2; for L-inf the orthogonality holds for the gradient, and only roughly for its sign), then
the iterate is projected onto the budget. The base class keeps, per image, the fooling iterate
with the lowest score.

What is ours, not the paper's: the victim's loss is the cross-entropy and the detector's score the
standardized one of ``detector_attack`` (lower looks clean). The default threshold is ``-inf``
(``threshold=None``): the attack does not know the threshold that the evaluation sets on the clean
test images, so a fooled image keeps lowering its score for every step left, the base class
keeping its lowest; a raw threshold stops an image once it passes it, as for the paper's fixed
threshold. The default step ``alpha`` is a tenth of the budget in either norm (``eps / 10``; an
unbounded attack sizes its steps as if eps were 1, ``step_scale``), so that the default 200 steps
can cross the budget many times.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from advbench.attacks.detector_attack import DetectorAttack, project, step_scale


def without(g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``g`` minus its component along ``h``, per image (flattened); ``g`` where ``h`` is zero."""
    flat_g, flat_h = g.flatten(1), h.flatten(1)
    coef = (flat_g * flat_h).sum(1) / (flat_h * flat_h).sum(1).clamp_min(torch.finfo(g.dtype).tiny)
    return g - coef.view(-1, *([1] * (g.dim() - 1))) * h


class _ConstraintPGD(DetectorAttack):
    """PGD that steps, per image, on the constraint ``_direction`` picks (see the module docstring).

    Parameters, beyond ``DetectorAttack``'s
    ----------------------------------------
    threshold : float or None
        The detector's raw score at or below which an image counts as passing it (converted to the
        standardized scale). None: ``-inf``, every image counts as flagged, so a fooled image keeps
        lowering its score.
    alpha : float or None
        The step size in the norm; None: ``step_scale(eps) / 10``.
    """

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
        threshold: float | None = None,
        alpha: float | None = None,
    ):
        super().__init__(model, detector, eps=eps, norm=norm, steps=steps, restarts=restarts, seed=seed)
        self.threshold = float("-inf") if threshold is None else self.score.threshold(float(threshold))
        self.alpha = step_scale(self.eps) / 10 if alpha is None else float(alpha)
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha!r}")

    def _run(self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator):
        x = self._start(images, generator)
        yield x
        for _ in range(self.steps):
            direction = self._direction(*self._gradients(x, labels))
            x = project(self._step(x, direction, self.alpha), images, self.eps, self.norm)
            yield x

    def _gradients(self, x: torch.Tensor, labels: torch.Tensor):
        """The cross-entropy's gradient, the score's, which images fool the victim and which the detector flags."""
        x = x.detach().requires_grad_(True)
        logits = self.model(x)
        (grad_loss,) = torch.autograd.grad(F.cross_entropy(logits, labels, reduction="sum"), x)
        score = self.score(x)
        (grad_score,) = torch.autograd.grad(score.sum(), x)
        fooled = logits.argmax(1) != labels
        return grad_loss, grad_score, fooled, score.detach() > self.threshold

    def _direction(self, grad_loss, grad_score, fooled, flagged) -> torch.Tensor:
        """The ascent direction per image (zero where both constraints hold)."""
        raise NotImplementedError


def _pick(fooled, flagged, classify: torch.Tensor, evade: torch.Tensor) -> torch.Tensor:
    """``classify`` where the victim is not fooled, ``evade`` where it is and the detector flags, else zero."""
    view = (-1, *([1] * (classify.dim() - 1)))
    return torch.where(~fooled.view(view), classify, torch.where(flagged.view(view), evade, torch.zeros_like(evade)))


class SelectivePGD(_ConstraintPGD):
    """Selective PGD (Bryniarski et al. 2022): step on whichever constraint is violated, the victim's first."""

    name = "selective-pgd"
    source = "Bryniarski et al. 2022, Evading Adversarial Example Detection Defenses with Orthogonal PGD (ICLR)"

    def _direction(self, grad_loss, grad_score, fooled, flagged) -> torch.Tensor:
        return _pick(fooled, flagged, grad_loss, -grad_score)


class OrthogonalPGD(_ConstraintPGD):
    """Orthogonal PGD (Bryniarski et al. 2022): as Selective PGD, each gradient orthogonal to the other's."""

    name = "orthogonal-pgd"
    source = SelectivePGD.source

    def _direction(self, grad_loss, grad_score, fooled, flagged) -> torch.Tensor:
        return _pick(fooled, flagged, without(grad_loss, grad_score), -without(grad_score, grad_loss))
