"""What ``advbench.evaluate`` runs for its ``detector`` argument: a registry name and its parameters
table, or a prototype the registry does not build.

- A name (``"ocsvm"``, ``"pyod:ECOD"``, a plug-in's) runs as ``advbench run --detectors NAME``.
- A detector of the registry's classes (``advbench.detectors.create(name, **params)``) runs under
  its registry name, the most specific whose preset its parameters hold (``deep-svdd-soft`` over
  ``deep-svdd``); the parameters it sets away from that name's defaults are its
  ``[detectors.<name>]`` table, so it runs as ``advbench run`` with that table in ``--config``: the
  others take the benchmark's defaults, and ``random_state``, ``device`` and ``profile`` come from
  ``evaluate``'s ``seeds``, ``device`` and ``profile``.
- Any other ``BaseDetector`` is a prototype under its class name (or ``name``), and any other
  object with ``fit`` and ``decision_function`` is one wrapped in ``ForeignDetector``.

A prototype's name is a word of letters, digits, ``_ . + -`` that no registry name or group takes
(compared without case, as some file systems do: the name is the folder of its scores).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from advbench.detectors.base import BaseDetector
from advbench.runs.config import RUN_SET_PARAMS

#: What a prototype's name may be.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


@dataclass(frozen=True)
class Spec:
    """The detector's name in the run, its ``[detectors.<name>]`` table, and its prototype (None for a
    registry detector)."""

    name: str
    table: dict = field(default_factory=dict)
    prototype: BaseDetector | None = None


def _registry_name(detector: BaseDetector) -> str | None:
    """The registry name of ``detector``'s class and preset, None when the registry has none."""
    from advbench import detectors
    from advbench.detectors.pyod_models import PyODDetector

    if isinstance(detector, PyODDetector):
        return f"pyod:{detector.model_class.__name__}"
    params = detector.get_params()
    found = []
    for name in detectors.names():
        try:
            cls, preset = detectors.lookup(name)
        except ValueError:  # a plug-in that cannot be loaded is not this detector's class
            continue
        if cls is type(detector) and all(params.get(key) == value for key, value in preset.items()):
            found.append((len(preset), name))
    return max(found, key=lambda item: item[0])[1] if found else None


def _table(detector: BaseDetector, name: str) -> dict:
    """The parameters ``detector`` sets away from the defaults of registry name ``name``."""
    from advbench import detectors

    defaults = detectors.create(name).get_params()
    return {
        key: value
        for key, value in detector.get_params().items()
        if key not in RUN_SET_PARAMS and not _same(value, defaults[key])
    }


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def _prototype_name(detector, name: str | None) -> str:
    from advbench import detectors

    found = type(detector).__name__ if name is None else name
    if not isinstance(found, str) or not NAME.fullmatch(found):
        raise ValueError(f"name: expected a word of letters, digits and _ . + - ; got {found!r}")
    taken = {known.lower() for known in (*detectors.names(), *detectors.GROUPS)}
    if found.lower() in taken:
        raise ValueError(f"name: {found!r} is a built-in detector's or group's name; give the detector another name")
    return found


def spec(detector, name: str | None = None, flatten: bool | None = None) -> Spec:
    """The ``Spec`` of ``evaluate``'s ``detector`` (see the module docstring); TypeError or ValueError
    naming the argument."""
    from advbench import detectors

    if isinstance(detector, str):
        try:
            detectors.lookup(detector)
        except ValueError as exc:
            raise ValueError(f"detector: {exc}") from None
        _no_options(name, flatten, f"a name ({detector!r})")
        return Spec(detector)
    if isinstance(detector, BaseDetector):
        registered = _registry_name(detector)
        if registered is not None:
            _no_options(name, flatten, f"a built-in detector ({registered})")
            return Spec(registered, _table(detector, registered))
        if flatten is not None:
            raise ValueError("flatten: only for an estimator that is not an advbench detector")
        return Spec(_prototype_name(detector, name), prototype=detector)
    if not (callable(getattr(detector, "fit", None)) and callable(getattr(detector, "decision_function", None))):
        raise TypeError(
            f"detector: expected a detector name or an object with fit(X) and decision_function(X); got "
            f"{type(detector).__name__}"
        )
    from advbench.api.foreign import ForeignDetector, flatten_default, negate_default

    wrapped = ForeignDetector(
        detector,
        flatten=flatten_default(detector) if flatten is None else bool(flatten),
        negate=negate_default(detector),
    )
    return Spec(_prototype_name(detector, name), prototype=wrapped)


def _no_options(name, flatten, what: str) -> None:
    """ValueError when ``name`` or ``flatten`` is given for a detector the registry runs by name."""
    if name is not None:
        raise ValueError(f"name: {what} runs under its registry name; name is for other detectors")
    if flatten is not None:
        raise ValueError(f"flatten: {what} takes the images as the run gives them; flatten is for other estimators")
