"""Bayesian uncertainty by Monte-Carlo dropout (Feinman, Curtin, Shintre and Gardner, "Detecting
Adversarial Samples from Artifacts", 2017, section 3.2).

Score: ``U(x) = (1/T) sum_t p_t(x)^T p_t(x) - m(x)^T m(x)``, ``m(x) = (1/T) sum_t p_t(x)``, where
``p_t(x)`` are the victim's softmax outputs of ``T`` forward passes with dropout masks: the sum
over classes of the variance of the predicted probabilities across passes (the paper's equation;
its code averages the variances over classes instead, the same order). ``T = 50`` passes (the
authors' code, ``get_mc_predictions(..., nb_iter=50)``). Only the dropout layers are masked; batch
norm keeps its running statistics, as in the victim's evaluation; the GTSRB victim's convolutional
trunk, which has no dropout, runs once per image and only its dense classifier once per pass
(``Victim.mc_logits`` and ``Victim.masked_logits``: the same numbers for a fraction of the work).

Where the masks come from (``masks``):

- ``"fixed"`` (the default): ``T`` masks per dropout layer, drawn once at fit from ``random_state``
  (a CPU generator, so every device gets the same ones) and kept (``masks_``, named by
  ``masks_sha256_``). Pass ``t`` multiplies the output of each dropout layer of the victim (the
  layers ``mc_logits`` switches to sampling: every one with a rate ``p > 0``, wherever the
  architecture puts it) by that layer's ``t``-th mask, which keeps each unit with probability
  ``1 - p`` and scales it by ``1 / (1 - p)``, as the layer does when it samples; every image
  shares the ``T`` masks. ``U`` is then a fixed, differentiable function of the image: the
  ensemble of fixed-mask copies of the network through which Carlini and Wagner ("Adversarial
  Examples Are Not Easily Detected: Bypassing Ten Detection Methods", 2017; their code,
  ``carlini/nn_breaking_detection``, ``dropout_detect.py``, whose masks drop units without rescaling
  the kept ones) attacked this detector. ``decision_function`` and ``score_tensor`` both use
  these masks, so they agree (to float rounding), and an image's score does not depend on the other
  images scored with it. This is the default because a detector-aware attack (``generate-attacks
  --adaptive bu``) fits the detector with the run's parameters, keeps per image the candidate that
  ``score_tensor`` scores lowest, and the run then scores the set with ``decision_function``: both
  must be the one function. Masks of element-wise ``nn.Dropout`` layers only (the kind the
  benchmark's victims have); another kind of sampling dropout layer is refused at fit.
- ``"sampled"``: every scoring call reseeds from ``random_state`` and samples each pass's masks
  afresh for each image (the layers in training mode, ``Victim.mc_logits``), as the authors' code
  samples; an image's masks depend on its place in the call. No ``score_tensor``. A result line
  whose parameters have no ``masks`` was computed so, and ``masks = "sampled"`` computes its
  numbers again. The two settings estimate the same uncertainty with different masks, so their
  scores differ; ``masks`` is one of the parameters each line records, and a run folder's guard
  keeps lines of the two apart.

A victim without dropout gives the same softmax on every pass: ``U(x) = 0`` for every image (and a
zero gradient), and the detector's AUC is 0.5 (``has_dropout_`` records it). The GTSRB victim has
dropout (rate 0.3, before each of its two dense layers). BU alone, not the paper's logistic
regression of BU and KD, which is trained on adversarial examples.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn

from advbench.detectors.checks import check_choice, check_int
from advbench.detectors.victim_detector import BATCH, VictimDetector
from advbench.torch_utils import seed_everything

#: Where the dropout masks come from (see the module docstring); the first is the default.
MASKS = ("fixed", "sampled")


def uncertainty(logits: torch.Tensor) -> torch.Tensor:
    """``U`` of each image from the logits of its passes (``passes x N x classes``), in float64."""
    probs = torch.softmax(logits, dim=2).double()
    shifted = probs - probs[0]  # the variance is shift-invariant; identical passes give exactly 0
    return ((shifted**2).sum(dim=2).mean(dim=0) - (shifted.mean(dim=0) ** 2).sum(dim=1)).clamp_min(0.0)


def masks_sha256(masks: dict[str, torch.Tensor]) -> str:
    """The sha256 of a set of masks: each layer's name, shape and float32 values, in name order."""
    digest = hashlib.sha256()
    for name in sorted(masks):
        values = masks[name].detach().cpu().numpy().astype(np.float32)
        digest.update(f"{name}:{values.shape}".encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


class BUDetector(VictimDetector):
    """Variance of the victim's softmax over ``passes`` Monte-Carlo dropout passes.

    Parameters
    ----------
    passes : int >= 2
        Forward passes with dropout per image (50, the authors' code).
    masks : {"fixed", "sampled"}
        ``"fixed"``: one set of ``passes`` masks drawn at fit and shared by every image, a
        differentiable score; ``"sampled"``: masks sampled afresh at each call, per image (the
        module docstring says why the default is ``"fixed"``).
    random_state : int or None
        Seeds the dropout masks (the fixed ones at fit; with ``"sampled"``, each scoring call
        starts from it, so a call's scores do not depend on earlier calls).
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    has_dropout_ : bool
        Whether the victim has a dropout layer (without one every score is 0).
    masks_ : dict of str to torch.Tensor, or None
        With ``"fixed"``: per dropout layer (its module name in the victim), the ``passes`` masks
        (``passes x`` the layer's per-image input shape), scaled by ``1 / (1 - p)``; None with ``"sampled"``.
    masks_sha256_ : str or None
        The sha256 of ``masks_`` (``masks_sha256``); None with ``"sampled"``.
    """

    description = "Bayesian uncertainty: variance of the victim's softmax over 50 fixed MC-dropout masks (Feinman 2017)"

    def __init__(self, passes: int = 50, masks: str = MASKS[0], random_state=None, device: str = "cpu"):
        self.passes = passes
        self.masks = masks
        self.random_state = random_state
        self.device = device

    @property
    def differentiable(self) -> bool:
        """Whether ``score_tensor`` exists: with fixed masks only."""
        return self.masks == "fixed"

    def _check_params(self):
        check_int("passes", self.passes, low=2)
        check_choice("masks", self.masks, MASKS)
        super()._check_params()

    def _fit_victim(self, X, reference):
        self.has_dropout_ = self.victim_.has_dropout
        self.masks_ = self._draw_masks(tuple(X.shape[1:])) if self.masks == "fixed" else None
        self.masks_sha256_ = None if self.masks_ is None else masks_sha256(self.masks_)

    def _draw_masks(self, shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
        """``passes`` masks for each dropout layer that images of ``shape`` pass through, from ``random_state``."""
        layers = self.victim_.dropout_layers()
        other = sorted(name for name, layer in layers.items() if not isinstance(layer, nn.Dropout))
        if other:
            raise ValueError(
                f"masks='fixed' draws masks for nn.Dropout layers only; the victim's layer {other[0]!r} is "
                f"{type(layers[other[0]]).__name__} (use masks='sampled')"
            )
        generator = seed_everything(self.random_state)
        masks = {}
        for name, size in sorted(self.victim_.dropout_input_shapes(shape).items()):
            rate = layers[name].p
            keep = torch.rand((self.passes, *size), generator=generator) >= rate
            masks[name] = (keep.float() * (1.0 / (1.0 - rate) if rate < 1 else 0.0)).to(self.device_)
        return masks

    def _score_tensor(self, x):
        return uncertainty(self.victim_.masked_logits(x, self.masks_, self.passes))

    def _score(self, X):
        return super()._score(X) if self.masks == "fixed" else self._sampled_scores(X)

    @torch.no_grad()
    def _sampled_scores(self, X):
        seed_everything(self.random_state)
        x = self._inputs(X)
        scores = [uncertainty(self.victim_.mc_logits(x[i : i + BATCH], self.passes)) for i in range(0, len(x), BATCH)]
        return torch.cat(scores).cpu().numpy()
