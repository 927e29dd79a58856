"""Detectors by name: ``names()``, ``create(name, **params)``, ``describe(name)``, groups.

The built-in detectors are the entries of ``detectors.registry`` (one typed entry per name). Each
detector family lives in its own module and is imported only when created, so listing names does
not import torch.

Third-party packages add detectors as plug-ins: an entry point in the group ``advbench.detectors``
maps a name to a class that subclasses ``advbench.detectors.BaseDetector`` (``pyproject.toml``:
``[project.entry-points."advbench.detectors"] my-detector = "my_package.module:MyDetector"``).
Plug-ins are listed after the built-in detectors, in name order; a plug-in cannot take a
built-in name (it is ignored, and ``advbench list`` says so). They are found in every process
of a run, so ``--jobs N`` runs them too.

Any PyOD model runs as ``pyod:<Class>`` (``pyod_models``; PyOD is an optional extra); the group
``pyod`` holds a few that take well under a minute per seed on the stop signs.

The group ``victim`` holds the detectors that look through the victim, the classifier that was
attacked (``victim_detector``): ``advbench run`` hands them the victim and its clean training data
of every class (``BaseDetector.needs_victim``, ``needs_reference``).

A detector may give several scores from one fit (score variants, ``base.py``): their rows are named
``<detector>[<variant>]`` (``variant_name``, ``split_variant``); such names are not registry names.
"""

from __future__ import annotations

import importlib
import importlib.metadata

from advbench.detectors.base import DEFAULT_VARIANT, BaseDetector, needs, split_variant, variant_name
from advbench.detectors.registry import ENTRIES as _REGISTRY
from advbench.detectors.registry import GROUPS

#: The entry-point group of plug-in detectors.
ENTRY_POINT_GROUP = "advbench.detectors"


def plugins() -> dict[str, importlib.metadata.EntryPoint]:
    """Installed plug-in detectors by name, built-in names excluded (see ``shadowed``)."""
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return {ep.name: ep for ep in sorted(found, key=lambda ep: ep.name) if ep.name not in _REGISTRY}


def shadowed() -> list[str]:
    """Plug-in entry points ignored because they take a built-in name."""
    return sorted(ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name in _REGISTRY)


def names() -> list[str]:
    """All detector names in table order: the built-in ones, then the plug-ins."""
    return [*_REGISTRY, *plugins()]


def lookup(name: str) -> tuple[type[BaseDetector], dict]:
    """The class of detector ``name`` and its preset parameters (ValueError for an unknown name)."""
    if name.startswith("pyod:"):
        from advbench.detectors.pyod_models import detector_class

        return detector_class(name.removeprefix("pyod:")), {}
    if name in _REGISTRY:
        entry = _REGISTRY[name]
        return getattr(importlib.import_module(entry.module), entry.cls), dict(entry.preset)
    entry = plugins().get(name)
    if entry is None:
        raise ValueError(f"unknown detector {name!r}; valid names: {', '.join(names())}")
    try:
        cls = entry.load()
    except Exception as exc:  # a broken third-party package: say which, in one line
        raise ValueError(
            f"plug-in detector {name!r} ({entry.value}) could not be loaded: {type(exc).__name__}: {exc}"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, BaseDetector)):
        raise ValueError(
            f"plug-in detector {name!r} ({entry.value}) is not a subclass of advbench.detectors.BaseDetector"
        )
    return cls, {}


def create(name: str, **params) -> BaseDetector:
    """Build a detector by name; ``params`` override the class defaults and the name's preset."""
    cls, preset = lookup(name)
    return cls(**{**preset, **params})


def describe(name: str) -> str:
    """The one-line description of a detector (for ``advbench list``): its registry entry's, else its
    class's ``description`` attribute."""
    entry = _REGISTRY.get(name)
    if entry is not None and entry.description is not None:
        return entry.description
    cls, _ = lookup(name)
    return cls.description


def expand(spec: str) -> list[str]:
    """Expand a ``--detectors`` value (groups and/or a comma list) into unique names, in order."""
    out: list[str] = []
    known = set(names())
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        members = GROUPS.get(item, (item,))
        for name in members:
            if name not in known and not name.startswith("pyod:"):
                valid = ", ".join([*GROUPS, *names()])
                raise ValueError(f"unknown detector or group {name!r}; valid: {valid}, or pyod:<Class>")
            if name not in out:
                out.append(name)
    if not out:
        raise ValueError("no detector given")
    return out


__all__ = [
    "BaseDetector",
    "DEFAULT_VARIANT",
    "ENTRY_POINT_GROUP",
    "GROUPS",
    "create",
    "describe",
    "expand",
    "lookup",
    "names",
    "needs",
    "plugins",
    "split_variant",
    "variant_name",
]
