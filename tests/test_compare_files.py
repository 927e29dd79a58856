"""``benchmarks/compare_files.py``: two benchmark files are compared array by array."""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
from paths import benchmark_script


def _write(path: Path, images: np.ndarray, extra: bool = False) -> str:
    with h5py.File(path, "w") as handle:
        handle["attacks/fgsm/images"] = images
        handle.attrs["created"] = str(path)  # attributes differ between builds and are not compared
        if extra:
            handle["victim/state/w"] = np.ones(3)
    return str(path)


def test_identical_arrays_pass_and_one_changed_byte_fails(tmp_path, monkeypatch, capsys):
    compare = benchmark_script("compare_files")
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 2, 2)
    old = _write(tmp_path / "old.h5", images)
    same = _write(tmp_path / "same.h5", images, extra=True)
    changed = images.copy()
    changed[1, 2, 1, 1] += 1
    other = _write(tmp_path / "other.h5", changed)
    monkeypatch.setattr(sys, "argv", ["compare_files.py", old, same])
    assert compare.main() == 0
    assert "only in new: victim/state/w" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["compare_files.py", old, other])
    assert compare.main() == 1
    assert "DIFFERENT: attacks/fgsm/images (2, 3, 2, 2)" in capsys.readouterr().out
