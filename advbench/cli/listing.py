"""``advbench list``: the detectors, detector groups and attacks (or the PyOD models)."""

from __future__ import annotations

import argparse

from advbench.errors import AdvbenchError


def _pyod() -> int:
    from advbench.detectors import pyod_models

    try:
        models = pyod_models.available()
    except ValueError as exc:
        raise AdvbenchError(f"--pyod: {exc}") from None
    print("PyOD models (advbench run --detectors pyod:<name>):")
    for name, module in models.items():
        print(f"  pyod:{name:<22} {module}")
    return 0


def _handler(args: argparse.Namespace) -> int:
    from advbench import attacks, detectors

    if args.pyod:
        return _pyod()
    print("Detectors:")
    plugins = detectors.plugins()
    for name in detectors.names():
        try:
            text = detectors.describe(name)
        except ValueError as exc:  # a plug-in that does not load is listed with the reason
            text = str(exc)
        print(f"  {name:<22} {text}" + (f" (plug-in: {plugins[name].value})" if name in plugins else ""))
    for value in detectors.shadowed():
        print(f"  (ignored plug-in {value}: its name is a built-in detector's)")
    print("\nDetector groups:")
    for group, members in detectors.GROUPS.items():
        print(f"  {group:<22} {', '.join(members)}")
    print("\nAttacks:")
    for name, text in attacks.DESCRIPTIONS.items():
        print(f"  {name:<22} {text}")
    return 0


def register(sub) -> None:
    """Add the ``list`` sub-command."""
    lst = sub.add_parser("list", help="list detectors, detector groups and attacks")
    lst.add_argument("--pyod", action="store_true", help="list the PyOD models that run as pyod:<name> instead")
    lst.set_defaults(handler=_handler)
