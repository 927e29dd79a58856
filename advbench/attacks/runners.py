"""Run one attack on a batch of images: FGSM, BIM, DeepFool via torchattacks, Boundary via foolbox 3.

Every attack is untargeted, works on float images in [0, 1] and returns float adversarial images
of the same shape (possibly NaN or infinite where a library failed; the caller drops those).
Defaults (``DEFAULT_PARAMS``):

- fgsm: ``eps`` 12/255. The usual L-inf budget for 32x32 images, 8/255 (torchattacks' default),
  fools the default victim on only 95 of the 270 test stop signs (35%), too few for a test set;
  12/255 fools it on 166 (62%). The one-step attack needs the larger budget; BIM keeps 8/255.
- bim: ``eps`` 8/255, ``alpha`` 2/255, ``steps`` 10 (torchattacks' defaults; Kurakin et al. use
  min(eps + 4, 1.25 eps) steps, which is 10 at eps 8). Unless it is given, ``alpha`` is ``eps / 4``
  (``DERIVED``): 2/255 at the default budget, and at any budget the 10 steps can travel 2.5 eps,
  so a budget sweep (``bim@eps=64/255``) measures the budget and not a step size that cannot
  reach it (with a fixed 2/255, 10 steps end at 20/255 whatever the budget).
- deepfool: ``steps`` 50, ``overshoot`` 0.02 (Moosavi-Dezfooli et al. and torchattacks' defaults),
  ``quantized_decision`` true (see below). DeepFool stops just past the decision boundary, where
  rounding to 8 bits would undo most of its results; attacking the victim behind an 8-bit
  rounding layer (gradient passed straight through) makes it step on until the rounded image is
  misclassified. torchattacks' Jacobian is computed in one batched backward pass instead of one
  per class (``BatchedJacobianDeepFool``), which gives the same values faster.
- boundary: foolbox's step sizes (``spherical_step`` and ``source_step`` 0.01, ``step_adaptation``
  1.5); ``steps`` 5000 instead of foolbox's 25,000 so that 270 images take a few minutes on a
  CPU. The attack converges slowly: on the first 30 test stop signs the median L2 distance is
  8.6 after 1000 steps and 5.6 after 5000 (pixels in [0, 1]): Boundary images stay the most
  perturbed of the four attacks. Starting points come from
  foolbox's ``LinearSearchBlendedUniformNoiseAttack`` (``init_directions`` 1000 random noise
  images, ``init_steps`` 50 blending steps, as BoundaryAttack uses by default); an image for
  which that finds no start comes back unchanged, i.e. counts as a failed attempt. With ``quantized_decision`` (default
  true) the attack queries the victim on 8-bit rounded inputs, i.e. the classifier as it sees
  image files: its results then stay adversarial after they are stored as 8-bit images instead
  of falling back across the boundary they sit on. Attacks with ``quantized_decision`` return
  the rounded images their decisions were made on.

``batch_size`` (not a library parameter) is how many images go to the library per call; it
changes nothing in the results of the torchattacks attacks, while foolbox's Boundary attack adapts
its step sizes per batch, so it is part of the recorded parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from advbench.attacks.settings import coerce
from advbench.detectors.torch_utils import seed_everything

DEFAULT_PARAMS: dict[str, dict] = {
    "boundary": {
        "steps": 5000,
        "spherical_step": 0.01,
        "source_step": 0.01,
        "source_step_convergance": 1e-7,
        "step_adaptation": 1.5,
        "update_stats_every_k": 10,
        "init_directions": 1000,
        "init_steps": 50,
        "quantized_decision": True,
        "batch_size": 300,
    },
    "fgsm": {"eps": 12 / 255, "batch_size": 256},
    "bim": {"eps": 8 / 255, "alpha": None, "steps": 10, "batch_size": 256},  # alpha: see DERIVED
    "deepfool": {"steps": 50, "overshoot": 0.02, "quantized_decision": True, "batch_size": 32},
}


#: Parameters whose default (None above) follows from the others (see the module docstring).
DERIVED: dict[str, dict] = {"bim": {"alpha": lambda params: params["eps"] / 4}}
#: Parameters that must be positive, and those that must not be negative.
_POSITIVE = ("eps", "alpha", "steps", "batch_size", "init_directions", "init_steps", "spherical_step", "source_step")
_NON_NEGATIVE = ("overshoot", "source_step_convergance")


class Quantize8Bit(nn.Module):
    """Round inputs in [0, 1] to the 256 levels an 8-bit image file can hold.

    The gradient passes straight through (identity), as in BPDA (Athalye et al. 2018), so
    gradient attacks can linearize the victim as it classifies 8-bit images.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + (torch.round(x * 255) / 255 - x).detach()


