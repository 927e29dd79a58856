"""The benchmark HDF5 file: clean stop signs, their adversarial variants and provenance.

Layout (schema version ``SCHEMA_VERSION``)::

    /                       attrs: file-level provenance (schema_version, normal_class, seed, ...)
    /normal/train           uint8 (N, 3, 32, 32)   clean training images of the normal class
    /normal/test            uint8 (M, 3, 32, 32)   clean test images of the normal class
    /attacks/<group>/images          uint8 (K, 3, 32, 32) adversarial images that fool the victim
    /attacks/<group>/source_index    int64 (K,)  row of ``/normal/test`` each image came from
    /attacks/<group>/predicted_label int64 (K,)  the victim's label for the stored image
    /attacks/<group>/l2, /linf       float64 (K,) distance to the clean image, pixels in [0, 1]
    /attacks/<group>                 attrs: family, parameters and counts (see below)

An attack set is named by its variant (``fgsm``, ``fgsm@eps=4/255``, see
``advbench.attacks.variants``); its group is that name percent-encoded (``/`` would nest groups),
and the root attribute ``attack_order`` lists the names.

Attribute values that are dicts or lists are stored as JSON strings; the root attribute
``json_keys`` (and each attack group's) lists which ones, so they round-trip as Python objects.
Files are written atomically (temporary name, then rename) and carry a ``complete`` flag that is
set last, so a file cut short is reported as damaged rather than read.

Counts of an attack: ``attempted`` (images attacked), ``nonfinite`` (NaN or infinite outputs,
dropped), ``fooled_before_rounding`` (outputs that fooled the victim as the attack returned them),
``succeeded`` and ``kept`` (outputs that fool it after rounding to 8 bits: the stored images).
Version 1 files counted ``succeeded`` before rounding for FGSM and BIM; they are read with that
count as ``fooled_before_rounding`` and ``succeeded`` = the stored images, as version 2 writes them.
Version 3 added variants (names with parameters, encoded group names, the ``family`` attribute);
older files are read with ``family`` = the name.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advbench.errors import DataError
from advbench.fileio import atomic_path, sha256_file

#: Bump when the layout or the meaning of a field changes; readers refuse versions not in ``READABLE``.
SCHEMA_VERSION = 3
READABLE = (1, 2, 3)


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
class Benchmark:
    """Clean normal-class images, the attack sets by variant name (family, then budget order), provenance."""

    normal_train: np.ndarray
    normal_test: np.ndarray
    attacks: dict[str, AttackSet]
    attrs: dict = field(default_factory=dict)
    sha256: str = ""


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


def _check_images(name: str, images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{name}: expected uint8 images of shape (N, 3, H, W), got {images.dtype} {images.shape}")
    return images


def write_benchmark(path: str | os.PathLike, benchmark: Benchmark) -> str:
    """Write ``benchmark`` to ``path`` atomically and return the file's sha256.

    ``benchmark.sha256`` is ignored (it describes a written file). Attack sets must have
    rows of equal length; images must be uint8.
    """
    import h5py

    attacks = {}
    for name, attack in benchmark.attacks.items():
        arrays = {key: np.asarray(getattr(attack, key), dtype=_ARRAY_DTYPES[key]) for key in _ATTACK_ARRAYS}
        if len(arrays["images"]):
            _check_images(f"attack {name}", arrays["images"])
        lengths = {key: len(value) for key, value in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"attack {name}: arrays of unequal length {lengths}")
        if not (np.isfinite(arrays["l2"]).all() and np.isfinite(arrays["linf"]).all()):
            raise ValueError(f"attack {name}: non-finite distances")
        attacks[name] = (arrays, attack.attrs)
    train = _check_images("normal_train", benchmark.normal_train)
    test = _check_images("normal_test", benchmark.normal_test)

    path = Path(path)
    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w", track_order=True) as handle:
            _write_attrs(handle, {**benchmark.attrs, "schema_version": SCHEMA_VERSION, "attack_order": list(attacks)})
            normal = handle.create_group("normal")
            normal.create_dataset("train", data=train, compression="gzip", compression_opts=4)
            normal.create_dataset("test", data=test, compression="gzip", compression_opts=4)
            group = handle.create_group("attacks", track_order=True)
            for name, (arrays, attrs) in attacks.items():
                sub = group.create_group(group_name(name))
                for key, value in arrays.items():
                    if key == "images" and value.size == 0:
                        value = value.reshape(0, *test.shape[1:])
                    sub.create_dataset(key, data=value, compression="gzip" if key == "images" else None)
                _write_attrs(sub, attrs)
            handle.attrs["complete"] = True
        return sha256_file(tmp)


def read_benchmark(path: str | os.PathLike) -> Benchmark:
    """Read a benchmark file; DataError naming the file when it is missing, damaged or of another schema."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such benchmark file (build it with `advbench generate-attacks`)")
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: not a readable HDF5 file (damaged or truncated?): {exc}") from None
    try:
        with handle:
            version = handle.attrs.get("schema_version")
            if version is None:
                raise DataError(f"{path}: not an advbench benchmark file (no schema_version attribute)")
            if int(version) not in READABLE:
                raise DataError(
                    f"{path}: schema version {int(version)} is not supported (this advbench reads versions "
                    f"{', '.join(map(str, READABLE))}); rebuild it with `advbench generate-attacks`"
                )
            if not handle.attrs.get("complete", False):
                raise DataError(f"{path}: incomplete benchmark file (the write was interrupted); rebuild it")
            attrs = _read_attrs(handle)
            attacks = {}
            for name in attrs.get("attack_order", []):
                group = handle["attacks"][group_name(name)]
                arrays = {key: group[key][()] for key in _ATTACK_ARRAYS}
                attrs_of = _upgraded(name, _read_attrs(group), int(version), len(arrays["images"]))
                attacks[name] = AttackSet(**arrays, attrs=attrs_of)
            train = handle["normal/train"][()]
            test = handle["normal/test"][()]
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise DataError(f"{path}: damaged benchmark file ({type(exc).__name__}: {exc})") from None
    attrs.pop("complete", None)
    return Benchmark(train, test, attacks, attrs, sha256_file(path))


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if len(values) else None


def attack_summary(attack: AttackSet) -> dict:
    """Counts, rates and median distances of one attack (``kept_rate`` = kept / attempted)."""
    attempted = int(attack.attrs.get("attempted", 0))
    return {
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
    """What ``advbench info FILE --json`` prints: image counts, victim accuracy, per-attack figures."""
    bench = read_benchmark(path)
    attrs = bench.attrs
    info = {
        "file": str(path),
        "sha256": bench.sha256,
        "normal_train": int(bench.normal_train.shape[0]),
        "normal_test": int(bench.normal_test.shape[0]),
        "attacks": {name: attack_summary(attack) for name, attack in bench.attacks.items()},
    }
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
