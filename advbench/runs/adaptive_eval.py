"""``advbench evaluate-adaptive``: a detector under the strongest attacks, worst case per image, with checks.

For each detector, seed and budget (a cell), on the normal test images of a benchmark file:

1. the detector is fitted as ``advbench run`` fits that seed's pair (``adaptive.DetectorCache.fitted``:
   the resolved parameters, one thread, the victim and reference sample of the run), and scores
   the clean test images (the negatives, and the threshold at each false-positive rate);
2. plain PGD (the ``pgd`` entry, 40 steps, cross-entropy only) and every member of the ensemble
   (``attacks.strongest``) attack the images, their random starts seeded with the cell's seed (so
   that the seeds of a detector whose fit has no randomness still differ); ``worst_case`` keeps, per image, the fooling
   candidate of lowest score, and which member won it;
3. figures: AUC and TPR at 5 % FPR over the images that fool the victim, and detection-aware
   robust accuracy at 5 % and 1 % FPR over every attacked image (``robust_accuracy``), with a
   95 % percentile bootstrap interval (clean and attacked images resampled, seeded);
4. checks (Carlini et al. 2019, "On Evaluating Adversarial Robustness"; Pintor et al. 2022,
   "Indicators of Attack Failure"), each of which flags the cell:
   - ``gradient``: the detector's score has a zero or non-finite gradient on more than
     ``GRADIENT_SHARE`` of the clean images;
   - ``convergence``: the members that won an image, again with twice the steps and one more
     restart; the worst case over both runs lowers the robust accuracy at 5 % FPR by more than
     ``CONVERGENCE_MARGIN``;
   - ``unbounded``: with the whole image box as budget (L-inf 1, L2 the box's diagonal), the
     members that won an image, then, unless they reach robust accuracy 0 at 5 % FPR, the others;
     a robust accuracy above 0 means the attack is broken for this detector;
5. transfer: each cell's worst-case images scored by every other detector of the evaluation and
   every detector of ``score_only`` (same seed and budget; any detector, with a differentiable
   score or not), as robust accuracy at 5 % FPR.

A flagged cell is written with its flags; the tables show it as flagged, never as a plain number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from advbench.attacks import strongest
from advbench.runs.detection_metrics import tpr_at_fpr
from advbench.runs.metrics import roc_auc
from advbench.runs.robust_accuracy import RATES, robust, robust_accuracy

#: The share of clean images with a zero or non-finite score gradient above which ``gradient`` flags a cell.
GRADIENT_SHARE = 0.1
#: How much more effort may lower the robust accuracy at 5 % FPR (a share) before ``convergence`` flags.
CONVERGENCE_MARGIN = 0.02
#: The checks, in the order they run.
CHECKS = ("gradient", "convergence", "unbounded")
#: Bootstrap resamples and interval level of the robust accuracy.
RESAMPLES, LEVEL = 1000, 0.95


@dataclass(frozen=True)
class AdaptiveConfig:
    """What ``evaluate-adaptive`` runs: detectors x seeds x budgets on ``data``'s normal test images."""

    data: str
    detectors: tuple[str, ...]
    score_only: tuple[str, ...] = ()  # not attacked: they score every cell's worst case (transfer)
    seeds: tuple[int, ...] = (0,)
    budgets: tuple[float, ...] = (8 / 255,)
    norm: str = "linf"
    members: tuple[str, ...] = tuple(strongest.MEMBERS)
    steps: int = 200
    restarts: int = 1
    checks: tuple[str, ...] = CHECKS
    images: int | None = None  # the first N normal test images; all by default
    gtsrb_root: str | None = None
    device: str = "cpu"


@dataclass
class Cell:
    """The outcome for one detector, seed and budget (``record()`` is its JSON line)."""

    detector: str
    seed: int
    eps: float
    norm: str
    attacked: int
    figures: dict = field(default_factory=dict)  # plain / worst: auroc, tpr@5%, dara@5%, dara@1%, interval
    members: dict = field(default_factory=dict)  # member -> fooled, dara@5%, seconds
    wins: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)  # check -> {"flagged": bool, ...}
    transfer: dict = field(default_factory=dict)  # other detector -> dara@5% on this cell's images
    detector_record: dict = field(default_factory=dict)

    @property
    def flags(self) -> list[str]:
        return [name for name, outcome in self.checks.items() if outcome.get("flagged")]

    def record(self) -> dict:
        return asdict(self) | {"flags": self.flags}


def unbounded_budget(norm: str, shape: tuple[int, ...]) -> float:
    """The whole image box as a budget: 1 in L-inf, the box's diagonal in L2."""
    return 1.0 if norm == "linf" else math.sqrt(math.prod(shape))


