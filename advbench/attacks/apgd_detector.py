"""APGD on a detector-aware loss: Auto-PGD's step-size schedule, fooling the victim and lowering a detector's score.

After Croce and Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse
parameter-free attacks" (ICML 2020; reference code ``fra31/auto-attack``), Algorithm 1. torchattacks
ships APGD, but its loss is the victim's alone and cannot take a detector's term, hence this one.
It ascends, per image,

    L(victim(x'), y) - lam * score(x') * [victim(x') != y]

where ``L`` is the cross-entropy (``loss="ce"``) or the paper's DLR loss (``loss="dlr"``) and
``score`` the detector's standardized score (``detector_attack.Standardized``, lower looks clean),
counted fool-first as in ``adaptive.py``: only for the images the victim misclassifies at that
iterate (a mask, no gradient through it), so that the victim's loss alone carries an image across
the boundary. ``lam`` defaults to 1: one standard deviation of the detector's training scores weighs
like one nat of cross-entropy (the middle of ``attacks.DEFAULT_LAMBDAS``).

The schedule, as in the paper: the step size starts at ``2 * eps``; each step is a gradient step
(the sign for L-inf, the unit vector for L2) projected onto the budget, then mixed with the last
move with momentum 0.75 (none at the first step) and projected again. At the checkpoints
``ceil(p_j * steps)``, ``p_0 = 0``, ``p_1 = 0.22``, ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)``,
an image's step size is halved, and the image restarts from its best iterate (with no momentum,
our choice), when fewer than ``rho = 0.75`` of its steps since the last checkpoint raised the loss
(condition 1), or when its step size was not halved at the last checkpoint and its best loss has
not risen since (condition 2). Every iterate is yielded: the base class keeps, per image, the one
that fools the victim with the lowest score, whatever its loss.

Ours, besides the detector's term: an unbounded attack (``eps = inf``) sizes its steps as if eps
were 1 (``detector_attack.step_scale``: a first step of 2), and the DLR loss with fewer than three
classes, whose denominator ``z_pi1 - z_pi3`` does not exist, is the unnormalized margin
``max_{i != y} z_i - z_y``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from advbench.attacks.detector_attack import DetectorAttack, margin, project, step_scale

#: The paper's momentum and the share of successful steps below which the step size is halved.
MOMENTUM = 0.75
RHO = 0.75
LOSSES = ("ce", "dlr")


def checkpoints(steps: int) -> set[int]:
    """The iterations ``ceil(p_j * steps)``, ``0 < p_j < 1``, at which APGD may halve its step size."""
    p = [0.0, 0.22]
    while p[-1] < 1:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
    return {math.ceil(q * steps - 1e-9) for q in p[1:-1]} - {0, steps}


def dlr(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The Difference of Logits Ratio loss per image, ``-(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3)``
    (the plain margin with fewer than three classes)."""
    if logits.shape[1] < 3:
        return margin(logits, labels)
    top = logits.topk(3, dim=1).values
    return margin(logits, labels) / (top[:, 0] - top[:, 2] + 1e-12)


class DetectorAPGD(DetectorAttack):
    """APGD (Croce and Hein 2020) on the victim's loss minus ``lam`` times the detector's score, fool-first.

    Parameters, beyond ``DetectorAttack``'s
    ----------------------------------------
    loss : {"ce", "dlr"}
        The victim's loss: cross-entropy or the Difference of Logits Ratio.
    lam : float
        The weight of the standardized score (0: plain APGD on the victim's loss).
    """

    name = "apgd-detector"
    source = "Croce and Hein 2020, Reliable evaluation of adversarial robustness with an ensemble of ... attacks"

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
        loss: str = "ce",
        lam: float = 1.0,
    ):
        super().__init__(model, detector, eps=eps, norm=norm, steps=steps, restarts=restarts, seed=seed)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        if not lam >= 0:
            raise ValueError(f"lam must be >= 0, got {lam!r}")
        self.loss = loss
        self.lam = float(lam)

    def _objective(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The loss per image at ``x`` and its gradient."""
        x = x.detach().requires_grad_(True)
        logits = self.model(x)
        value = F.cross_entropy(logits, labels, reduction="none") if self.loss == "ce" else dlr(logits, labels)
        if self.lam:
            fooled = (logits.argmax(1) != labels).detach()
            value = value - self.lam * self.score(x) * fooled
        (grad,) = torch.autograd.grad(value.sum(), x)
        return value.detach(), grad

    def _run(self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator):
        view = (-1, *([1] * (images.dim() - 1)))
        x = self._start(images, generator)
        loss, grad = self._objective(x, labels)
        yield x
        previous = x
        best, best_loss, best_grad = x.clone(), loss.clone(), grad.clone()
        size = torch.full((len(images),), 2 * step_scale(self.eps), dtype=images.dtype, device=images.device)
        marks, last_mark = checkpoints(self.steps), 0
        rises, mark_best, halved = torch.zeros_like(loss), best_loss.clone(), torch.zeros_like(loss, dtype=torch.bool)
        for step in range(self.steps):
            z = project(self._step(x, grad, size.view(view)), images, self.eps, self.norm)
            momentum = MOMENTUM if step else 1.0
            moved = project(x + momentum * (z - x) + (1 - momentum) * (x - previous), images, self.eps, self.norm)
            x, previous = moved, x
            new_loss, grad = self._objective(x, labels)
            yield x
            rises += new_loss > loss
            loss = new_loss
            better = loss > best_loss
            best[better], best_loss[better], best_grad[better] = x[better], loss[better], grad[better]
            if step + 1 in marks:
                halved = (rises < RHO * (step + 1 - last_mark)) | (~halved & (best_loss <= mark_best))
                size[halved] /= 2
                restart = halved.view(view)
                x, previous = torch.where(restart, best, x), torch.where(restart, best, previous)
                grad, loss = torch.where(restart, best_grad, grad), torch.where(halved, best_loss, loss)
                last_mark, mark_best, rises = step + 1, best_loss.clone(), torch.zeros_like(rises)
