"""Registry of detectors: ``names()``, ``create(name, **params)``, ``describe(name)``, groups.

Each detector family lives in its own module and is imported only when created, so listing
names does not import torch.
"""

from __future__ import annotations

import importlib

from advbench.detectors.base import BaseDetector

# name -> (module, class, preset parameters). Ablation variants are presets of one class.
_REGISTRY: dict[str, tuple[str, str, dict]] = {
    "ocsvm": ("advbench.detectors.ocsvm", "OCSVMDetector", {}),
    "kde": ("advbench.detectors.kde", "KDEDetector", {}),
    "iforest": ("advbench.detectors.iforest", "IForestDetector", {}),
    "mahalanobis": ("advbench.detectors.mahalanobis", "MahalanobisDetector", {}),
    "dcae": ("advbench.detectors.dcae", "DCAEDetector", {}),
    "deep-svdd": ("advbench.detectors.deep_svdd", "DeepSVDDDetector", {"objective": "one-class"}),
    "deep-svdd-soft": ("advbench.detectors.deep_svdd", "DeepSVDDDetector", {"objective": "soft-boundary"}),
    "rcae": ("advbench.detectors.rcae", "RCAEDetector", {}),
    "dual-adversarial": ("advbench.detectors.dual_adversarial", "DualAdversarialDetector", {}),
    "ablation-single-ae": (
        "advbench.detectors.dual_adversarial",
        "DualAdversarialDetector",
        {"use_discriminator": False, "use_dual": False, "use_latent_regularizer": False},
    ),
    "ablation-single-ae-d": (
        "advbench.detectors.dual_adversarial",
        "DualAdversarialDetector",
        {"use_discriminator": True, "use_dual": False, "use_latent_regularizer": False},
    ),
    "ablation-dual-ae-d": (
        "advbench.detectors.dual_adversarial",
        "DualAdversarialDetector",
        {"use_discriminator": True, "use_dual": True, "use_latent_regularizer": False},
    ),
}

#: Named groups accepted by ``advbench run --detectors``.
GROUPS: dict[str, tuple[str, ...]] = {
    "all": ("ocsvm", "kde", "iforest", "mahalanobis", "dcae", "deep-svdd", "deep-svdd-soft", "rcae", "dual-adversarial"),
    "ablation": ("ablation-single-ae", "ablation-single-ae-d", "ablation-dual-ae-d", "dual-adversarial"),
    "classic": ("ocsvm", "kde", "iforest", "mahalanobis"),
    "deep": ("dcae", "deep-svdd", "deep-svdd-soft", "rcae", "dual-adversarial"),
}


def names() -> list[str]:
    """All registered detector names, in table order."""
    return list(_REGISTRY)


def _lookup(name: str) -> tuple[type[BaseDetector], dict]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown detector {name!r}; valid names: {', '.join(_REGISTRY)}")
    module, cls, preset = _REGISTRY[name]
    return getattr(importlib.import_module(module), cls), preset


def create(name: str, **params) -> BaseDetector:
    """Build a detector by name; ``params`` override the class defaults and the name's preset."""
    cls, preset = _lookup(name)
    return cls(**{**preset, **params})


def describe(name: str) -> str:
    """The one-line description of a detector (for ``advbench list``).

    A class serving several names (presets) may map each name to its own line in a
    ``descriptions`` dict; otherwise its ``description`` attribute is used.
    """
    cls, _ = _lookup(name)
    return getattr(cls, "descriptions", {}).get(name, cls.description)


def expand(spec: str) -> list[str]:
    """Expand a ``--detectors`` value (groups and/or a comma list) into unique names, in order."""
    out: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        members = GROUPS.get(item, (item,))
        for name in members:
            if name not in _REGISTRY:
                valid = ", ".join([*GROUPS, *_REGISTRY])
                raise ValueError(f"unknown detector or group {name!r}; valid: {valid}")
            if name not in out:
                out.append(name)
    if not out:
        raise ValueError("no detector given")
    return out


__all__ = ["BaseDetector", "GROUPS", "create", "describe", "expand", "names"]
