"""Fixtures shared by several test files.

- ``plugin``: a tiny third-party package installed for one test (``plugin_package.install_plugin``), declaring
  plug-in detectors in the ``advbench.detectors`` entry-point group: ``mean-distance`` (a working
  detector), ``broken`` (not a detector) and ``ocsvm`` (shadowed by the
  built-in name). Used by ``test_plugins.py`` and ``test_detector_contract.py``. The package also holds
  ``DiesInFit``, a detector whose worker process exits abruptly (declared by ``test_run_folder.py``).
- ``one_thread``: one torch thread for a module of tiny-tensor attack tests (beside other jobs on few
  cores, a second thread only contends), restored after.
- ``mean_intensity``: the training-free ``mean-intensity`` detector registered for one test.

Helper modules beside this file (``run_fixtures``, ``synthetic_images``, ...) are importable from
every test folder (``pythonpath`` in ``pyproject.toml``).
"""

from __future__ import annotations

import pytest
import torch
from plugin_package import install_plugin

from advbench import detectors


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


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
