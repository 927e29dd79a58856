"""The victims shipped with advbench: one default victim per benchmark, trained by ``generate-attacks``
with the benchmark's default victim settings and seed 0, stored in the package (``advbench/victims/``)
with an index (``victims.json``) that records each checkpoint's sha256, the content sha256 of the data
it was trained on, its cache key (``victim.cache_key``: data, settings, seed, checkpoint version), its
test accuracy and how it was trained.

``generate-attacks`` attacks the shipped victim when the victim it would train has the shipped one's
cache key, that is, the same data content, settings and seed (``find``); otherwise it trains one and
says why (``mismatch``). Results are then comparable across machines: every copy of the same data
attacks the same weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from advbench.errors import DataError
from advbench.fileio import sha256_file

#: The folder of the shipped victims and their index.
SHIPPED = Path(__file__).resolve().parents[1] / "victims"
INDEX = "victims.json"


@dataclass(frozen=True)
class ShippedVictim:
    """One entry of the index: the checkpoint ``file`` of ``benchmark`` and what it was trained on."""

    benchmark: str
    file: str
    sha256: str
    cache_key: str
    data_sha256: str
    seed: int
    test_accuracy: float
    weights_sha256: str
    trained: str

    @property
    def path(self) -> Path:
        return SHIPPED / self.file

    def checked_path(self) -> Path:
        """The checkpoint, after checking its sha256 against the index; DataError naming it otherwise."""
        if not self.path.is_file() or sha256_file(self.path) != self.sha256:
            raise DataError(f"{self.path}: the shipped {self.benchmark} victim is missing or damaged (sha256 differs)")
        return self.path


def index() -> dict[str, ShippedVictim]:
    """The shipped victims by benchmark name (none when the package holds no index)."""
    path = SHIPPED / INDEX
    if not path.is_file():
        return {}
    return {name: ShippedVictim(benchmark=name, **entry) for name, entry in json.loads(path.read_text()).items()}


def find(benchmark: str, key: str) -> ShippedVictim | None:
    """The shipped victim of ``benchmark`` when its cache key is ``key``, else None."""
    found = index().get(benchmark)
    return found if found is not None and found.cache_key == key else None


def mismatch(benchmark: str, data_sha256: str) -> str:
    """Why no shipped victim serves this data of ``benchmark`` (``find`` gave None), in words."""
    found = index().get(benchmark)
    if found is None:
        return f"advbench ships no {benchmark} victim"
    if found.data_sha256 != data_sha256:
        return (
            f"this copy's content sha256 {data_sha256[:12]} is not that of the data the shipped victim was trained "
            f"on ({found.data_sha256[:12]})"
        )
    return "the victim settings or the seed differ from the shipped victim's"