def figures(clean: np.ndarray, scores: np.ndarray, fooled: np.ndarray, seed: int) -> dict:
    """AUC and TPR at 5 % FPR over the fooling images, robust accuracy at each rate with its interval."""
    fooling = scores[fooled]
    found = {
        "fooled": int(fooled.sum()),
        "auroc": roc_auc(clean, fooling) if len(fooling) else None,
        "tpr@5%": tpr_at_fpr(clean, fooling, 0.05) if len(fooling) else None,
    }
    for name, rate in RATES.items():
        found[name] = robust_accuracy(clean, scores, fooled, rate)
        found[f"{name} interval"] = interval(clean, scores, fooled, rate, seed)
    return found


def _member_figures(clean: np.ndarray, found: strongest.Candidates) -> dict:
    """One member's images fooled, AUC over them, DARA at 5 % FPR and seconds."""
    fooling = found.scores[found.fooled]
    return {
        "fooled": int(found.fooled.sum()),
        "auroc": roc_auc(clean, fooling) if len(fooling) else None,
        "dara@5%": robust_accuracy(clean, found.scores, found.fooled, 0.05),
        "seconds": found.seconds,
    }


def interval(clean: np.ndarray, scores: np.ndarray, fooled: np.ndarray, rate: float, seed: int) -> list[float]:
    """The 95 % percentile bootstrap interval of the robust accuracy (clean and attacked images resampled)."""
    rng = np.random.default_rng(seed)
    values = [
        robust(clean[rng.integers(0, len(clean), len(clean))], scores[pick], fooled[pick], rate).mean()
        for pick in (rng.integers(0, len(scores), len(scores)) for _ in range(RESAMPLES))
    ]
    tail = (1 - LEVEL) / 2
    return [float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))]


def gradient_check(detector_score, images: torch.Tensor) -> dict:
    """The share of ``images`` on which the differentiable score's gradient is zero or not finite."""
    x = images.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(detector_score.score_tensor(x).sum(), x)
    size = grad.flatten(1).norm(dim=1)
    bad = ~torch.isfinite(size) | (size == 0)
    share = float(bad.double().mean())
    return {"flagged": share > GRADIENT_SHARE, "share": share, "limit": GRADIENT_SHARE}


