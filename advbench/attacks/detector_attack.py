"""The common part of the attacks on a victim and a detector at once (``advbench.attacks.strongest``).

An attack of this kind gets the victim (an ``nn.Module`` in eval mode), a fitted detector with a
differentiable ``score_tensor`` (or a ``ScoreFunction`` that wraps one), a budget (``eps`` in the
``norm``), and float images in [0, 1] with their true labels. It returns, per image, one candidate:
float images in [0, 1] on the 8-bit grid, inside the budget after rounding. Among its iterates
(and restarts) it keeps, per image, the one that fools the victim after 8-bit rounding with the
lowest detector score; an image that no iterate makes fool the victim keeps its last iterate (the
victim still classifies it correctly, so it counts as robust). Each attack is one class
(``DetectorAttack`` subclass) with its source in its docstring; the ensemble of
``advbench.attacks.strongest`` runs them and keeps the worst case per image.

The detector's term is the score standardized by its training scores (``decision_scores_``), so
that one weight serves every detector whatever the scale of its score (as in ``adaptive.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

#: The norms the attacks take: an L-inf ball or an L2 ball, of radius ``eps`` in [0, 1] pixel units.
NORMS = ("linf", "l2")


@dataclass(frozen=True)
class Standardized:
    """A detector's differentiable score standardized by its clean training scores: ``(s - mean) / std``."""

    detector: object
    mean: float
    std: float

    @classmethod
    def of(cls, detector) -> Standardized:
        scores = np.asarray(detector.decision_scores_, dtype=np.float64)
        return cls(detector, float(scores.mean()), float(max(scores.std(), 1e-12)))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (self.detector.score_tensor(x) - self.mean) / self.std

    def threshold(self, raw: float) -> float:
        """A threshold on the raw score, on this standardized scale."""
        return (raw - self.mean) / self.std


def step_scale(eps: float) -> float:
    """The budget that sizes default steps: ``eps``, or 1 (the pixel range) for an unbounded attack."""
    return eps if math.isfinite(eps) else 1.0


def round8(x: torch.Tensor) -> torch.Tensor:
    """Float images rounded to the 8-bit grid (as a benchmark file stores them), still float in [0, 1]."""
    return torch.round(x.detach().clamp(0, 1) * 255) / 255


def project(x: torch.Tensor, clean: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    """``x`` projected onto the ``norm`` ball of radius ``eps`` around ``clean`` and into [0, 1]."""
    delta = x - clean
    if norm == "linf":
        delta = delta.clamp(-eps, eps)
    else:
        size = delta.flatten(1).norm(dim=1).clamp_min(1e-12)
        delta = delta * (eps / size).clamp(max=1.0).view(-1, *([1] * (x.dim() - 1)))
    return (clean + delta).clamp(0, 1)


def rounded_in_budget(x: torch.Tensor, clean: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    """``x`` on the 8-bit grid and inside the budget after rounding: rounding can leave an L-inf ball by
    half a level, and an L2 ball by more, so the rounded image is projected again and rounded towards
    ``clean`` (``floor`` of the distance in levels) until it is inside."""
    rounded = round8(x)
    if norm == "linf":
        levels = 255 if eps >= 1 else math.floor(eps * 255 + 1e-6)
        delta = torch.clamp(torch.round((rounded - clean) * 255), -levels, levels) / 255
        return (clean + delta).clamp(0, 1)
    delta = torch.round((rounded - clean) * 255)
    size = (delta / 255).flatten(1).norm(dim=1)
    over = size > eps + 1e-9
    if over.any():
        scale = (eps / size[over]).view(-1, *([1] * (x.dim() - 1)))
        delta[over] = torch.trunc(delta[over] * scale)  # towards clean: never longer than the scaled delta
    return (clean + delta / 255).clamp(0, 1)


def margin(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The largest other logit minus the true one, per image: positive once the victim is fooled."""
    true = logits.gather(1, labels[:, None]).squeeze(1)
    others = logits.clone()
    others.scatter_(1, labels[:, None], float("-inf"))
    return others.amax(dim=1) - true


class DetectorAttack:
    """Base class: keeps the best successful iterate per image; subclasses implement ``_run``.

    Parameters
    ----------
    model : nn.Module
        The victim, in eval mode, mapping float images in [0, 1] to logits.
    detector : fitted detector with ``score_tensor`` (or any callable ``x -> scores``), and
        ``decision_scores_`` when ``standardize`` is True.
    eps : float
        The budget, in [0, 1] pixel units (``inf`` for an unbounded attack).
    norm : {"linf", "l2"}
    steps : int
        Iterations per restart.
    restarts : int
        Random starts; restart ``r`` seeds its start with ``seed + r``.
    seed : int
    """

    #: The registry name of the attack, and the source it follows.
    name = ""
    source = ""

    def __init__(
        self,
        model: nn.Module,
        detector,
        *,
        eps: float,
        norm: str = "linf",
        steps: int = 200,
        restarts: int = 1,
        seed: int = 0,
    ):
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        if steps < 1 or restarts < 1:
            raise ValueError(f"steps and restarts must be >= 1, got {steps} and {restarts}")
        self.model = model
        self.score = Standardized.of(detector)
        self.eps = float(eps)
        self.norm = norm
        self.steps = int(steps)
        self.restarts = int(restarts)
        self.seed = int(seed)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The kept candidate per image (float, on the 8-bit grid, inside the budget)."""
        self.model.eval()
        best = images.clone()
        best_score = torch.full((len(images),), float("inf"), dtype=torch.float64, device=images.device)
        for restart in range(self.restarts):
            generator = torch.Generator(device="cpu").manual_seed(self.seed + restart)
            for iterate in self._run(images, labels, generator):
                self._keep(iterate, images, labels, best, best_score)
        return best

    def _keep(self, x, clean, labels, best, best_score) -> None:
        """Update ``best`` where the rounded ``x`` fools the victim with a lower score than kept so far;
        where nothing fooled yet, ``best`` follows the iterates (the last is kept)."""
        candidate = rounded_in_budget(x, clean, self.eps, self.norm)
        with torch.no_grad():
            fooled = self.model(candidate).argmax(1) != labels
            score = self.score(candidate).double()
        better = fooled & (score < best_score)
        best[better], best_score[better] = candidate[better], score[better]
        never = torch.isinf(best_score)
        best[never] = candidate[never]

    def _start(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A uniform random start in the L-inf ball (capped at 8/255 for an unbounded attack), or a
        Gaussian direction of radius uniform in [0, eps] for L2."""
        noise = torch.rand(images.shape, generator=generator).to(images)
        if self.norm == "linf":
            radius = min(self.eps, 8 / 255)
            return project(images + (2 * noise - 1) * radius, images, self.eps, self.norm)
        direction = torch.randn(images.shape, generator=generator).to(images)
        direction = direction / direction.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
        radius = torch.rand(len(images), generator=generator).to(images).view(-1, 1, 1, 1) * min(self.eps, 0.5)
        return project(images + direction * radius, images, self.eps, self.norm)

    def _step(self, x: torch.Tensor, direction: torch.Tensor, size: float | torch.Tensor) -> torch.Tensor:
        """One ascent step along ``direction`` (the sign for L-inf, the unit vector for L2)."""
        if self.norm == "linf":
            return x + size * direction.sign()
        unit = direction / direction.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
        return x + size * unit

    def _run(self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator):
        """Yield the iterates of one restart (float tensors like ``images``)."""
        raise NotImplementedError
