"""Maximum softmax probability (Hendrycks and Gimpel, "A Baseline for Detecting Misclassified and
Out-of-Distribution Examples in Neural Networks", ICLR 2017).

Score: ``-max_k softmax(f(x))_k`` over the victim's logits ``f(x)``, so that an input the victim
is unsure of scores high (the paper thresholds the maximum softmax probability itself; the sign is
ours, as every advbench score grows with anomaly). Nothing is fitted; the score does not depend on
the seed. Differentiable: ``score_tensor`` serves detector-aware attacks.
"""

from __future__ import annotations

import torch

from advbench.detectors.victim_detector import VictimDetector


class MSPDetector(VictimDetector):
    """The victim's maximum softmax probability, negated.

    Parameters
    ----------
    random_state : int or None
        Unused (the score is deterministic); taken as every detector takes it.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).
    """

    description = "Victim's maximum softmax probability, negated (Hendrycks & Gimpel 2017)"

    def __init__(self, random_state=None, device: str = "cpu"):
        self.random_state = random_state
        self.device = device

    def _score_tensor(self, x):
        return -torch.softmax(self.victim_.logits(x), dim=1).amax(dim=1)