def _combined(
    first: strongest.WorstCase, second: strongest.WorstCase, picked: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the lower-scoring fooling candidate of ``first`` (every image) and ``second`` (the
    images ``picked``): its scores and fooled flags."""
    scores, fooled = first.scores.copy(), first.fooled.copy()
    a = np.where(first.fooled[picked], first.scores[picked], np.inf)
    b = np.where(second.fooled, second.scores, np.inf)
    take_b = b < a
    scores[picked] = np.where(take_b, second.scores, first.scores[picked])
    fooled[picked] |= second.fooled
    return scores, fooled


@dataclass(frozen=True)
class _Attack:
    """What the members attack: the fitted detector, its record, its differentiable score, and the
    indices of the images attacked among the evaluation's."""

    detector: object
    record: dict
    score: object
    picked: np.ndarray


class Evaluation:
    """Runs the cells of an ``AdaptiveConfig`` on loaded inputs (``inputs.py`` of the command)."""

    def __init__(
        self, config: AdaptiveConfig, model, detectors_fitted: Callable, attacked, log, reference=None, store=None
    ):
        """``attacked``: the float images in [0, 1] and their labels; ``store``: a ``member_store.MemberStore``
        that keeps each member's candidates, or None."""
        self.config, self.model, self.fitted, self.log = config, model, detectors_fitted, log
        self.reference, self.store = reference, store
        self.images, self.labels = attacked
        self.clean: dict[tuple[str, int], np.ndarray] = {}  # (detector, seed) -> clean test scores
        self._fitted: dict[tuple[str, int], tuple] = {}  # (detector, seed) -> (detector, record)

    def detector(self, name: str, seed: int) -> tuple:
        """The fitted detector of ``name`` and ``seed`` and its record, loaded once."""
        if (name, seed) not in self._fitted:
            self._fitted[name, seed] = self.fitted(name, seed)
        return self._fitted[name, seed]

    def cell(self, name: str, seed: int, eps: float) -> tuple[Cell, strongest.WorstCase]:
        """One detector, seed and budget: attacks, worst case, figures and checks."""
        from advbench.attacks.eot import differentiable_score

        config = self.config
        detector, record = self.detector(name, seed)
        clean = self.clean_scores(name, seed)
        score = differentiable_score(detector)
        cell = Cell(name, seed, eps, config.norm, len(self.images), detector_record=record)
        self.log(f"{name}, seed {seed}, eps {eps:.6g} ({config.norm}): {len(self.images)} images")
        plain = self._plain(score, eps, detector, seed)
        cell.figures["plain"] = figures(clean, plain.scores, plain.fooled, seed)
        members = tuple(m for m in config.members if m in strongest.applicable(detector, self.reference))
        attack = _Attack(detector, record, score, np.arange(len(self.images)))
        found = self._members(attack, eps, members, config.steps, config.restarts, seed)
        worst = strongest.worst_case(found)
        cell.figures["worst"] = figures(clean, worst.scores, worst.fooled, seed)
        cell.wins = worst.wins()
        cell.members = {member: _member_figures(clean, c) for member, c in found.items()}
        self._checks(cell, attack, clean, worst, members)
        return cell, worst

    def clean_scores(self, name: str, seed: int) -> np.ndarray:
        """The detector's (fitted with ``seed``) scores of the clean images, computed once."""
        if (name, seed) not in self.clean:
            detector, _ = self.detector(name, seed)
            uint8 = np.round(self.images.cpu().numpy() * 255).astype(np.uint8)
            self.clean[name, seed] = np.asarray(detector.decision_function(uint8), dtype=np.float64)
        return self.clean[name, seed]

    def _plain(self, score, eps: float, detector, seed: int) -> strongest.Candidates:
        """Plain PGD (the ``pgd`` entry at this budget, 40 steps, cross-entropy only)."""
        from advbench.attacks.adaptive import Schedule, run_adaptive
        from advbench.attacks.runners import resolve_params

        start = time.perf_counter()
        params = resolve_params("pgd", {"eps": eps, "norm": self.config.norm, "steps": 40})
        adversarial, _ = run_adaptive(self.model, score, self.images, self.labels, params, Schedule((0.0,), seed=seed))
        return strongest.scored(self.model, detector, adversarial, self.labels, start)

    def _members(self, attack: _Attack, eps, members, steps, restarts, seed) -> dict:
        """The members' candidates for the images ``attack.picked``, kept in the store when there is one."""
        ensemble = strongest.Ensemble(eps, self.config.norm, members, steps, restarts, seed)
        picked = torch.from_numpy(attack.picked).to(self.images.device)
        keep = self.store.keeper(attack.record["detector_file"], attack.picked) if self.store else None
        return ensemble.run(
            self.model,
            attack.detector,
            (self.images[picked], self.labels[picked]),
            score=attack.score,
            reference=self.reference,
            log=self.log,
            keep=keep,
        )

    def _checks(self, cell: Cell, attack: _Attack, clean, worst, members) -> None:
        """The checks. Convergence and the unbounded budget attack only the images that count robust at
        5 % FPR after the bounded worst case: an image that fools the victim unflagged stays so under any
        further candidate, so the robust accuracy each check compares is the same as over every image."""
        config = self.config
        if "gradient" in config.checks:
            cell.checks["gradient"] = gradient_check(attack.score, self.images)
        winners = tuple(name for name in members if cell.wins.get(name)) or members
        still = np.flatnonzero(robust(clean, worst.scores, worst.fooled, 0.05))
        left = _Attack(attack.detector, attack.record, attack.score, still)
        if "convergence" in config.checks:
            more = cell.figures["worst"]["dara@5%"]
            if len(still):
                self.log(
                    f"  check: {', '.join(winners)} with twice the steps and one more restart, {len(still)} images"
                )
                found = self._members(left, cell.eps, winners, 2 * config.steps, config.restarts + 1, cell.seed)
                scores, fooled = _combined(worst, strongest.worst_case(found), still)
                more = robust_accuracy(clean, scores, fooled, 0.05)
            drop = cell.figures["worst"]["dara@5%"] - more
            cell.checks["convergence"] = {
                "flagged": drop > CONVERGENCE_MARGIN,
                "dara@5%": more,
                "margin": CONVERGENCE_MARGIN,
                "members": list(winners),
                "images": len(still),
            }
        if "unbounded" in config.checks:
            cell.checks["unbounded"] = self._unbounded(left, clean, worst, winners, members, cell.seed)

    def _unbounded(self, left: _Attack, clean, worst, winners, members, seed) -> dict:
        """The unbounded check on the images ``left`` robust: the bounded run's winners first, then, while
        DARA stays above 0, the others (a bounded candidate is one of the unbounded budget too)."""
        config = self.config
        budget = unbounded_budget(config.norm, tuple(self.images.shape[1:]))
        found: dict = {}
        value = robust_accuracy(clean, worst.scores, worst.fooled, 0.05)
        for group in (winners, tuple(name for name in members if name not in winners)):
            if not group or value == 0:
                continue
            self.log(
                f"  check: unbounded budget ({config.norm} {budget:.4g}): {', '.join(group)}, {len(left.picked)} images"
            )
            found |= self._members(left, budget, group, config.steps, config.restarts, seed)
            scores, fooled = _combined(worst, strongest.worst_case(found), left.picked)
            value = robust_accuracy(clean, scores, fooled, 0.05)
        return {
            "flagged": value > 0,
            "dara@5%": value,
            "eps": budget,
            "members": list(found),
            "images": len(left.picked),
        }