def _deepfool_class():
    import torchattacks

    class BatchedJacobianDeepFool(torchattacks.DeepFool):
        """torchattacks' DeepFool with the class-by-class Jacobian (one backward pass per class)
        computed in one batched backward pass: the same values, several times faster."""

        def _construct_jacobian(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            eye = torch.eye(len(y), dtype=y.dtype, device=y.device)
            (jacobian,) = torch.autograd.grad(y, x, grad_outputs=eye, is_grads_batched=True)
            return jacobian.reshape(*y.shape, *x.shape)

    return BatchedJacobianDeepFool


def resolve_params(name: str, overrides: dict | None = None) -> dict:
    """The attack's defaults updated by ``overrides``, each cast to its default's type, derived
    defaults filled in (``DERIVED``).

    Raises ValueError for an unknown attack or parameter, or a value of the wrong kind or range.
    """
    if name not in DEFAULT_PARAMS:
        raise ValueError(f"unknown attack {name!r} (known: {', '.join(DEFAULT_PARAMS)})")
    params = dict(DEFAULT_PARAMS[name])
    for key, value in (overrides or {}).items():
        if key not in params:
            raise ValueError(f"{name}: unknown parameter {key!r} (known: {', '.join(params)})")
        default = params[key] if params[key] is not None else 0.0  # derived defaults are floats
        params[key] = coerce(name, key, value, default)
    for key, rule in DERIVED.get(name, {}).items():
        if params[key] is None:
            params[key] = rule(params)
    for key, value in params.items():
        if (key in _POSITIVE and not value > 0) or (key in _NON_NEGATIVE and not value >= 0):
            raise ValueError(f"{name}.{key}: must be {'positive' if key in _POSITIVE else 'at least 0'}, got {value!r}")
    return params


def _torchattacks_attack(name: str, model: nn.Module, params: dict):
    import torchattacks

    if name == "fgsm":
        return torchattacks.FGSM(model, eps=params["eps"])
    if name == "bim":
        return torchattacks.BIM(model, eps=params["eps"], alpha=params["alpha"], steps=params["steps"])
    return _deepfool_class()(model, steps=params["steps"], overshoot=params["overshoot"])


def _boundary_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, params: dict) -> torch.Tensor:
    """foolbox BoundaryAttack on one batch; rows without a starting point come back unchanged."""
    import foolbox

    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1), device=x.device)
    criterion = foolbox.criteria.Misclassification(y)
    init = foolbox.attacks.LinearSearchBlendedUniformNoiseAttack(
        directions=params["init_directions"], steps=params["init_steps"]
    )
    starts = init.run(fmodel, x, criterion)
    with torch.no_grad():
        ok = model(starts).argmax(1) != y
    out = x.clone()
    if ok.any():
        attack = foolbox.attacks.BoundaryAttack(
            steps=params["steps"],
            spherical_step=params["spherical_step"],
            source_step=params["source_step"],
            source_step_convergance=params["source_step_convergance"],
            step_adaptation=params["step_adaptation"],
            update_stats_every_k=params["update_stats_every_k"],
        )
        _, clipped, _ = attack(fmodel, x[ok], foolbox.criteria.Misclassification(y[ok]), epsilons=None, starting_points=starts[ok])
        out[ok] = clipped
    return out


def run_attack(
    name: str,
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    params: dict,
    *,
    seed: int = 0,
    progress: bool = False,
) -> torch.Tensor:
    """Attack float ``images`` (N x 3 x H x W in [0, 1], on the model's device) with true ``labels``.

    ``params`` is a resolved parameter dict (``resolve_params``). Seeds torch, NumPy and Python
    from ``seed`` first, so each attack's result does not depend on what ran before it.
    Returns the adversarial images (float, on the images' device), unchecked: rows may still be
    classified correctly, or be NaN or infinite if a library diverged.
    """
    from tqdm import tqdm

    seed_everything(seed)
    model.eval()
    quantized = params.get("quantized_decision", False)
    if quantized:
        model = nn.Sequential(Quantize8Bit(), model).eval()  # eval: torchattacks restores the mode it found
    batch_size = params["batch_size"]
    attack = None if name == "boundary" else _torchattacks_attack(name, model, params)
    outputs = []
    starts = range(0, images.shape[0], batch_size)
    for start in tqdm(starts, desc=name, unit="batch", disable=not progress, leave=False):
        x, y = images[start : start + batch_size], labels[start : start + batch_size]
        adv = _boundary_batch(model, x, y, params) if attack is None else attack(x, y)
        if quantized:
            adv = torch.round(adv * 255) / 255  # the image the attack's decisions were made on
        outputs.append(adv.detach().to(images.device))
    if not outputs:
        return images.clone()
    return torch.cat(outputs)

