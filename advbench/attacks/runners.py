"""Resolve an attack's parameters and run it on images, batch by batch, on the library it names.

The attacks, their defaults and the reasons for them are the entries of
``advbench.attacks.registry``; this module reads them. Every attack runs on foolbox 3 by default;
those with a ``backend`` parameter also on ``torchattacks``, an optional extra
(``--set fgsm.backend=torchattacks``): torchattacks 3.5 pins ``requests~=2.25.1`` and pulls
torchvision, so it is not installed by default.

Attacks with ``quantized_decision`` attack the victim behind an 8-bit rounding layer
(``Quantize8Bit``) and return the rounded images their decisions were made on.

``batch_size`` (not a library parameter) is how many images go to the library per call; an
attack that treats each image on its own lists it in its entry's ``unnamed``.
"""

from __future__ import annotations

import importlib.util

import torch
from torch import nn

from advbench.attacks.registry import ATTACKS
from advbench.attacks.settings import coerce
from advbench.errors import AdvbenchError
from advbench.torch_utils import seed_everything


class Quantize8Bit(nn.Module):
    """Round inputs in [0, 1] to the 256 levels an 8-bit image file can hold.

    The gradient passes straight through (identity), as in BPDA (Athalye et al. 2018), so
    gradient attacks can linearize the victim as it classifies 8-bit images.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + (torch.round(x * 255) / 255 - x).detach()


def resolve_params(name: str, overrides: dict | None = None) -> dict:
    """The attack's defaults updated by ``overrides``, each cast to its default's type, derived
    defaults filled in, every value checked (the entry's ``Param``s).

    Raises ValueError for an unknown attack or parameter, or a value of the wrong kind or range.
    """
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r} (known: {', '.join(ATTACKS)})")
    declared = ATTACKS[name].params
    params = {key: param.default for key, param in declared.items()}
    for key, value in (overrides or {}).items():
        if key not in params:
            raise ValueError(f"{name}: unknown parameter {key!r} (known: {', '.join(params)})")
        default = params[key] if params[key] is not None else 0.0  # derived defaults are floats
        params[key] = coerce(name, key, value, default)
    for key, param in declared.items():
        if params[key] is None:
            params[key] = param.derive(params)
    for key, param in declared.items():
        error = param.check and param.check.error(params[key])
        if error:
            raise ValueError(f"{name}.{key}: {error}")
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
            f'pip install --no-deps {package} (or "advbench[{package}]", which brings its pins; see the README)'
        )


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
    attack = ATTACKS[name].batch_attack(library(params), model, params)
    return in_batches(attack, images, labels, batch_size, desc=name, rounded=quantized, progress=progress)


def in_batches(
    attack,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    *,
    desc: str,
    rounded: bool = False,
    progress: bool = False,
) -> torch.Tensor:
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
