"""Named benchmark versions.

A benchmark file's settings digest (``settings_sha256``) covers what decides its arrays: the
benchmark, the normal class, the content hash of the labelled images it was built from, the
victim's weights, the seed, the device, the sampling (``limit``, ``train_size``) and every attack
set's name, family and parameters; for a file with training attack sets (``--attack-train``) also
the rows of their sources and each training set's name, family and parameters. Timings, paths and
library versions are left out, so the same settings give the same digest on every machine
(``benchmarks/compare_files.py`` says whether two files' arrays are also byte-identical).

``version`` names a file: the name of a published configuration (``NAMED``: the default files of
the shipped victims, ``gtsrb-stop-v1`` and so on) when the digest is one of theirs, else
``<benchmark>-<class>-<first 8 digits of the digest>``. Files of any schema get a name: the
digest is computed from what the file stores.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

#: The published configurations: settings digest -> name (the default stop-sign file and the
#: every-class MNIST and Fashion-MNIST files, all attacking the shipped victims).
NAMED = {
    "519c6e1f659cf01b4980c19e0005e33454889c32b9d03c19f4c6694e9d7cf58d": "gtsrb-stop-v1",
    "e4367f664bbd003e0219c35f50d010712cbfc36cfb318d4c95dbfbe013dd1dc2": "mnist-all-v1",
    "96de8ad2d0d1aff15937e28e49ea1f43522887524d16e1625e835bc66272bf75": "fashion-mnist-all-v1",
}

#: The file attributes that decide the arrays, beside the victim's weights and the attacks.
_SETTINGS = ("benchmark", "normal_class", "seed", "device", "limit", "train_size")
#: The attribute that holds the content hash of the labelled images, per kind of data.
_CONTENT = ("gtsrb_content_sha256", "content_sha256")


def settings(contents) -> dict:
    """What the digest covers, from a ``BenchmarkContents``'s attributes, victim and attack sets."""
    attrs = contents.attrs
    training = contents.training
    victim = (contents.victim or {}).get("attrs", {}).get("sha256") or attrs.get("victim", {}).get("checkpoint_sha256")
    return {
        **{key: attrs.get(key) for key in _SETTINGS},
        "benchmark": contents.benchmark,
        "data": next((attrs[key] for key in _CONTENT if key in attrs), None),
        "victim": victim,
        "attacks": [
            [name, attack.attrs.get("family", name), attack.attrs.get("params")]  # no family: the name (as read)
            for name, attack in contents.attacks.items()
        ],
        **({} if training is None else {"training": _training_settings(training)}),
    }


def _training_settings(training) -> dict:
    """What decides a file's training attack sets: their sources' rows and each set's name, family, parameters."""
    index = np.asarray(training.index, dtype=np.int64)
    return {
        "sources": hashlib.sha256(np.ascontiguousarray(index).tobytes()).hexdigest(),
        "attacks": [
            [name, attack.attrs.get("family", name), attack.attrs.get("params")]
            for name, attack in training.sets.items()
        ],
    }


def settings_sha256(contents) -> str:
    """The settings digest of a ``BenchmarkContents`` (see the module docstring)."""
    text = json.dumps(settings(contents), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def record(contents) -> dict[str, str]:
    """``benchmark_version`` (its published name, else ``<benchmark>-<class>-<digest[:8]>``) and
    ``settings_sha256`` of a ``BenchmarkContents``, the digest computed once."""
    digest = settings_sha256(contents)
    name = NAMED.get(digest) or f"{contents.benchmark}-{contents.attrs.get('normal_class')}-{digest[:8]}"
    return {"benchmark_version": name, "settings_sha256": digest}


def version(contents) -> str:
    """The file's benchmark version (``record``)."""
    return record(contents)["benchmark_version"]
