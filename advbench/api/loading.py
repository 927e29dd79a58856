"""``advbench.load(path)``: a benchmark file of ``advbench generate-attacks`` as Python objects.

The result is the file as ``datasets.benchmark_file`` reads it (``BenchmarkContents``: the normal training
and test images, the attack sets by name with their sources and distances, the file's attributes,
its sha256, the normal images' labels and rows, the stored victim's weights and attributes) plus
the file's ``path``, which ``advbench.evaluate`` accepts in its place, and ``victim_model()``, the
stored victim as a torch module (torch is imported only then).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from advbench.datasets.benchmark_file import BenchmarkContents, read_benchmark
from advbench.errors import DataError


@dataclass
class BenchmarkFile(BenchmarkContents):
    """A benchmark file's contents (``BenchmarkContents``) and where it was read from."""

    path: Path = Path()

    def victim_model(self, device: str = "cpu"):
        """The victim stored in the file, a torch module in eval mode on ``device``; DataError for a file
        without one (written before schema 4)."""
        from advbench.attacks.victim import load_file_victim

        return load_file_victim(self.path, device, flag="path")[0]


def load(path: str | os.PathLike) -> BenchmarkFile:
    """Read the benchmark file at ``path``; TypeError for a ``path`` that is not a path, DataError (one line,
    naming ``path``) for a missing, damaged or unsupported file."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path: expected the path of a benchmark file; got {type(path).__name__}")
    try:
        found = read_benchmark(path)
    except DataError as exc:
        raise DataError(f"path {exc}") from None
    return BenchmarkFile(**vars(found), path=Path(path))
