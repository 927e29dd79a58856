"""Expectation over transformation (EOT): a differentiable score for a detector whose score is random.

Athalye, Carlini and Wagner ("Obfuscated Gradients Give a False Sense of Security: Circumventing
Defenses to Adversarial Examples", ICML 2018, section 4.3) attack a randomized defence through the
expectation of its output over its randomness, estimated by the mean of several draws, whose
gradient is the mean of the draws' gradients. ``ExpectedScore`` is that estimate for a detector:
it gives the detector's ``decision_scores_`` (so ``detector_attack.Standardized`` scales it as the
detector) and ``score_tensor(x)``, the mean of ``samples`` differentiable draws of the random score.

The one random detector here is BU with ``masks="sampled"`` (``detectors.bu``): a draw is its
uncertainty ``U(x)`` (``bu.uncertainty``) over the detector's ``passes`` Monte-Carlo dropout passes,
each with fresh masks per image (``Victim.mc_logits``: the dropout layers sample, gradients flow
back to ``x``), the same estimator as its ``decision_function``, whose masks come from
``random_state`` instead. The draws are reproducible: call ``k`` of ``score_tensor`` seeds torch's
global generator, from which the dropout layers sample, with the ``k``-th number of a generator
seeded with ``seed``, inside ``torch.random.fork_rng`` (the caller's generator state is left as it
was). Two wrappers with one seed give the same scores call for call, and successive calls draw
fresh masks, so an attack never sees one fixed set of masks.

A detector whose score is already deterministic and differentiable (``differentiable``: BU with
fixed masks, deep Mahalanobis, the autoencoders...) is taken too: ``samples`` equal draws average
to one, so its score is ``score_tensor`` computed once. ``differentiable_score`` picks what an
attack can use: the detector itself, an ``ExpectedScore`` for sampled BU, or TypeError.

BPDA (the same paper, section 4.1) needs nothing here: Feature Squeezing's ``score_tensor`` already
passes the gradient straight through its non-differentiable squeezers (``detectors.feature_squeezing``).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from advbench.detectors.bu import BUDetector, uncertainty

#: Draws per score by default: each draw already averages ``passes`` dropout passes (50 for BU).
DEFAULT_SAMPLES = 10


def is_sampled_bu(detector) -> bool:
    """Whether ``detector`` is BU with masks sampled afresh at each call (a random score)."""
    return isinstance(detector, BUDetector) and detector.masks == "sampled"


class ExpectedScore:
    """The mean of ``samples`` differentiable draws of a fitted detector's random score (see the module docstring).

    Parameters
    ----------
    detector : fitted BU with ``masks="sampled"``, or a fitted detector with a deterministic ``score_tensor``
    samples : int >= 1
        Draws per ``score_tensor`` call.
    seed : int
        Seeds the draws (a generator of one seed per call).
    """

    def __init__(self, detector, samples: int = DEFAULT_SAMPLES, seed: int = 0):
        if not (is_sampled_bu(detector) or getattr(detector, "differentiable", False)):
            raise TypeError(f"{type(detector).__name__} has neither a differentiable score nor a random one to average")
        if int(samples) < 1:
            raise ValueError(f"samples must be >= 1, got {samples!r}")
        check_is_fitted(detector, "decision_scores_")
        self.detector = detector
        self.samples = int(samples)
        self.seed = int(seed)
        self._seeds = torch.Generator().manual_seed(self.seed)

    @property
    def decision_scores_(self) -> np.ndarray:
        """The detector's scores of its training images."""
        return self.detector.decision_scores_

    def score_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """The mean of ``samples`` draws of the score of each image of ``x``, with gradients back to ``x``."""
        if not is_sampled_bu(self.detector):
            return self.detector.score_tensor(x)
        seed = int(torch.randint(2**62, (1,), generator=self._seeds))
        with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
            torch.manual_seed(seed)
            draws = [self._draw(x) for _ in range(self.samples)]
        return torch.stack(draws).mean(dim=0)

    def _draw(self, x: torch.Tensor) -> torch.Tensor:
        """One draw of sampled BU: ``U`` over ``passes`` dropout passes with fresh masks."""
        return uncertainty(self.detector.victim_.mc_logits(x, self.detector.passes))


def differentiable_score(detector, samples: int = DEFAULT_SAMPLES, seed: int = 0):
    """What a detector-aware attack can differentiate: the detector itself when its score is deterministic and
    differentiable, an ``ExpectedScore`` for BU with sampled masks; TypeError naming the detector otherwise."""
    if is_sampled_bu(detector):
        return ExpectedScore(detector, samples, seed)
    if getattr(detector, "differentiable", False):
        return detector
    raise TypeError(
        f"{type(detector).__name__} has no differentiable score and no random one to average (EOT); "
        "attack it through a differentiable surrogate detector"
    )
