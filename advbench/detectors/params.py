"""Where a detector's constructor parameters come from: the one resolver of ``advbench run`` (plan,
resume, every pair) and of the detector-aware attacks of ``generate-attacks``.

Each parameter takes its value from the first of these that sets it, in falling priority:

- ``run:seed``, ``run:device``, ``run:profile``: what the caller sets itself (``--seeds``, or the
  attacked detector's seed; ``--device``; ``--profile``), for a detector that has the parameter;
- ``config``: the run's ``[detectors.<name>]`` table (``--config``);
- ``benchmark:<name>``: the preprocessing defaults of the data's benchmark (``datasets.registry``);
- ``preset:<name>``: the registry name's preset (``deep-svdd-soft``, the ``ablation-*`` variants);
- ``default``: the class's own default.

A schedule parameter left at ``None`` is filled from the detector's training profile when it is
fitted (``profiles.resolve`` over the class's ``schedules``): its source reads ``profile:<name>``,
and its value stays ``None``, as the constructor holds it.

``resolve`` returns every constructor parameter (``get_params()`` of the detector built from them)
and its source. ``resolve_prototype`` does the same for a detector the registry does not build (an
object given to ``advbench.evaluate``): its own parameters (source ``object``; a value JSON cannot
hold recorded by its repr, or its class name), with the run's seed, device and profile where it
has those parameters. The benchmark is the data's own (``advbench run`` reads it from the benchmark
file), never a flag's default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from advbench.datasets import registry
from advbench.detectors import create, lookup

#: The run's own parameters and their source names.
RUN_SET = {"random_state": "run:seed", "device": "run:device", "profile": "run:profile"}
#: The source of a prototype's own parameters (``resolve_prototype``).
PROTOTYPE_SOURCE = "object"


@dataclass(frozen=True)
class ResolvedParams:
    """A detector's constructor parameters (``params``) and where each came from (``sources``)."""

    params: dict
    sources: dict[str, str]


def resolve(
    name: str,
    benchmark: str,
    *,
    seed: int,
    config: dict | None = None,
    device: str | None = None,
    profile: str | None = None,
) -> ResolvedParams:
    """The parameters of detector ``name`` on data of ``benchmark`` (see the module docstring);
    ``config``: its ``[detectors.<name>]`` table. Raises what the detector's constructor raises."""
    cls, preset = lookup(name)
    own = cls().get_params()
    run_set = {"random_state": seed, "device": device, "profile": profile}
    layers = [
        (f"preset:{name}", preset),
        (f"benchmark:{benchmark}", registry.get(benchmark).detector_params(name)),
        ("config", dict(config or {})),
        *((RUN_SET[key], {key: value}) for key, value in run_set.items() if key in own and value is not None),
    ]
    given: dict = {}
    sources = dict.fromkeys(own, "default")
    for source, values in layers:
        given |= values
        sources |= dict.fromkeys(values, source)
    detector = create(name, **given)
    params = detector.get_params()
    schedule = getattr(detector, "schedules", {}).get(params.get("profile"), {})
    for key in schedule:
        if params.get(key) is None:
            sources[key] = f"profile:{params['profile']}"
    return ResolvedParams(params, {key: sources.get(key, "default") for key in params})


def _recorded(value):
    """A prototype's parameter as its lines record it: the value where JSON holds it, else the repr of an
    estimator with ``get_params`` (its parameters), else its class's name."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        kind = type(value)
        return repr(value) if hasattr(value, "get_params") else f"{kind.__module__}.{kind.__qualname__}"


def resolve_prototype(prototype, *, seed: int, device: str | None = None, profile: str | None = None) -> ResolvedParams:
    """The parameters of ``prototype`` (an unfitted detector the registry does not build) and their
    sources: its own, and the run's seed, device and profile where it has those parameters."""
    own = {key: _recorded(value) for key, value in prototype.get_params().items()}
    run_set = {"random_state": seed, "device": device, "profile": profile}
    given = {key: value for key, value in run_set.items() if key in own}
    sources = {key: RUN_SET[key] if key in given else PROTOTYPE_SOURCE for key in own}
    return ResolvedParams(own | given, sources)
