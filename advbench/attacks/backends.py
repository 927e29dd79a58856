"""Library glue the registry entries share: a foolbox attack as a function of one batch, foolbox's
PGD class by norm, torchattacks' DeepFool and JSMA with a batched Jacobian, and a foolbox attack
from blended-noise starting points (HopSkipJump).

Every attack succeeds by misclassification (JSMA gets there by aiming at a random other class),
works on float images in [0, 1] and returns float adversarial images of the same shape (possibly
NaN or infinite where a library failed; the caller drops those).
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


def jsma_class():
    """torchattacks' JSMA targeted at a random other class, changing at most ``gamma`` of the features,
    with its Jacobian computed in one batched backward pass."""
    import math

    import torchattacks

    class FeinmanJSMA(torchattacks.JSMA):
        """torchattacks' JSMA as Feinman et al. (2017) run it through cleverhans: each image targeted at
        a class drawn uniformly from the others (``set_mode_targeted_random``; torchattacks' own
        untargeted mode aims at ``(label + 1) % 10``, which assumes 10 classes), and at most
        ``floor(n * gamma / 2)`` pixel pairs changed, as cleverhans and Papernot et al. count them
        (torchattacks rounds up, one pair over the budget when ``n * gamma / 2`` is not whole). The
        Jacobian takes one batched backward pass instead of one per class: the same values."""

        def __init__(self, model, theta: float, gamma: float):
            super().__init__(model, theta=theta, gamma=gamma)
            self.budget = gamma
            self.set_mode_targeted_random(quiet=True)

        def perturbation_single(self, image: torch.Tensor, target_label: torch.Tensor) -> torch.Tensor:
            features = image[0].numel()
            pairs = math.floor(features * self.budget / 2)
            self.gamma = (2 * pairs - 1) / features  # torchattacks' ceil(features * gamma / 2) is then `pairs`
            return super().perturbation_single(image, target_label)

        def compute_jacobian(self, image: torch.Tensor) -> torch.Tensor:
            x = image.clone().detach().requires_grad_(True)
            logits = self.get_logits(x)
            eye = torch.eye(logits.shape[1], dtype=logits.dtype, device=logits.device).unsqueeze(1)
            (jacobian,) = torch.autograd.grad(logits, x, grad_outputs=eye, is_grads_batched=True)
            return jacobian.reshape(logits.shape[1], -1)

        @torch.no_grad()
        def saliency_map(self, jacobian, target_label, increasing, search_space, nb_features):
            """torchattacks' choice of pixel pair (increasing attack), computed over the pairs of the
            search domain only, in blocks of rows, on and above the diagonal: the same pair, about
            15 times faster on 3 x 32 x 32 images. torchattacks shifts the derivatives of features
            outside the domain so that no pair with one of them passes its mask, and picks the first
            maximum of the symmetric map in row-major order (pair 0, 0 when no pair passes): that
            is the first maximum above the diagonal, over the domain's features kept in order."""
            if not increasing:
                raise NotImplementedError("only the increasing attack (theta > 0)")
            target = jacobian[target_label].reshape(-1)
            others = jacobian.sum(dim=0) - target
            domain = torch.eq(search_space, 1).nonzero().flatten()
            target, others = target[domain], others[domain]
            best, pair = 0.0, (0, 0)
            for start in range(0, len(domain), 64):
                # alpha * |beta| where alpha = t_p + t_q > 0 and beta = o_p + o_q < 0, else 0
                block = (target[start : start + 64, None] + target[None, start:]).clamp_(min=0)
                block.mul_((others[start : start + 64, None] + others[None, start:]).neg_().clamp_(min=0)).triu_(1)
                flat = block.flatten()
                k = int(flat.argmax())
                if flat[k].item() > best:  # strictly: an earlier block wins a tie
                    best = flat[k].item()
                    columns = block.shape[1]
                    pair = (int(domain[start + k // columns]), int(domain[start + k % columns]))
            p, q = (torch.tensor([index], device=jacobian.device) for index in pair)
            return p, q

    return FeinmanJSMA


def from_blended_noise(model: nn.Module, attack, init_directions: int, init_steps: int):
    """A foolbox minimization ``attack`` that needs adversarial starting points (Boundary, HopSkipJump)
    as a function of one batch ``(x, y)``: starting points from ``LinearSearchBlendedUniformNoiseAttack``;
    rows for which that finds none come back unchanged."""
    import foolbox

    def run(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        fmodel = foolbox.PyTorchModel(model, bounds=(0, 1), device=x.device)
        init = foolbox.attacks.LinearSearchBlendedUniformNoiseAttack(directions=init_directions, steps=init_steps)
        starts = init.run(fmodel, x, foolbox.criteria.Misclassification(y))
        with torch.no_grad():
            ok = model(starts).argmax(1) != y
        out = x.clone()
        if ok.any():
            _, clipped, _ = attack(
                fmodel, x[ok], foolbox.criteria.Misclassification(y[ok]), epsilons=None, starting_points=starts[ok]
            )
            out[ok] = clipped
        return out

    return run


def rounded_past_boundary(
    model: nn.Module, x: torch.Tensor, adversarial: torch.Tensor, y: torch.Tensor, scan: int = 32, bisect: int = 6
) -> torch.Tensor:
    """``adversarial`` moved along the ray from ``x`` until its 8-bit rounding fools ``model``: the rounded
    image of ``x + t (adversarial - x)`` (clipped to [0, 1]) at the first ``t`` of 1, 1 + 1/``scan``, ..., 2
    whose rounding the model misclassifies, refined by ``bisect`` halvings of the last interval. A row
    for which no ``t`` up to 2 works comes back rounded at ``t`` 1 (the 8-bit check then drops it).
    ``1 + scan + bisect`` batched queries of the model's decisions, on 8-bit images only."""
    direction = adversarial - x

    def image(t: torch.Tensor) -> torch.Tensor:
        scaled = x + t.reshape(-1, *[1] * (x.dim() - 1)) * direction
        return torch.round(scaled.clamp(0, 1) * 255) / 255

    def fools(t: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(image(t)).argmax(1) != y

    ones = torch.ones(len(x), device=x.device)
    found = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    low, high = ones.clone(), ones.clone()
    for step in range(scan + 1):
        t = ones + step / scan
        newly = fools(t) & ~found
        high = torch.where(newly, t, high)
        low = torch.where(newly, t - (1 / scan if step else 0), low)
        found |= newly
        if found.all():
            break
    for _ in range(bisect):
        middle = (low + high) / 2
        fooled = fools(middle)
        high = torch.where(found & fooled, middle, high)
        low = torch.where(found & ~fooled, middle, low)
    return image(torch.where(found, high, ones))
