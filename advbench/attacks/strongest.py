"""The strongest known attacks on a detector, run together, and the worst case per image.

A verdict that a detector holds needs the attacks that broke detectors before (Carlini and Wagner
2017; Athalye et al. 2018; Tramèr et al. 2020; Bryniarski et al. 2022), not one attack of our
own. The ensemble's members, each an attack on the victim and the detector at once:

- ``fool-first-pgd``: the suite's detector-aware PGD (``adaptive.py``, 40 steps, its lambda grid;
  its ``lambda = 0`` candidate is plain PGD);
- ``orthogonal-pgd`` and ``selective-pgd`` (Bryniarski et al. 2022, ``orthogonal_pgd.py``);
- ``apgd-ce`` and ``apgd-dlr``: the APGD schedule with either loss and the detector's term
  (Croce and Hein 2020, ``apgd_detector.py``);
- ``feature-space``: the victim's features driven onto another class's statistics, for detectors
  that read them (``feature_space.py``).

A detector whose score is random (BU with sampled masks) is attacked through the expectation of
its score (EOT, ``eot.py``); a detector with no differentiable score cannot be attacked here.

``worst_case`` keeps, per image, among the candidates of every member that fool the victim after
8-bit rounding, the one with the lowest detector score (``decision_function`` of the stored
8-bit image, the score a run computes), and records which member won it. An image that no member
makes fool the victim keeps the clean image's class: it is counted robust.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from advbench.attacks.quantize import quantize

#: The members by name, in the order they run and break ties (the first member with the lowest score
#: wins): the module and class of each, and the keyword arguments it gets besides the common ones
#: (``eps``, ``norm``, ``steps``, ``restarts``, ``seed``). fool-first PGD keeps the 40 steps of the
#: published adaptive sets.
MEMBERS: dict[str, tuple[str, str, dict]] = {
    "fool-first-pgd": ("advbench.attacks.adaptive", "FoolFirstPGD", {"steps": 40}),
    "orthogonal-pgd": ("advbench.attacks.orthogonal_pgd", "OrthogonalPGD", {}),
    "selective-pgd": ("advbench.attacks.orthogonal_pgd", "SelectivePGD", {}),
    "apgd-ce": ("advbench.attacks.apgd_detector", "DetectorAPGD", {"loss": "ce"}),
    "apgd-dlr": ("advbench.attacks.apgd_detector", "DetectorAPGD", {"loss": "dlr"}),
    "feature-space": ("advbench.attacks.feature_space", "FeatureSpaceAttack", {}),
}
#: The members that take the reference sample (labelled clean images) as ``reference``.
TAKES_REFERENCE = frozenset({"feature-space"})


@dataclass(frozen=True)
class Candidates:
    """One member's candidate per image: the 8-bit images, whether each fools the victim, its score."""

    images: np.ndarray  # uint8, N x C x H x W
    fooled: np.ndarray  # bool, N
    scores: np.ndarray  # float64, N: the detector's decision_function
    seconds: float


@dataclass(frozen=True)
class WorstCase:
    """Per image, the lowest-scoring fooling candidate over the members, and the member that gave it
    (``winner``: an index into ``members``, -1 where no member fooled the victim)."""

    images: np.ndarray
    fooled: np.ndarray
    scores: np.ndarray
    winner: np.ndarray
    members: tuple[str, ...]

    def wins(self) -> dict[str, int]:
        """How many images each member won (members that won none included, with 0)."""
        return {name: int((self.winner == index).sum()) for index, name in enumerate(self.members)}


def applicable(detector, reference=None) -> tuple[str, ...]:
    """The members that can attack ``detector``: every one, less ``feature-space`` unless the detector
    reads the victim's features (``victim_``) and has class Gaussians of its own (deep Mahalanobis)
    or a ``reference`` sample gives the classes' feature means."""
    features = hasattr(detector, "victim_") and (hasattr(detector, "means_") or reference is not None)
    return tuple(name for name in MEMBERS if name != "feature-space" or features)


