"""What a run reads its images from, one kind per benchmark, behind one interface (``RunSource``).

A source has a ``benchmark`` name and ``version`` (``datasets.versions``; for labelled images the
benchmark and its files' hash), a ``location``, a ``sha256`` (recorded in every result line and
compared by the folder guard), the file's contents ``bench`` (None for labelled images), the attack
sets it scores (``attacks``; none for labelled images), its ``classes`` (the normal classes it can
run), ``columns(protocol)`` (the anomaly sets of every pair), ``split(protocol, normal_class,
seed)`` (``datasets.splits.Split``) and ``describe()`` (what ``run.json`` records of the data and the
table captions name).

- ``AttackFile``: a benchmark file of ``advbench generate-attacks`` (one normal class, the
  file's, or ``all``; anomaly sets = its attacks, ``--attacks``), protocols ``official`` and
  ``heldout-train``. A file of any benchmark (GTSRB, MNIST, Fashion-MNIST) is read alike;
  ``describe()`` says which benchmark it holds, its normal class and its victim's test accuracy.
- ``LabelledImages``: MNIST or Fashion-MNIST from their IDX files; every class can be normal
  (``--classes``); protocols ``1`` and ``2`` (``datasets.oneclass``), anomaly set ``other-classes``.

The run's configuration says which it reads (``RunConfig.source_kind``: ``registry.ATTACK_FILE``
or ``LABELLED_IMAGES``); an ``AttackFile``'s benchmark is the file's own. ``open_source(kind,
benchmark, location)`` builds it, as the runner's worker processes do from a task's fields; they
keep the last one (``cached``) between pairs. A run of labelled images has one pair per normal
class (``keyed_by_class``, from the protocol a result line records).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Protocol

from advbench.datasets import allclasses, oneclass, protocols, registry
from advbench.errors import DataError

_CACHE: dict = {}


class RunSource(Protocol):
    """What the runner, the victim inputs and ``run.json`` read of a source."""

    benchmark: str
    location: str
    sha256: str
    bench: object | None  # datasets.benchmark_file.BenchmarkContents of a benchmark file, else None
    attacks: list[str]
    version: str  # the benchmark version (datasets.versions) that result lines record

    @property
    def classes(self) -> list: ...

    def columns(self, protocol: str) -> list[str]: ...

    def describe(self) -> dict: ...

    def split(self, protocol: str, normal_class: int, seed: int): ...


class AttackFile:
    """A benchmark file of ``generate-attacks``; ``attacks`` (the run's ``--attacks``) are the anomaly sets."""

    def __init__(self, path, attacks: list[str] | None = None, fit_attack: str | None = None):
        from advbench.datasets.benchmark_file import read_benchmark

        self.location = str(path)
        self.bench = read_benchmark(path)
        self.benchmark = registry.get(self.bench.benchmark, f"{self.location}: benchmark").name
        self.sha256 = self.bench.sha256
        self.attacks = list(self.bench.attacks) if attacks is None else list(attacks)
        self.version = self.bench.version
        self.fit_attack = fit_attack  # the training attack set of --protocol supervised

    def fitted_on(self, name: str) -> AttackFile:
        """This file with ``name`` (the run's ``--fit-attack``) as the training attack set of ``--protocol
        supervised``; AdvbenchError when the file has no such set."""
        protocols.fit_attack(self.bench, name, self.location)
        chosen = copy.copy(self)
        chosen.fit_attack = name
        return chosen

    def only(self, attacks: list[str]) -> AttackFile:
        """This file with ``attacks`` (the run's ``--attacks``, resolved) as its anomaly sets."""
        chosen = copy.copy(self)
        chosen.attacks = list(attacks)
        return chosen

    @property
    def classes(self) -> list[int | str]:
        value = self.bench.attrs.get("normal_class", 14)
        return [value if value == allclasses.ALL else int(value)]

    def columns(self, protocol: str) -> list[str]:
        return protocols.columns(protocol, self.attacks)

    def describe(self) -> dict:
        """The file's benchmark, normal class (with its name) and victim test accuracy."""
        entry = registry.get(self.benchmark)
        normal_class = self.classes[0]
        return {
            "benchmark": entry.name,
            "label": entry.label,
            "normal_class": normal_class,
            "class_name": None if normal_class == allclasses.ALL else entry.class_names[normal_class],
            "victim_test_accuracy": self.bench.attrs.get("victim_test_accuracy"),
            "version": self.version,
        }

    def split(self, protocol: str, normal_class: int, seed: int):
        return protocols.gtsrb_split(self.bench, protocol, seed, self.attacks, self.fit_attack)


class LabelledImages:
    """MNIST or Fashion-MNIST from the folder of its four IDX files."""

    def __init__(self, benchmark: str, root):
        self.benchmark = benchmark
        self.location = str(root)
        self.data = registry.get(benchmark).load(Path(root), Path(registry.DEFAULT_DATA_DIR), False)
        self.sha256 = self.data.sha256
        self.bench = None
        self.attacks: list[str] = []
        self.version = f"{benchmark}-{self.sha256[:8]}"  # the IDX files' hash: no attack settings to name

    @property
    def classes(self) -> list[int]:
        return self.data.classes

    def columns(self, protocol: str) -> list[str]:
        return [oneclass.OTHER_CLASSES]

    def describe(self) -> dict:
        entry = registry.get(self.benchmark)
        return {"benchmark": entry.name, "label": entry.label}

    def split(self, protocol: str, normal_class: int, seed: int):
        return oneclass.split(self.data, protocol, normal_class, seed)


def keyed_by_class(protocol: str) -> bool:
    """Whether the pairs of a run under ``protocol`` are keyed by normal class: the one-class protocols
    of labelled images, where every class is normal in turn (a benchmark file holds one normal class)."""
    return protocol in oneclass.PROTOCOLS


def open_source(
    kind: str, benchmark: str, location, attacks: list[str] | None = None, fit_attack: str | None = None
) -> RunSource:
    """The source that reads ``location``: a benchmark file (``kind`` ``registry.ATTACK_FILE``; its
    benchmark is its own; ``fit_attack`` its training attack set under ``--protocol supervised``) or
    the labelled images of ``benchmark``."""
    if kind == registry.ATTACK_FILE:
        return AttackFile(location, attacks, fit_attack)
    return LabelledImages(benchmark, Path(location))


def cached(
    kind: str, benchmark: str, location: str, sha256: str, attacks: list[str] | None = None, fit_attack=None
) -> RunSource:
    """``open_source``, kept between calls in one process; AdvbenchError when the data changed since the run began."""
    key = (kind, benchmark, location, sha256, tuple(attacks or ()), fit_attack)
    if _CACHE.get("key") != key:
        source = open_source(kind, benchmark, location, attacks, fit_attack)
        if source.sha256 != sha256:
            raise DataError(f"{location}: the data changed while the run was going on")
        _CACHE.update(key=key, source=source)
    return _CACHE["source"]
