"""The benchmark HDF5 file: clean normal images, their adversarial variants, the victim and provenance.

Layout (schema version ``SCHEMA_VERSION``; images ``C x H x W``: 3 x 32 x 32 on GTSRB, 1 x 28 x 28
on MNIST and Fashion-MNIST)::

    /                       attrs: file-level provenance (schema_version, benchmark, normal_class, seed, ...)
    /normal/train           uint8 (N, C, H, W)   clean training images of the normal class (or sample)
    /normal/test            uint8 (M, C, H, W)   clean test images of the normal class (or sample)
    /normal/train_labels, /normal/test_labels    int64 (N,), (M,) their classes
    /normal/train_index, /normal/test_index      int64 (N,), (M,) their rows in the benchmark's
                                                 official training and test splits
    /attacks/<group>/images          uint8 (K, C, H, W) adversarial images that fool the victim
    /attacks/<group>/source_index    int64 (K,)  row of ``/normal/test`` each image came from
    /attacks/<group>/predicted_label int64 (K,)  the victim's label for the stored image
    /attacks/<group>/l2, /linf       float64 (K,) distance to the clean image, pixels in [0, 1]
    /attacks/<group>                 attrs: family, parameters and counts (see below)
    /train_sources/images            uint8 (T, C, H, W) clean training images attacked for supervised
                                     detectors (``--attack-train``; optional), disjoint from /normal/train
    /train_sources/labels, /index    int64 (T,) their classes and rows in the official training split
    /train_attacks/<group>/...       an attack set as under /attacks, made from /train_sources
                                     (``source_index`` its rows); root attribute ``train_attack_order``
    /victim/state/<name>             the victim's weights and buffers by ``state_dict`` name
    /victim                          attrs: architecture, training settings and history, input
                                     normalization, test accuracy, sha256 of the state
                                     (``attacks.victim.victim_record``)

``normal_class`` is a class id, or ``all`` (``datasets.allclasses``): then ``/normal/train`` is a
class-stratified sample of the whole training split and ``/normal/test`` the sample of correctly
classified test images that the attacks start from.

An attack set is named by its variant (``fgsm``, ``fgsm@eps=4/255``, see
``advbench.attacks.variants``); its group is that name percent-encoded (``/`` would nest groups),
and the root attribute ``attack_order`` lists the names.

The training attack sets (optional: a file built with ``generate-attacks --attack-train N``) are
what ``advbench run --protocol supervised --fit-attack NAME`` fits supervised detectors on; the
test attack sets under ``/attacks`` are never fitted on. A reader of a file without them gets
``training`` None.

Attribute values that are dicts or lists are stored as JSON strings; the root attribute
``json_keys`` (and each attack group's) lists which ones, so they round-trip as Python objects.
Files are written atomically (temporary name, then rename) and carry a ``complete`` flag that is
set last, so a file cut short is reported as damaged rather than read.

Counts of an attack: ``attempted`` (images attacked), ``nonfinite`` (NaN or infinite outputs,
dropped), ``fooled_before_rounding`` (outputs that fooled the victim as the attack returned them),
``succeeded`` and ``kept`` (outputs that fool it after rounding to 8 bits: the stored images).
Older schemas are read as the current one: version 1 files count ``succeeded`` before rounding for
FGSM and BIM, read as ``fooled_before_rounding`` with ``succeeded`` = the stored images (as from
version 2 on). Files before version 3 have no variants (names with parameters, encoded group names,
the ``family`` attribute) and are read with ``family`` = the name. Files before version 4 have no
``benchmark`` attribute (they are GTSRB's), no victim and no labels or rows of the normal images
(read as: the normal class as every label, the test rows from the ``normal_test_gtsrb_index``
attribute, no training rows, no victim).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advbench.datasets import versions
from advbench.errors import DataError
from advbench.fileio import atomic_path, sha256_file

#: Bump when the layout or the meaning of a field changes; readers refuse versions not in ``READABLE``.
SCHEMA_VERSION = 4
READABLE = (1, 2, 3, 4)
#: The optional arrays of ``/normal`` (schema 4): labels and rows in the official splits.
_NORMAL_ARRAYS = ("train_labels", "test_labels", "train_index", "test_index")


@dataclass
class AttackSet:
    """The kept adversarial images of one attack, aligned row by row with their metadata."""

    images: np.ndarray
    source_index: np.ndarray
    predicted_label: np.ndarray
    l2: np.ndarray
    linf: np.ndarray
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass
class TrainingAttacks:
    """The training attack sets of a file (``--attack-train``): the clean training images attacked
    (``sources``, with ``labels`` and ``index``, their rows in the official training split) and
    the attack sets made from them by name (``source_index``: rows of ``sources``)."""

    sources: np.ndarray
    labels: np.ndarray
    index: np.ndarray
    sets: dict[str, AttackSet] = field(default_factory=dict)


@dataclass
class BenchmarkContents:
    """Clean normal images, the attack sets by variant name (family, then budget order), provenance;
    the normal images' labels and rows (None where a file from before schema 4 lacks them) and the
    victim (``{"arrays": {name: array}, "attrs": {...}}``, ``attacks.victim.victim_record``; None
    in older files)."""

    normal_train: np.ndarray
    normal_test: np.ndarray
    attacks: dict[str, AttackSet]
    attrs: dict = field(default_factory=dict)
    sha256: str = ""
    train_labels: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    train_index: np.ndarray | None = None
    test_index: np.ndarray | None = None
    victim: dict | None = None
    training: TrainingAttacks | None = None

    @property
    def benchmark(self) -> str:
        """The benchmark the file was built from (files before schema 4 are GTSRB's)."""
        return str(self.attrs.get("benchmark", "gtsrb"))

    @property
    def version(self) -> str:
        """The benchmark version (``datasets.versions``: ``gtsrb-stop-v1``, or a name made of the settings digest)."""
        return versions.version(self)


_ATTACK_ARRAYS = ("images", "source_index", "predicted_label", "l2", "linf")
_ARRAY_DTYPES = {
    "images": np.uint8,
    "source_index": np.int64,
    "predicted_label": np.int64,
    "l2": np.float64,
    "linf": np.float64,
}


def _write_attrs(obj, attrs: dict) -> None:
    json_keys = []
    for key, value in attrs.items():
        if isinstance(value, (dict, list, tuple)):
            obj.attrs[key] = json.dumps(value, sort_keys=True)
            json_keys.append(key)
        elif value is None:
            obj.attrs[key] = "null"
            json_keys.append(key)
        else:
            obj.attrs[key] = value
    obj.attrs["json_keys"] = json.dumps(sorted(json_keys))


def _read_attrs(obj) -> dict:
    json_keys = set(json.loads(obj.attrs.get("json_keys", "[]")))
    out = {}
    for key, value in obj.attrs.items():
        if key == "json_keys":
            continue
        if isinstance(value, bytes):
            value = value.decode()
        if key in json_keys:
            value = json.loads(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def group_name(name: str) -> str:
    """The HDF5 group of an attack set: its name percent-encoded (plain names stay as they are)."""
    from urllib.parse import quote

    return quote(name, safe="@=,.+-_")


def _upgraded(name: str, attrs: dict, version: int, kept: int) -> dict:
    """An attack's attributes with the counts and fields of the current version (see the module docstring)."""
    if version == 1 and "succeeded" in attrs:
        attrs = {**attrs, "fooled_before_rounding": attrs["succeeded"], "succeeded": kept}
    return {"family": name, **attrs}


def _check_images(name: str, images: np.ndarray, shape: tuple | None = None) -> np.ndarray:
    """``images`` when uint8 ``(N, C, H, W)`` (of ``C x H x W`` = ``shape`` when given); ValueError otherwise."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or (shape is not None and images.shape[1:] != tuple(shape)):
        expected = f"(N, {', '.join(map(str, shape))})" if shape is not None else "(N, C, H, W)"
        raise ValueError(f"{name}: expected uint8 images of shape {expected}, got {images.dtype} {images.shape}")
    return images


def _checked_sets(sets: dict[str, AttackSet], shape: tuple, what: str) -> dict[str, tuple[dict, dict]]:
    """Each attack set's arrays in their stored dtypes and its attributes; ValueError for images of
    another shape, arrays of unequal length or non-finite distances."""
    found = {}
    for name, attack in sets.items():
        arrays = {key: np.asarray(getattr(attack, key), dtype=_ARRAY_DTYPES[key]) for key in _ATTACK_ARRAYS}
        if len(arrays["images"]):
            _check_images(f"{what} {name}", arrays["images"], shape)
        lengths = {key: len(value) for key, value in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"{what} {name}: arrays of unequal length {lengths}")
        if not (np.isfinite(arrays["l2"]).all() and np.isfinite(arrays["linf"]).all()):
            raise ValueError(f"{what} {name}: non-finite distances")
        found[name] = (arrays, attack.attrs)
    return found


def _write_sets(handle, where: str, sets: dict[str, tuple[dict, dict]], shape: tuple) -> None:
    group = handle.create_group(where, track_order=True)
    for name, (arrays, attrs) in sets.items():
        sub = group.create_group(group_name(name))
        for key, value in arrays.items():
            if key == "images" and value.size == 0:
                value = value.reshape(0, *shape)
            sub.create_dataset(key, data=value, compression="gzip" if key == "images" else None)
        _write_attrs(sub, attrs)


def write_benchmark(path: str | os.PathLike, benchmark: BenchmarkContents) -> str:
    """Write ``benchmark`` to ``path`` atomically and return the file's sha256.

    ``benchmark.sha256`` is ignored (it describes a written file). Attack sets must have
    rows of equal length; images must be uint8, of one shape.
    """
    import h5py

    test = _check_images("normal_test", benchmark.normal_test)
    train = _check_images("normal_train", benchmark.normal_train, test.shape[1:])
    attacks = _checked_sets(benchmark.attacks, test.shape[1:], "attack")
    training = benchmark.training
    if training is not None:
        _check_images("train_sources", training.sources, test.shape[1:])
        if not len(training.sources) == len(training.labels) == len(training.index):
            raise ValueError("train_sources: images, labels and index of unequal length")
        train_sets = _checked_sets(training.sets, test.shape[1:], "training attack")
    extra = {key: getattr(benchmark, key) for key in _NORMAL_ARRAYS if getattr(benchmark, key) is not None}
    for key, value in extra.items():
        if len(value) != len(train if key.startswith("train") else test):
            raise ValueError(
                f"normal {key}: {len(value)} rows for the images' {len(train if key.startswith('train') else test)}"
            )

    path = Path(path)
    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w", track_order=True) as handle:
            named = versions.record(benchmark)
            order = {"attack_order": list(attacks)}
            if training is not None:
                order["train_attack_order"] = list(train_sets)
            _write_attrs(handle, {**benchmark.attrs, **named, "schema_version": SCHEMA_VERSION, **order})
            normal = handle.create_group("normal")
            normal.create_dataset("train", data=train, compression="gzip", compression_opts=4)
            normal.create_dataset("test", data=test, compression="gzip", compression_opts=4)
            for key, value in extra.items():
                normal.create_dataset(key, data=np.asarray(value, dtype=np.int64))
            _write_sets(handle, "attacks", attacks, test.shape[1:])
            if training is not None:
                sources = handle.create_group("train_sources")
                sources.create_dataset("images", data=training.sources, compression="gzip", compression_opts=4)
                sources.create_dataset("labels", data=np.asarray(training.labels, dtype=np.int64))
                sources.create_dataset("index", data=np.asarray(training.index, dtype=np.int64))
                _write_sets(handle, "train_attacks", train_sets, test.shape[1:])
            if benchmark.victim is not None:
                victim = handle.create_group("victim")
                state = victim.create_group("state", track_order=True)
                for key, value in benchmark.victim["arrays"].items():
                    state.create_dataset(key, data=value)
                _write_attrs(victim, benchmark.victim["attrs"])
            handle.attrs["complete"] = True
        return sha256_file(tmp)


@contextlib.contextmanager
def _open_checked(path: Path, flag: str = "") -> Iterator:
    """The open HDF5 file at ``path`` and its schema version, once it is a complete benchmark file of a
    readable schema; DataError naming ``flag`` (when given) and the file otherwise, also for what
    the block raises on a damaged file."""
    import h5py

    where = f"{flag} {path}" if flag else str(path)
    if not path.is_file():
        raise DataError(f"{where}: no such benchmark file (build it with `advbench generate-attacks`)")
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{where}: not a readable HDF5 file (damaged or truncated?): {exc}") from None
    try:
        with handle:
            version = handle.attrs.get("schema_version")
            if version is None:
                raise DataError(f"{where}: not an advbench benchmark file (no schema_version attribute)")
            if int(version) not in READABLE:
                raise DataError(
                    f"{where}: schema version {int(version)} is not supported (this advbench reads versions "
                    f"{', '.join(map(str, READABLE))}); rebuild it with `advbench generate-attacks`"
                )
            if not handle.attrs.get("complete", False):
                raise DataError(f"{where}: incomplete benchmark file (the write was interrupted); rebuild it")
            yield handle, int(version)
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise DataError(f"{where}: damaged benchmark file ({type(exc).__name__}: {exc})") from None


def _victim_of(handle) -> dict | None:
    """The ``/victim`` group as ``{"arrays", "attrs"}``, None when the file has none."""
    if "victim" not in handle:
        return None
    group = handle["victim"]
    return {"arrays": {key: group["state"][key][()] for key in group["state"]}, "attrs": _read_attrs(group)}


def _normal_arrays(handle, attrs: dict, version: int, n_train: int, n_test: int) -> dict:
    """Labels and rows of the normal images; for files before schema 4 what their attributes say."""
    if version >= 4:
        return {key: handle["normal"][key][()] if key in handle["normal"] else None for key in _NORMAL_ARRAYS}
    normal_class = int(attrs.get("normal_class", 14))
    test_index = attrs.get("normal_test_gtsrb_index")
    return {
        "train_labels": np.full(n_train, normal_class, dtype=np.int64),
        "test_labels": np.full(n_test, normal_class, dtype=np.int64),
        "train_index": None,
        "test_index": None if test_index is None else np.asarray(test_index, dtype=np.int64),
    }


def _read_sets(handle, where: str, names: list[str], version: int) -> dict[str, AttackSet]:
    sets = {}
    for name in names:
        group = handle[where][group_name(name)]
        arrays = {key: group[key][()] for key in _ATTACK_ARRAYS}
        sets[name] = AttackSet(**arrays, attrs=_upgraded(name, _read_attrs(group), version, len(arrays["images"])))
    return sets


def _training_of(handle, attrs: dict, version: int) -> TrainingAttacks | None:
    """The training attack sets and their sources, None for a file built without ``--attack-train``."""
    if "train_sources" not in handle:
        return None
    sources = handle["train_sources"]
    sets = _read_sets(handle, "train_attacks", attrs.get("train_attack_order", []), version)
    return TrainingAttacks(sources["images"][()], sources["labels"][()], sources["index"][()], sets)


def read_benchmark(path: str | os.PathLike) -> BenchmarkContents:
    """Read a benchmark file; DataError naming the file when it is missing, damaged or of another schema."""
    path = Path(path)
    with _open_checked(path) as (handle, version):
        attrs = _read_attrs(handle)
        attacks = _read_sets(handle, "attacks", attrs.get("attack_order", []), version)
        train = handle["normal/train"][()]
        test = handle["normal/test"][()]
        normal = _normal_arrays(handle, attrs, version, len(train), len(test))
        victim = _victim_of(handle)
        training = _training_of(handle, attrs, version)
    attrs.pop("complete", None)
    return BenchmarkContents(train, test, attacks, attrs, sha256_file(path), **normal, victim=victim, training=training)


def is_benchmark_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an HDF5 file with the ``schema_version`` attribute of advbench benchmark
    files (complete or not: a file an interrupted write left is one too)."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return "schema_version" in handle.attrs
    except OSError:
        return False


def file_benchmark(path: str | os.PathLike, flag: str = "") -> str:
    """The benchmark a file was built from (its ``benchmark`` attribute; GTSRB before schema 4), read
    without its images; DataError naming ``flag`` and the file when it is not a readable benchmark file."""
    with _open_checked(Path(path), flag) as (handle, _):
        return str(_read_attrs(handle).get("benchmark", "gtsrb"))


def read_victim(path: str | os.PathLike, flag: str = "--victim-from") -> tuple[dict, dict]:
    """The victim of a benchmark file without its images: its arrays by name, and its attributes with
    the file's ``benchmark`` and ``image_shape`` (``C x H x W``) added. DataError naming ``flag`` and
    the file when the file is not a readable benchmark file or holds no victim (files before schema 4)."""
    path = Path(path)
    with _open_checked(path, flag) as (handle, version):
        victim = _victim_of(handle)
        if victim is None:
            raise DataError(
                f"{flag} {path}: holds no victim (schema version {version}; files carry theirs from schema 4 on, "
                "rebuild it or pass the checkpoint with --victim)"
            )
        benchmark = str(_read_attrs(handle).get("benchmark", "gtsrb"))
        shape = [int(n) for n in handle["normal/test"].shape[1:]]
    return victim["arrays"], {**victim["attrs"], "benchmark": benchmark, "image_shape": shape}


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if len(values) else None


def attack_summary(attack: AttackSet) -> dict:
    """Counts, rates and median distances of one attack (``kept_rate`` = kept / attempted); for a
    detector-aware set also its ``adaptive`` record (detector, objective, the lambda chosen per image)."""
    attempted = int(attack.attrs.get("attempted", 0))
    adaptive = {"adaptive": attack.attrs["adaptive"]} if "adaptive" in attack.attrs else {}
    return adaptive | {
        "family": attack.attrs.get("family"),
        "count": len(attack),
        "attempted": attempted,
        "fooled_before_rounding": attack.attrs.get("fooled_before_rounding"),
        "succeeded": int(attack.attrs.get("succeeded", len(attack))),
        "nonfinite": int(attack.attrs.get("nonfinite", 0)),
        "kept_rate": len(attack) / attempted if attempted else None,
        "median_l2": _median(attack.l2),
        "median_linf": _median(attack.linf),
        "params": attack.attrs.get("params", {}),
        "seconds": attack.attrs.get("seconds"),
    }


def summary(path: str | os.PathLike) -> dict:
    """What ``advbench info FILE --json`` prints: benchmark, image counts, victim accuracy and sha256,
    per-attack figures."""
    bench = read_benchmark(path)
    attrs = bench.attrs
    info = {
        "file": str(path),
        "sha256": bench.sha256,
        "benchmark": bench.benchmark,
        **versions.record(bench),
        "image_shape": list(bench.normal_test.shape[1:]),
        "normal_train": int(bench.normal_train.shape[0]),
        "normal_test": int(bench.normal_test.shape[0]),
        "attacks": {name: attack_summary(attack) for name, attack in bench.attacks.items()},
    }
    if bench.training is not None:
        info["train_sources"] = len(bench.training.sources)
        info["train_attacks"] = {name: attack_summary(attack) for name, attack in bench.training.sets.items()}
    if bench.victim is not None:
        info["victim_sha256"] = bench.victim["attrs"].get("sha256")
    for key in (
        "schema_version",
        "normal_class",
        "seed",
        "device",
        "created",
        "victim_test_accuracy",
        "advbench_version",
    ):
        if key in attrs:
            info[key] = attrs[key]
    return info
