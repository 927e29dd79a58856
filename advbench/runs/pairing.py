"""``pairing.json``: which clean test image each adversarial image of a run folder's data file comes from.

The paired and matched AUCs compare each adversarial image with its own clean source; their
bootstrap intervals and tests (``reports.significance``) resample those pairs, so the report needs
each attack set's ``source_index`` (the row of every adversarial image among the attack's
sources). ``advbench run`` writes it into the folder from the benchmark file when a run starts, so
that the folder alone is enough for its tables, without the data file:

    {"data_sha256": "...", "source_index": {"fgsm": [0, 3, 4, ...], ...}}

A folder whose runs predate this file can be given one whose pairing was recovered some other way
(``recovered`` then says how); the report checks every pairing it uses against the paired and
matched AUCs stored in the results (``FolderStats.check``), so a wrong one stops the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from advbench.errors import DataError
from advbench.fileio import write_text_atomic

PAIRING = "pairing.json"


def write(out: Path, data_sha256: str, attacks: dict, recovered: str | None = None) -> Path:
    """Write ``out/pairing.json`` (atomically) for the attack sets ``attacks`` (name -> ``source_index``)."""
    info = {
        "data_sha256": data_sha256,
        "source_index": {name: [int(i) for i in index] for name, index in attacks.items()},
    }
    if recovered is not None:
        info["recovered"] = recovered
    path = Path(out) / PAIRING
    write_text_atomic(path, json.dumps(info, indent=1) + "\n")
    return path


def read(out: Path, data_sha256: str) -> dict[str, np.ndarray]:
    """``{attack: source_index}`` of ``out/pairing.json`` when it is there and belongs to the data file of
    sha256 ``data_sha256``; empty otherwise. DataError naming the file when it is damaged."""
    path = Path(out) / PAIRING
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if info["data_sha256"] != data_sha256:
            return {}
        return {name: np.asarray(index, dtype=np.int64) for name, index in info["source_index"].items()}
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: damaged pairing file ({type(exc).__name__}: {exc})") from None
