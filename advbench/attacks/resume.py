"""Resume an interrupted ``generate-attacks``: each finished attack's output waits beside the output
file until the file is written.

An attack's raw output (the adversarial images before the 8-bit rounding and re-check) is a
function of the victim's weights, the images and labels it attacks, its family and parameters, the
seed and the package versions; ``attack_key`` hashes them all. ``generate`` looks the key up in
``<out>.partial/`` before it runs an attack, stores the output there after, and removes the folder
once the benchmark file is written. A run stopped after some attacks (Ctrl-C, a lost machine)
therefore redoes only the attacks that had not finished when it is started again, and writes the
file a run without the stop writes. A stored output that cannot be read (a damaged file) is a
one-line error that names it and says to remove it; ``<out>.partial`` that is not a folder is
refused before any work (``check_partial``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from advbench.errors import AdvbenchError, DataError
from advbench.fileio import arrays_sha256, atomic_path
from advbench.provenance import versions

#: Bump when what a stored output means changes.
FORMAT = 1


def attack_key(
    weights_sha256: str, images: np.ndarray, labels: np.ndarray, family: str, params: dict, seed: int
) -> str:
    """The content key of one attack's output (hex, 16 characters): the victim's weights hash, the
    attacked images and their labels, the attack and the seed, and the package versions."""
    payload = [FORMAT, weights_sha256, arrays_sha256(images, labels), family, params, int(seed), versions()]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def partial_folder(out: Path) -> Path:
    """Where the finished attacks of a not yet written ``out`` wait: ``<out>.partial/``."""
    return out.with_name(f"{out.name}.partial")


def check_partial(out: Path) -> None:
    """AdvbenchError when ``<out>.partial`` exists and is not a folder (outputs could not be stored there)."""
    folder = partial_folder(out)
    if folder.exists() and not folder.is_dir():
        raise AdvbenchError(f"{folder}: is not a folder, so finished attacks cannot wait there; move it away")


def load(out: Path, key: str) -> tuple[np.ndarray, float] | None:
    """The stored output and attack seconds under ``key``, or None when there is none; DataError naming
    the file when it cannot be read."""
    path = partial_folder(out) / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path) as stored:
            return stored["adversarial"], float(stored["seconds"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"{path}: damaged output of an interrupted run ({type(exc).__name__}); remove this file to run its "
            f"attack again, or the folder {partial_folder(out)} to start over"
        ) from None


def store(out: Path, key: str, adversarial: np.ndarray, seconds: float) -> None:
    """Keep one attack's output under ``key`` (written atomically: a stop mid-write stores nothing)."""
    with atomic_path(partial_folder(out) / f"{key}.npz") as tmp, open(tmp, "wb") as handle:
        np.savez(handle, adversarial=adversarial, seconds=np.float64(seconds))


def clear(out: Path) -> None:
    """Remove the waiting outputs once ``out`` is written."""
    shutil.rmtree(partial_folder(out), ignore_errors=True)
