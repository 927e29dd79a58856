"""``tiny_plugin``: a tiny third-party package declaring detectors in the ``advbench.detectors`` entry-point
group, written into a folder that a test puts on ``sys.path`` (spawned worker processes inherit it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

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


class MeanDistanceGrad(MeanDistance):
    """The same score, differentiable: the strongest attacks (``evaluate-adaptive``) can attack it."""

    description = "plug-in test detector: |mean(x) - mean(train)|, differentiable"
    differentiable = True

    def _score_tensor(self, x):
        return self.scale * (x.mean(dim=(1, 2, 3)) - self.centre_).abs()


class NotADetector:
    pass


class DiesInFit(MeanDistance):
    """Ends its process in ``_fit`` (``os._exit(1)``, as a worker killed by the OS), once the file named by
    $TINY_PLUGIN_DIE_AFTER holds a line (another pair is recorded), or at once when it is unset."""

    description = "plug-in test detector: its process dies in fit"

    def _fit(self, X):
        import os
        import time

        wait_for = os.environ.get("TINY_PLUGIN_DIE_AFTER")
        for _ in range(1200):  # at most a minute, then die anyway
            if not wait_for or (os.path.exists(wait_for) and open(wait_for).read().strip()):
                break
            time.sleep(0.05)
        os._exit(1)
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
