"""The versions recorded with every artifact: benchmark files, result lines and ``run.json``."""

from __future__ import annotations

import platform
from importlib import metadata

#: The packages whose versions decide the numbers, in the order they are recorded.
PACKAGES = ("advbench", "torch", "numpy", "scikit-learn", "foolbox", "eagerpy", "torchattacks", "h5py")


def versions() -> dict[str, str | None]:
    """Python's version and each package's of ``PACKAGES``; None for a package that is not installed."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found
