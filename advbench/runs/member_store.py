"""Each ensemble member's candidates kept on disk as the member ends, so that an interrupted
``evaluate-adaptive`` resumes member by member instead of cell by cell.

A member of the ensemble attacks 270 stop signs in minutes to a quarter of an hour of one core,
and a cell runs a dozen such members with its checks; a cell lost to a stopped process is hours.
``MemberStore`` keeps each member's ``strongest.Candidates`` (the 8-bit images, whether each
fools the victim, the detector's scores and the seconds the member took) in
``member-<key>.npz`` in its folder, beside the benchmark file as the fitted detectors are
(``adaptive.DetectorCache``): the images derive from the dataset, so they stay out of the report
folder.

The key is the SHA-256 of everything that decides the candidates: the benchmark file's SHA-256,
the package version, the fitted detector's file (which names its parameters, seed, training data
and victim), the images attacked (their indices among the normal test images), the member and the
ensemble's budget, norm, steps, random starts and seed. Files are written to a temporary name and
renamed; a file that does not load is attacked again.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from advbench import __version__
from advbench.attacks.strongest import Candidates, Ensemble
from advbench.fileio import atomic_path


@dataclass(frozen=True)
class MemberStore:
    """The folder of kept candidates and what identifies one evaluation's inputs (``data_sha256``)."""

    folder: Path
    data_sha256: str

    def keeper(self, detector_file: str, picked: np.ndarray) -> CellKeeper:
        """The store for one fitted detector (``detector_file``) attacking the images ``picked``."""
        return CellKeeper(self, detector_file, np.asarray(picked, dtype=np.int64))


@dataclass(frozen=True)
class CellKeeper:
    """``load`` and ``save`` of one member's candidates under an ``Ensemble`` (``strongest.Ensemble.run``)."""

    store: MemberStore
    detector_file: str
    picked: np.ndarray

    def path(self, member: str, ensemble: Ensemble) -> Path:
        settings = {key: value for key, value in asdict(ensemble).items() if key != "members"}
        words = {
            "data": self.store.data_sha256,
            "version": __version__,
            "detector": self.detector_file,
            "images": hashlib.sha256(self.picked.tobytes()).hexdigest(),
            "member": member,
            "ensemble": settings,
        }
        key = hashlib.sha256(json.dumps(words, sort_keys=True).encode()).hexdigest()[:20]
        return self.store.folder / f"member-{key}.npz"

    def load(self, member: str, ensemble: Ensemble) -> Candidates | None:
        """The kept candidates, or None when there are none (or the file does not load)."""
        path = self.path(member, ensemble)
        if not path.is_file():
            return None
        try:
            with np.load(path) as kept:
                found = Candidates(kept["images"], kept["fooled"], kept["scores"], float(kept["seconds"]))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None
        return found if len(found.fooled) == len(self.picked) else None

    def save(self, member: str, ensemble: Ensemble, found: Candidates) -> None:
        path = self.path(member, ensemble)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, images=found.images, fooled=found.fooled, scores=found.scores, seconds=found.seconds)
