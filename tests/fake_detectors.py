"""Tiny detectors for the runner tests: one with ``device`` and ``profile`` parameters (what the
runner passes on), one that scores the mean pixel value (AUCs known in advance), the same with a
score variant (minus the mean pixel value), one whose scores are not all finite and one whose
training is interrupted (Ctrl-C), each with its registry entry.

Register one for a test with ``monkeypatch.setitem(detectors._REGISTRY, "profiled", REGISTRY_ENTRY)``
(runs with ``--jobs 1`` only: worker processes import the registry afresh).
"""

from __future__ import annotations

import numpy as np

from advbench.detectors.base import BaseDetector
from advbench.detectors.checks import check_choice
from advbench.detectors.profiles import PROFILES
from advbench.detectors.registry import DetectorEntry

REGISTRY_ENTRY = DetectorEntry("profiled", "fake_detectors", "ProfiledDetector")


class ProfiledDetector(BaseDetector):
    """Distance to the training mean image; records the device and profile it was given."""

    description = "test detector: distance to the mean image"

    def __init__(self, profile: str = "default", device: str = "cpu", random_state=None):
        self.profile = profile
        self.device = device
        self.random_state = random_state

    def _check_params(self):
        check_choice("profile", self.profile, PROFILES)

    def _fit(self, X):
        self.device_ = self.device
        self.mean_ = X.mean(axis=0)

    def _score(self, X):
        return np.sqrt(((X - self.mean_) ** 2).sum(axis=(1, 2, 3)))


class MeanIntensityDetector(BaseDetector):
    """The mean pixel value of an image as its anomaly score: brighter is more anomalous."""

    description = "test detector: mean pixel value"

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit(self, X):
        pass

    def _score(self, X):
        return X.mean(axis=(1, 2, 3))


MEAN_INTENSITY = DetectorEntry("mean-intensity", "fake_detectors", "MeanIntensityDetector")


class NonFiniteDetector(MeanIntensityDetector):
    """The mean pixel value, except that the last image of every set scores ``value`` (NaN by default)."""

    description = "test detector: mean pixel value, the last image non-finite"

    def __init__(self, value: float = float("nan"), random_state=None):
        self.value = value
        self.random_state = random_state

    def _score(self, X):
        scores = X.mean(axis=(1, 2, 3)).astype(np.float64)
        scores[-1] = self.value
        return scores


class InterruptedDetector(MeanIntensityDetector):
    """Training stops with KeyboardInterrupt, as when the user presses Ctrl-C."""

    description = "test detector: Ctrl-C during training"

    def _fit(self, X):
        raise KeyboardInterrupt


NON_FINITE = DetectorEntry("non-finite", "fake_detectors", "NonFiniteDetector")
INTERRUPTED = DetectorEntry("interrupted", "fake_detectors", "InterruptedDetector")


class MeanIntensityVariantsDetector(MeanIntensityDetector):
    """``MeanIntensityDetector`` with a second score variant from the same fit: ``darker``, minus the
    mean pixel value (darker is more anomalous), so its AUC is one minus the default's."""

    description = "test detector: mean pixel value, and minus it as a score variant"

    def _variant_names(self):
        return ("paper", "darker")

    def _score_variants(self, X):
        mean = self._score(X)
        return {"paper": mean, "darker": -mean}


MEAN_INTENSITY_VARIANTS = DetectorEntry("mean-intensity", "fake_detectors", "MeanIntensityVariantsDetector")
