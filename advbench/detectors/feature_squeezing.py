"""Feature Squeezing (Xu, Evans and Qi, "Feature Squeezing: Detecting Adversarial Examples in Deep
Neural Networks", NDSS 2018).

Score: ``max_s || softmax(f(x)) - softmax(f(s(x))) ||_1`` over the squeezers ``s``, with ``f`` the
victim's logits (the paper's joint detector, before its threshold). Squeezers,
named as in ``squeezers``:

- ``bit-depth-B``: ``round(x * (2^B - 1)) / (2^B - 1)`` (colour-depth reduction, rounding as the
  paper's code does, ``np.rint``);
- ``median-KxL``: the median of each ``K x L`` window of each channel, reflected at the border
  (local smoothing; the paper's code calls ``scipy.ndimage.median_filter`` with ``mode='reflect'``,
  as here);
- ``non-local-means-S-P-H``: OpenCV's non-local means with search window ``S``, patch ``P`` and
  filter strength ``H`` on the 8-bit image (``cv2.fastNlMeansDenoisingColored(img, None, H, H, P, S)``
  as the paper's code calls it; ``fastNlMeansDenoising`` for one channel).

The default (``squeezers=None``) depends on the kind of input. Colour (CIFAR-10's 32 x 32, and
here GTSRB's): ``bit-depth-5``, ``median-2x2``, ``non-local-means-13-3-2``, the paper's CIFAR-10
joint detector. One channel: ``bit-depth-1``, ``median-2x2``, ``median-3x3``. This is not the
paper's MNIST joint detector, which is ``bit-depth-1`` and ``median-2x2`` only (the authors'
``mzweilin/EvadeML-Zoo`` ``Reproduce_FeatureSqueezing.md``; Aldahdooh et al.'s review,
``detect_fs.py``, the same); there the 3 x 3 median appears only among the robustness runs. Ours
adds it. The paper's threshold (5 % false positives on clean validation images) is not needed for
an AUC. Nothing is fitted; the score does not depend on the seed.

Ours: ``score_tensor`` for detector-aware attacks. The squeezers are not differentiable (rounding,
a median, OpenCV), so it passes the gradient straight through each of them (``s(x)`` computed
exactly, its Jacobian taken as the identity: BPDA, Athalye, Carlini and Wagner, ICML 2018); the
scores equal ``decision_function``'s, the gradient is that of the approximation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import torch

from advbench.detectors.checks import check_list
from advbench.detectors.victim_detector import VictimDetector

#: The default squeezers by number of channels: the paper's CIFAR-10 joint detector for colour images;
#: for grey images the paper's MNIST pair plus a 3x3 median (module docstring).
DEFAULT_SQUEEZERS = {
    1: ("bit-depth-1", "median-2x2", "median-3x3"),
    3: ("bit-depth-5", "median-2x2", "non-local-means-13-3-2"),
}
_BIT_DEPTH = re.compile(r"bit-depth-([1-8])")
_MEDIAN = re.compile(r"median-([1-9][0-9]*)x([1-9][0-9]*)")
_NLM = re.compile(r"non-local-means-([1-9][0-9]*)-([1-9][0-9]*)-([0-9]+(?:\.[0-9]+)?)")
_FORMS = "bit-depth-B (B in 1..8), median-KxL, non-local-means-S-P-H (S and P odd, H > 0)"


def bit_depth(X: np.ndarray, bits: int) -> np.ndarray:
    """``X`` (floats in [0, 1]) rounded to ``bits`` bits per value."""
    levels = 2**bits - 1
    return (np.rint(X * levels) / levels).astype(np.float32)


def median(X: np.ndarray, height: int, width: int) -> np.ndarray:
    """The ``height x width`` median filter of each channel of ``X`` (``N x C x H x W``), reflected at the border."""
    from scipy.ndimage import median_filter

    return median_filter(X, size=(1, 1, height, width), mode="reflect")


def non_local_means(X: np.ndarray, search: int, patch: int, strength: float) -> np.ndarray:
    """OpenCV's non-local means of each 8-bit image of ``X`` (``N x C x H x W`` floats in [0, 1], C 1 or 3)."""
    import cv2

    out = np.empty_like(X, dtype=np.float32)
    for i, image in enumerate(np.clip(np.rint(X * 255), 0, 255).astype(np.uint8)):
        if image.shape[0] == 1:
            found = cv2.fastNlMeansDenoising(image[0], None, strength, patch, search)[None]
        else:
            hwc = np.ascontiguousarray(image.transpose(1, 2, 0))
            found = cv2.fastNlMeansDenoisingColored(hwc, None, strength, strength, patch, search).transpose(2, 0, 1)
        out[i] = found.astype(np.float32) / 255.0
    return out


def squeezer(spec: str) -> Callable[[np.ndarray], np.ndarray]:
    """The squeezer a name stands for (module docstring); ValueError naming ``squeezers`` otherwise."""
    name = spec if isinstance(spec, str) else ""
    if match := _BIT_DEPTH.fullmatch(name):
        return lambda X: bit_depth(X, int(match[1]))
    if match := _MEDIAN.fullmatch(name):
        return lambda X: median(X, int(match[1]), int(match[2]))
    match = _NLM.fullmatch(name)
    if match and int(match[1]) % 2 and int(match[2]) % 2 and float(match[3]) > 0:
        return lambda X: non_local_means(X, int(match[1]), int(match[2]), float(match[3]))
    raise ValueError(f"squeezers: {spec!r} is not a squeezer; expected {_FORMS}")


def _squeeze_straight_through(squeeze, x: torch.Tensor) -> torch.Tensor:
    """``squeeze(x)`` exactly, with the gradient of the identity (BPDA)."""
    squeezed = torch.from_numpy(squeeze(x.detach().cpu().numpy())).to(x.device, x.dtype)
    return x + (squeezed - x).detach()


class FeatureSqueezingDetector(VictimDetector):
    """Largest L1 change of the victim's softmax under the squeezers.

    Parameters
    ----------
    squeezers : list of str or None
        Squeezer names (module docstring); None: the defaults for the images' number of channels.
    random_state : int or None
        Unused (the score is deterministic); taken as every detector takes it.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    squeezers_ : tuple of str
        The squeezers used.
    """

    description = "Feature Squeezing (Xu et al. 2018): max L1 softmax change under bit depth, median and NLM squeezers"

    def __init__(self, squeezers=None, random_state=None, device: str = "cpu"):
        self.squeezers = squeezers
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        if self.squeezers is not None:
            check_list("squeezers", self.squeezers, "squeezer names", squeezer)
        super()._check_params()

    def _fit_victim(self, X, reference):
        channels = X.shape[1]
        if self.squeezers is None and channels not in DEFAULT_SQUEEZERS:
            raise ValueError(f"squeezers: no default for {channels}-channel images; name them")
        self.squeezers_ = tuple(DEFAULT_SQUEEZERS[channels] if self.squeezers is None else self.squeezers)

    def _score_tensor(self, x):
        victim = self.victim_
        clean = torch.softmax(victim.logits(x), dim=1)
        changes = [
            (clean - torch.softmax(victim.logits(_squeeze_straight_through(squeeze, x)), dim=1)).abs().sum(dim=1)
            for squeeze in map(squeezer, self.squeezers_)
        ]
        return torch.stack(changes, dim=1).amax(dim=1)
