"""Run one attack on a batch of images: every attack via foolbox 3, or FGSM, BIM and DeepFool via torchattacks.

Every attack is untargeted, works on float images in [0, 1] and returns float adversarial images
of the same shape (possibly NaN or infinite where a library failed; the caller drops those).

FGSM, BIM and DeepFool take ``backend``: ``foolbox`` (default; foolbox is a dependency) or
``torchattacks`` (an optional extra, ``--set fgsm.backend=torchattacks``). torchattacks 3.5 pins
``requests~=2.25.1`` and pulls torchvision, so it is no longer installed by default. On the same
victim and inputs, FGSM and BIM of both libraries agree to 1e-6 and give the same 8-bit images
(the tests check it). DeepFool differs in detail: foolbox adds up the steps and applies the
overshoot to the total, torchattacks applies it at every step; both consider every class (foolbox
with ``candidates=None``), so the two give close but not identical images.

Defaults (``DEFAULT_PARAMS``):

- fgsm: ``eps`` 12/255. The usual L-inf budget for 32x32 images, 8/255 (torchattacks' default),
  fools the default victim on only 95 of the 270 test stop signs (35%), too few for a test set;
  12/255 fools it on 166 (62%). The one-step attack needs the larger budget; BIM keeps 8/255.
- bim: ``eps`` 8/255, ``alpha`` 2/255, ``steps`` 10 (torchattacks' defaults, given to foolbox's
  ``LinfBasicIterativeAttack`` as ``abs_stepsize`` with no random start; Kurakin et al. use
  min(eps + 4, 1.25 eps) steps, which is 10 at eps 8). Unless it is given, ``alpha`` is ``eps / 4``
  (``DERIVED``): 2/255 at the default budget, and at any budget the 10 steps can travel 2.5 eps,
  so a budget sweep (``bim@eps=64/255``) measures the budget and not a step size that cannot
  reach it (with a fixed 2/255, 10 steps end at 20/255 whatever the budget).
- deepfool: ``steps`` 50, ``overshoot`` 0.02 (Moosavi-Dezfooli et al., foolbox's and torchattacks'
  defaults), every class a candidate, ``quantized_decision`` true (see below). DeepFool stops just past the decision boundary, where
  rounding to 8 bits would undo most of its results; attacking the victim behind an 8-bit
  rounding layer (gradient passed straight through) makes it step on until the rounded image is
  misclassified. With the torchattacks backend, its Jacobian is computed in one batched backward
  pass instead of one per class (``BatchedJacobianDeepFool``), which gives the same values faster.
- pgd: ``eps`` 8/255, ``alpha`` eps/4 (``DERIVED``, as BIM), ``steps`` 10, ``norm`` linf (or
  ``l2``, where ``eps`` is an L2 radius), ``random_start`` true: BIM from a uniform random point of the L-inf ball, as Madry et al. (2018) define it
  (foolbox's ``LinfProjectedGradientDescentAttack``). The budget and steps match BIM's so that the
  two compare, and the plain attack is what the detector-aware attack (``adaptive.py``) extends.
  The random start is drawn per batch from the seeded generator, so ``batch_size`` is part of the
  attack's name when it is not the default.
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
changes nothing in the results of FGSM, BIM and DeepFool (each image is attacked on its own in
both libraries), while foolbox's Boundary attack adapts
its step sizes per batch, so it is part of the recorded parameters.
"""

from __future__ import annotations

import functools
import importlib.util

import torch
from torch import nn

from advbench.attacks.settings import coerce
from advbench.errors import AdvbenchError
from advbench.torch_utils import seed_everything

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
    "fgsm": {"eps": 12 / 255, "backend": "foolbox", "batch_size": 256},
    "bim": {"eps": 8 / 255, "alpha": None, "steps": 10, "backend": "foolbox", "batch_size": 256},  # alpha: see DERIVED
    "deepfool": {"steps": 50, "overshoot": 0.02, "quantized_decision": True, "backend": "foolbox", "batch_size": 256},
    "pgd": {"eps": 8 / 255, "alpha": None, "steps": 10, "norm": "linf", "random_start": True, "batch_size": 256},  # alpha: see DERIVED
}

#: The libraries an attack with a ``backend`` parameter can run on; the first is the default.
BACKENDS = ("foolbox", "torchattacks")
#: Parameters that take one of a few words.
CHOICES = {"backend": BACKENDS, "norm": ("linf", "l2")}


