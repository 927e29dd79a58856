"""Bayesian uncertainty by Monte-Carlo dropout (Feinman, Curtin, Shintre and Gardner, "Detecting
Adversarial Samples from Artifacts", 2017, section 3.2).

Score: ``U(x) = (1/T) sum_t p_t(x)^T p_t(x) - m(x)^T m(x)``, ``m(x) = (1/T) sum_t p_t(x)``, where
``p_t(x)`` are the victim's softmax outputs of ``T`` forward passes with dropout sampling: the sum
over classes of the variance of the predicted probabilities across passes (the paper's equation;
its code averages the variances over classes instead, the same order). ``T = 50`` passes (the
authors' code, ``get_mc_predictions(..., nb_iter=50)``). Only the dropout layers sample; batch
norm keeps its running statistics, as in the victim's evaluation; the GTSRB victim's convolutional
trunk, which has no dropout, runs once per image and only its dense classifier once per pass
(``Victim.mc_logits``: the same numbers for a fraction of the work). The passes draw their dropout
masks from ``random_state``, so the score depends on the seed.

A victim without dropout gives the same softmax on every pass: ``U(x) = 0`` for every image, and
the detector's AUC is 0.5 (``has_dropout_`` records it). The GTSRB victim has dropout (rate 0.3,
before each of its two dense layers). BU alone, not the paper's logistic regression of BU and KD,
which is trained on adversarial examples. The score has no ``score_tensor`` here, so detector-aware
attacks cannot name it yet; it is differentiable once the dropout masks are fixed, as Carlini and
Wagner (2017) attacked it, and until that is built no robustness claim is made for it.
"""

from __future__ import annotations

import torch

from advbench.detectors.checks import check_int
from advbench.detectors.victim_detector import BATCH, VictimDetector
from advbench.torch_utils import seed_everything


class BUDetector(VictimDetector):
    """Variance of the victim's softmax over ``passes`` Monte-Carlo dropout passes.

    Parameters
    ----------
    passes : int >= 2
        Forward passes with dropout per image (50, the authors' code).
    random_state : int or None
        Seeds the dropout masks (each scoring call starts from it, so a call's scores do not
        depend on earlier calls).
    device : str
        Torch device of the victim's forward passes ("cpu" by default).

    Attributes
    ----------
    has_dropout_ : bool
        Whether the victim has a dropout layer (without one every score is 0).
    """

    description = "Bayesian uncertainty: variance of the victim's softmax over 50 MC-dropout passes (Feinman 2017)"
    differentiable = False

    def __init__(self, passes: int = 50, random_state=None, device: str = "cpu"):
        self.passes = passes
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        check_int("passes", self.passes, low=2)
        super()._check_params()

    def _fit_victim(self, X, reference):
        self.has_dropout_ = self.victim_.has_dropout

    @torch.no_grad()
    def _score(self, X):
        seed_everything(self.random_state)
        x = self._inputs(X)
        scores = []
        for start in range(0, len(x), BATCH):
            probs = torch.softmax(self.victim_.mc_logits(x[start : start + BATCH], self.passes), dim=2).double()
            shifted = probs - probs[0]  # the variance is shift-invariant; identical passes give exactly 0
            scores.append((shifted**2).sum(dim=2).mean(dim=0) - (shifted.mean(dim=0) ** 2).sum(dim=1))
        return torch.cat(scores).clamp_min_(0.0).cpu().numpy()
