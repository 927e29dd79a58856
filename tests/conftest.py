"""Fixtures shared by several test files.

- ``plugin``: a tiny third-party package installed for one test (``install_plugin``), declaring
  plug-in detectors in the ``advbench.detectors`` entry-point group: ``mean-distance`` (a working
  detector), ``broken`` (not a detector) and ``ocsvm`` (shadowed by the
  built-in name). Used by ``test_plugins.py`` and ``test_detector_contract.py``.
- ``mean_intensity``: the training-free ``mean-intensity`` detector registered for one test.

Helper modules beside this file (``run_fixtures``, ``synthetic_images``, ...) are importable from
every test folder (``pythonpath`` in ``pyproject.toml``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from advbench import detectors

PLUGIN = '''
"""A tiny plug-in detector: distance of an image's mean to the training images' mean."""
import numpy as np
from advbench.detectors import BaseDetector


class MeanDistance(BaseDetector):
    description = "plug-in test detector: |mean(x) - mean(train)|"

    def __init__(self, scale: float = 1.0, random_state=None):
        self.scale = scale
        self.random_state = random_state

    def _check_params(self):
        if self.scale <= 0:
            raise ValueError(f"scale must be > 0; got {self.scale!r}")

    def _fit(self, X):
        self.centre_ = float(X.mean())

    def _score(self, X):
        return self.scale * np.abs(X.mean(axis=(1, 2, 3)) - self.centre_)


class NotADetector:
    pass
'''


def install_plugin(folder: Path, entries: dict[str, str]) -> Path:
    """A package ``tiny_plugin`` with a dist-info declaring ``entries`` (name -> "module:attr") in the group."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = folder / "tiny_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-plugin\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[{detectors.ENTRY_POINT_GROUP}]\n{lines}")
    return folder


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    entries = {
        "mean-distance": "tiny_plugin:MeanDistance",
        "broken": "tiny_plugin:NotADetector",
        "ocsvm": "tiny_plugin:MeanDistance",
    }
    monkeypatch.syspath_prepend(str(install_plugin(tmp_path / "site", entries)))
    return entries


@pytest.fixture
def mean_intensity(monkeypatch):
    """``mean-intensity`` (``fake_detectors.MEAN_INTENSITY``) registered as a built-in detector for one test."""
    from fake_detectors import MEAN_INTENSITY

    monkeypatch.setitem(detectors._REGISTRY, "mean-intensity", MEAN_INTENSITY)