#: Parameters whose default (None above) follows from the others (see the module docstring).
DERIVED: dict[str, dict] = {"bim": {"alpha": lambda params: params["eps"] / 4}, "pgd": {"alpha": lambda params: params["eps"] / 4}}
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
    for key, choices in CHOICES.items():
        if key in params and params[key] not in choices:
            raise ValueError(f"{name}.{key}: expected one of {', '.join(choices)}, got {params[key]!r}")
    for key, value in params.items():
        if (key in _POSITIVE and not value > 0) or (key in _NON_NEGATIVE and not value >= 0):
            raise ValueError(f"{name}.{key}: must be {'positive' if key in _POSITIVE else 'at least 0'}, got {value!r}")
    return params


def library(params: dict) -> str:
    """The library that runs an attack with resolved ``params`` (foolbox unless ``backend`` says otherwise)."""
    return params.get("backend", "foolbox")


def check_backend(name: str, params: dict) -> None:
    """AdvbenchError naming the extra to install when the attack's library is missing."""
    package = library(params)
    if importlib.util.find_spec(package) is None:
        raise AdvbenchError(
            f"{name}.backend={package}: {package} is not installed; "
            f"pip install --no-deps {package} (or \"advbench[{package}]\", which brings its pins; see the README)"
        )


def _torchattacks_attack(name: str, model: nn.Module, params: dict):
    import torchattacks

    if name == "fgsm":
        return torchattacks.FGSM(model, eps=params["eps"])
    if name == "bim":
        return torchattacks.BIM(model, eps=params["eps"], alpha=params["alpha"], steps=params["steps"])
    return _deepfool_class()(model, steps=params["steps"], overshoot=params["overshoot"])


def pgd_class(params: dict):
    """foolbox's L-inf PGD class, or its L2 one for ``norm=l2``."""
    import foolbox

    if params.get("norm") == "l2":
        return foolbox.attacks.L2ProjectedGradientDescentAttack
    return foolbox.attacks.LinfProjectedGradientDescentAttack


def foolbox_batch(model: nn.Module, attack, epsilon: float | None):
    """A foolbox ``attack`` on ``model`` as a function of one batch ``(x, y)`` (untargeted)."""
    import foolbox

    def run(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        fmodel = foolbox.PyTorchModel(model, bounds=(0, 1), device=x.device)
        _, clipped, _ = attack(fmodel, x, foolbox.criteria.Misclassification(y), epsilons=epsilon)
        return clipped

    return run


def _foolbox_attack(name: str, model: nn.Module, params: dict):
    """FGSM, BIM (PGD without random start), PGD or DeepFool from foolbox as a function of one batch ``(x, y)``."""
    import foolbox

    if name == "fgsm":
        return foolbox_batch(model, foolbox.attacks.FGSM(random_start=False), params["eps"])
    if name in ("bim", "pgd"):
        attack = pgd_class(params)(abs_stepsize=params["alpha"], steps=params["steps"],
                                   random_start=params.get("random_start", False))
        return foolbox_batch(model, attack, params["eps"])
    attack = foolbox.attacks.L2DeepFoolAttack(steps=params["steps"], candidates=None, overshoot=params["overshoot"])
    return foolbox_batch(model, attack, None)


def _boundary_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, params: dict) -> torch.Tensor:
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
    seed_everything(seed)
    model.eval()
    quantized = params.get("quantized_decision", False)
    if quantized:
        model = nn.Sequential(Quantize8Bit(), model).eval()  # eval: torchattacks restores the mode it found
    batch_size = params["batch_size"]
    check_backend(name, params)
    if name == "boundary":
        attack = functools.partial(_boundary_batch, model, params=params)
    elif library(params) == "torchattacks":
        attack = _torchattacks_attack(name, model, params)
    else:
        attack = _foolbox_attack(name, model, params)
    return in_batches(attack, images, labels, batch_size, desc=name, rounded=quantized, progress=progress)


def in_batches(attack, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *, desc: str,
               rounded: bool = False, progress: bool = False) -> torch.Tensor:
    """``attack(x, y)`` over ``images`` in batches of ``batch_size``, outputs on the images' device,
    rounded to 8 bits when ``rounded``; a copy of ``images`` when there are none."""
    from tqdm import tqdm

    outputs = []
    starts = range(0, images.shape[0], batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=not progress, leave=False):
        adv = attack(images[start : start + batch_size], labels[start : start + batch_size])
        if rounded:
            adv = torch.round(adv * 255) / 255  # the image the attack's decisions were made on
        outputs.append(adv.detach().to(images.device))
    if not outputs:
        return images.clone()
    return torch.cat(outputs)
