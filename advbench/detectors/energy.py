"""Energy score (Liu, Wang, Owens and Li, "Energy-based Out-of-distribution Detection", NeurIPS 2020).

Score: the free energy of the victim's logits ``f(x)``, ``E(x) = -T log sum_k exp(f_k(x) / T)``,
at ``T = 1``, the temperature of the paper's experiments with a pre-trained classifier. The paper
calls ``-E(x)`` the in-distribution score, so ``E(x)`` grows with anomaly as advbench scores do.
Nothing is fitted; the score does not depend on the seed. Differentiable: ``score_tensor`` serves
detector-aware attacks. The paper's energy-bounded fine-tuning trains on outlier data and is not
part of this protocol.
"""

from __future__ import annotations

import torch

from advbench.detectors.checks import check_number
from advbench.detectors.victim_detector import VictimDetector


class EnergyDetector(VictimDetector):
    """Free energy of the victim's logits at temperature ``temperature``.

    Parameters
    ----------
    temperature : float > 0
        T of ``-T log sum exp(f / T)`` (1, the paper's).
    random_state : int or None
        Unused (the score is deterministic); taken as every detector takes it.
    device : str
        Torch device of the victim's forward passes ("cpu" by default).
    """

    description = "Free energy -T logsumexp(logits / T) of the victim, T = 1 (Liu et al. 2020)"

    def __init__(self, temperature: float = 1.0, random_state=None, device: str = "cpu"):
        self.temperature = temperature
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        check_number("temperature", self.temperature, low_open=True)
        super()._check_params()

    def _score_tensor(self, x):
        return -self.temperature * torch.logsumexp(self.victim_.logits(x) / self.temperature, dim=1)