def _member(name: str, model: nn.Module, score, reference, **common):
    """The attack object of member ``name`` (a callable ``(images, labels) -> images``)."""
    module, cls, extra = MEMBERS[name]
    attack = getattr(importlib.import_module(module), cls)
    more = {"reference": reference} if name in TAKES_REFERENCE else {}
    return attack(model, score, **(common | extra | more))


@dataclass(frozen=True)
class Ensemble:
    """The members to run and how hard each tries: the budget (``eps`` in ``norm``), the steps, the
    random starts and the seed of those starts (a member's own entry in ``MEMBERS`` wins over these)."""

    eps: float
    norm: str = "linf"
    members: tuple[str, ...] = tuple(MEMBERS)
    steps: int = 200
    restarts: int = 1
    seed: int = 0

    def run(
        self,
        model: nn.Module,
        detector,
        attacked: tuple[torch.Tensor, torch.Tensor],
        *,
        score=None,
        reference=None,
        log: Callable[[str], None] = lambda message: None,
        keep=None,
    ) -> dict[str, Candidates]:
        """Each member's candidates for ``attacked``: float images in [0, 1] and their true labels. ``score``: what
        the gradient attacks differentiate (``eot.differentiable_score(detector)`` by default); the
        candidates are scored by ``detector.decision_function``. ``reference``: labelled clean images
        for the feature-space attack on a victim-aware detector without class Gaussians of its own.
        ``keep``: where each member's candidates are kept as it ends and taken from when an earlier run
        kept them (``load(name, ensemble)`` and ``save(name, ensemble, candidates)``;
        ``runs.member_store``)."""
        from advbench.attacks.eot import differentiable_score

        images, labels = attacked
        score = differentiable_score(detector) if score is None else score
        common = {"eps": self.eps, "norm": self.norm, "steps": self.steps, "restarts": self.restarts, "seed": self.seed}
        found = {}
        for name in self.members:
            kept = keep.load(name, self) if keep is not None else None
            if kept is None:
                start = time.perf_counter()
                attack = _member(name, model, score, reference, **common)
                found[name] = scored(model, detector, attack(images, labels), labels, start)
                if keep is not None:
                    keep.save(name, self, found[name])
            else:
                found[name] = kept
            fooled, how = found[name].fooled, " (kept from an earlier run)" if kept is not None else ""
            log(f"  {name}: fools {int(fooled.sum())}/{len(fooled)} in {found[name].seconds:.1f} s{how}")
        return found


def scored(model: nn.Module, detector, adversarial: torch.Tensor, labels: torch.Tensor, start: float) -> Candidates:
    """``adversarial`` stored as 8-bit images, whether each fools the victim, and the detector's scores
    (``start``: when the attack began, by ``time.perf_counter``)."""
    stored = quantize(adversarial)
    with torch.no_grad():
        fooled = (model(torch.from_numpy(stored).to(adversarial) / 255).argmax(1) != labels).cpu().numpy()
    scores = np.asarray(detector.decision_function(stored), dtype=np.float64)
    return Candidates(stored, fooled, scores, time.perf_counter() - start)


def worst_case(found: dict[str, Candidates]) -> WorstCase:
    """Per image, the fooling candidate of lowest score over the members of ``found``."""
    members = tuple(found)
    scores = np.stack([np.where(found[name].fooled, found[name].scores, np.inf) for name in members])
    fooled = np.stack([found[name].fooled for name in members]).any(axis=0)
    winner = np.where(fooled, np.argmin(scores, axis=0), -1)
    first = found[members[0]]
    images = np.stack([found[members[w]].images[i] if w >= 0 else first.images[i] for i, w in enumerate(winner)])
    chosen = np.array([found[members[w]].scores[i] if w >= 0 else first.scores[i] for i, w in enumerate(winner)])
    return WorstCase(images, fooled, chosen, winner, members)
