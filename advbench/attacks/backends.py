"""Library glue the registry entries share: a foolbox attack as a function of one batch, foolbox's
PGD class by norm, and torchattacks' DeepFool with a batched Jacobian.

Every attack is untargeted, works on float images in [0, 1] and returns float adversarial images
of the same shape (possibly NaN or infinite where a library failed; the caller drops those).
The libraries are imported when an attack is built, not with this module.
"""

from __future__ import annotations

import torch
from torch import nn


def foolbox_batch(model: nn.Module, attack, epsilon: float | None):
    """A foolbox ``attack`` on ``model`` as a function of one batch ``(x, y)`` (untargeted)."""
    import foolbox

    def run(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        fmodel = foolbox.PyTorchModel(model, bounds=(0, 1), device=x.device)
        _, clipped, _ = attack(fmodel, x, foolbox.criteria.Misclassification(y), epsilons=epsilon)
        return clipped

    return run


def pgd_class(params: dict):
    """foolbox's L-inf PGD class, or its L2 one for ``norm=l2``."""
    import foolbox

    if params.get("norm") == "l2":
        return foolbox.attacks.L2ProjectedGradientDescentAttack
    return foolbox.attacks.LinfProjectedGradientDescentAttack


def deepfool_class():
    """torchattacks' DeepFool with its Jacobian computed in one batched backward pass."""
    import torchattacks

    class BatchedJacobianDeepFool(torchattacks.DeepFool):
        """torchattacks' DeepFool with the class-by-class Jacobian (one backward pass per class)
        computed in one batched backward pass: the same values, several times faster."""

        def _construct_jacobian(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            eye = torch.eye(len(y), dtype=y.dtype, device=y.device)
            (jacobian,) = torch.autograd.grad(y, x, grad_outputs=eye, is_grads_batched=True)
            return jacobian.reshape(*y.shape, *x.shape)

    return BatchedJacobianDeepFool
