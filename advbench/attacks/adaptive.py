"""Detector-aware PGD: fool the victim and keep a named detector's anomaly score low at once.

A detector of adversarial examples is evaluated only once it has faced an attacker who knows it
(Carlini and Wagner 2017; Tramèr et al. 2020). This attack is the plain ``pgd`` (foolbox's PGD
loop, random start, projection and step, same budget and steps) on another loss: it maximizes

    CE(victim(x'), y) - lambda * (score(x') - mean) / std

where ``score`` is the detector's differentiable score (``score_tensor``) and ``mean``/``std``
are those of its training scores (``decision_scores_``), so that one ``lambda`` grid serves every
detector whatever the scale of its score. Under the default objective, ``fool-first``, an image's
score term counts only at steps where the victim already misclassifies it (a mask recomputed at
every step, no gradient through it): the cross-entropy alone moves it across the boundary, and
from there both terms push. The ``joint`` objective weighs the score from the first step. Against
a detector whose score is lowest where the victim is sure of the true class (MSP, deep
Mahalanobis, Feature Squeezing) the joint loss pulls back to that class, so that no candidate
with ``lambda > 0`` may fool the victim (``reports/gtsrb-stop/adaptive/victim-aware/`` measures
it); ``fool-first`` does not. The attack runs once per ``lambda`` of the grid (and per
restart, each with its own random start); for each image it keeps, among the candidates that
fool the victim once rounded to 8 bits, the one the detector scores lowest (the search over
``lambda`` per image of Carlini and Wagner, on a grid). An image with no such candidate keeps the
``lambda = 0`` one, which the 8-bit re-check then counts as a failure. With the grid ``(0,)`` and
one restart the attack is the plain ``pgd``, image for image (a test checks it).

The detector is fitted here on the benchmark's clean training images with a stated seed, the
parameters ``advbench run`` resolves for it on that benchmark (``detectors.params``) and one CPU
thread (as ``advbench run`` fits a pair, so that the run's detector of that seed is the one
attacked), and cached beside the output file (``detector-<name>-<key>.pt``, the key made of its
name, parameters, seed and the training images' hash). A victim-aware detector (MagNet,
deep Mahalanobis, KD, MSP, energy, Feature Squeezing through its straight-through gradient, BU
through its fixed dropout masks) is fitted with the attacked victim and the reference sample of its
training data (``datasets.reference``), whose sha256s join the key. A detector with no
differentiable score (OC-SVM, KDE, IF, Mahalanobis, PyOD models) cannot be named: name a
differentiable one (DCAE, say) instead; every detector of a run is scored on every set, so the
others' AUCs on it are transfer numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from advbench.attacks import ADAPTIVE_FAMILY, ADAPTIVE_OBJECTIVES, DEFAULT_LAMBDAS
from advbench.attacks.backends import foolbox_batch, pgd_class
from advbench.attacks.runners import check_backend, in_batches
from advbench.errors import AdvbenchError
from advbench.fileio import atomic_path
from advbench.torch_utils import seed_everything


def set_name(variant: str, detector: str, seed: int) -> str:
    """``pgd@eps=16/255`` against ``dcae`` fitted with seed 1 -> ``pgd-adaptive-dcae@eps=16/255,seed=1``
    (seed 0 is left out, as a default)."""
    _, _, params = variant.partition("@")
    words = [word for word in params.split(",") if word] + ([f"seed={seed}"] if seed else [])
    head = f"{ADAPTIVE_FAMILY}-{detector}"
    return f"{head}@{','.join(sorted(words))}" if words else head


def check_detectors(names: list[str]) -> list[str]:
    """The ``--adaptive`` names, checked: known detectors with a differentiable score; AdvbenchError otherwise."""
    from advbench import detectors

    if not names:
        raise AdvbenchError("--adaptive: no detector given")
    for name in names:
        if name not in detectors.names():
            raise AdvbenchError(f"--adaptive: unknown detector {name!r} (see `advbench list`)")
        if not detectors.create(name).differentiable:
            usable = [n for n in detectors.names() if not n.startswith("pyod:") and detectors.create(n).differentiable]
            raise AdvbenchError(
                f"--adaptive: {name} has no differentiable score; attack a surrogate instead ({', '.join(usable)}): "
                "every detector of a run is scored on its sets"
            )
    return names


@dataclass(frozen=True)
class DetectorCache:
    """Where the attacked detectors are fitted: ``folder`` caches them, ``benchmark`` names the data
    whose defaults they take, ``device`` is theirs, ``log`` says whether one is fitted or reused."""

    folder: Path
    benchmark: str
    device: torch.device
    log: Callable[[str], None] = lambda message: None

    def fitted(self, name: str, seed: int, train_images: np.ndarray, given: dict | None = None):
        """The detector ``name`` with the parameters ``advbench run`` gives it on the benchmark's data
        (``detectors.params``: its defaults, the benchmark's, ``random_state=seed``, the device), fitted
        on the clean training images (uint8) and, for a victim-aware detector, ``given`` (the victim and
        the reference data it ``needs``), from the cache when it is there; returns it and its record."""
        from advbench import detectors
        from advbench.detectors.params import resolve

        given = given or {}
        folder, device, log = self.folder, self.device, self.log
        resolved = resolve(name, self.benchmark, seed=seed, device=str(device))
        params = resolved.params
        detector = detectors.create(name, **params)
        uses = {key: value.sha256 for key, value in given.items()}
        data_sha = hashlib.sha256(np.ascontiguousarray(train_images).tobytes()).hexdigest()
        words = [name, params, seed, data_sha] + ([uses] if uses else [])
        key = hashlib.sha256(json.dumps(words, sort_keys=True, default=str).encode()).hexdigest()[:16]
        path = folder / f"detector-{name}-{key}.pt"
        if path.is_file():
            log(f"adaptive: reusing fitted {name} (seed {seed}) from {path}")
            detector = torch.load(path, map_location=device, weights_only=False)
        else:
            log(f"adaptive: fitting {name} (seed {seed}) on {len(train_images)} clean training images")
            threads = torch.get_num_threads()
            # as `advbench run` fits a pair (--threads 1): the same detector, bit for bit on CPU
            torch.set_num_threads(1)
            try:
                with threadpool_limits(limits=1):
                    detector.fit(train_images, **given)
            finally:
                torch.set_num_threads(threads)
            with atomic_path(path) as tmp:
                torch.save(detector, tmp)
        record = {
            "detector": name,
            "detector_params": params,
            "detector_param_sources": resolved.sources,
            "detector_seed": seed,
            "detector_file": path.name,
            "train_sha256": data_sha,
        } | ({"uses": uses} if uses else {})
        return detector, record


def _attack(params: dict, detector, lam: float, mean: float, std: float, objective: str = ADAPTIVE_OBJECTIVES[0]):
    """foolbox's L-inf (or L2) PGD whose loss subtracts ``lam`` times the standardized score, for the
    images the victim misclassifies at that step (``fool-first``) or for all (``joint``)."""
    import eagerpy as ep

    class DetectorAwarePGD(pgd_class(params)):
        def get_loss_fn(self, model, labels):
            cross_entropy = super().get_loss_fn(model, labels)
            if lam == 0:
                return cross_entropy

            def joint(inputs):
                score = (detector.score_tensor(inputs.raw) - mean) / std
                return cross_entropy(inputs) - lam * ep.astensor(score.sum())

            def fool_first(inputs):
                logits = model(inputs)
                score = (detector.score_tensor(inputs.raw) - mean) / std
                fooled = (logits.raw.argmax(1) != labels.raw).to(score.dtype)
                return ep.crossentropy(logits, labels).sum() - lam * ep.astensor((score * fooled).sum())

            return joint if objective == "joint" else fool_first

    return DetectorAwarePGD(abs_stepsize=params["alpha"], steps=params["steps"], random_start=params["random_start"])


@dataclass(frozen=True)
class Schedule:
    """How detector-aware PGD searches per image: the weights of the standardized score it tries, the
    random starts per weight (restart ``r`` seeded with ``seed + r``), and when the score counts
    (``objective``, one of ``ADAPTIVE_OBJECTIVES``)."""

    lambdas: tuple[float, ...] = DEFAULT_LAMBDAS
    restarts: int = 1
    objective: str = ADAPTIVE_OBJECTIVES[0]
    seed: int = 0


def run_adaptive(
    model: nn.Module,
    detector,
    images: torch.Tensor,
    labels: torch.Tensor,
    params: dict,
    schedule: Schedule = Schedule(),
    *,
    progress: bool = False,
) -> tuple[torch.Tensor, np.ndarray]:
    """Attack float ``images`` (``N x C x H x W`` in [0, 1]) against the victim ``model`` and the fitted
    ``detector``; ``params`` are the resolved ``pgd`` parameters, ``schedule`` the weights, starts
    and objective. Returns the 8-bit-rounded images chosen per image (float) and the ``lambda`` each
    came from (NaN where no candidate fooled the victim). Restart ``r`` seeds its random start with
    ``schedule.seed + r``. An image that no candidate makes fool the victim keeps the smallest
    ``lambda``'s first candidate."""
    from tqdm import tqdm

    check_backend("pgd", params)
    model.eval()
    scores = np.asarray(detector.decision_scores_, dtype=np.float64)
    mean, std = float(scores.mean()), float(max(scores.std(), 1e-12))
    n = images.shape[0]
    best = images.clone()
    best_score = torch.full((n,), float("inf"), dtype=torch.float64, device=images.device)
    chosen = np.full(n, np.nan)
    fallback = None
    candidates = [(lam, restart) for restart in range(schedule.restarts) for lam in sorted(schedule.lambdas)]
    for lam, restart in tqdm(candidates, desc="pgd-adaptive", unit="run", disable=not progress, leave=False):
        seed_everything(schedule.seed + restart)
        attack = foolbox_batch(model, _attack(params, detector, lam, mean, std, schedule.objective), params["eps"])
        adversarial = in_batches(attack, images, labels, params["batch_size"], desc=f"lambda {lam:g}", rounded=True)
        if fallback is None:
            fallback = adversarial  # the smallest lambda's (0 in any grid ``generate`` accepts), first start
        with torch.no_grad():
            fooled = model(adversarial).argmax(1) != labels
            score = detector.score_tensor(adversarial).detach().double()
        better = fooled & (score < best_score)
        best[better], best_score[better] = adversarial[better], score[better]
        chosen[better.cpu().numpy()] = lam
    missing = torch.isinf(best_score)
    best[missing] = fallback[missing]
    return best, chosen


class FoolFirstPGD:
    """``run_adaptive`` with the ``fool-first`` objective and the lambda grid, as a member of the
    ensemble of ``strongest.py``: the ``pgd`` entry's parameters at budget ``eps`` in ``norm`` with
    ``steps`` steps (the ensemble gives 40, as the published adaptive sets), step size ``eps / 4``."""

    name = "fool-first-pgd"

    def __init__(self, model: nn.Module, detector, *, eps: float, norm="linf", steps=40, restarts=1, seed=0):
        from advbench.attacks.runners import resolve_params

        self.model, self.detector, self.restarts, self.seed = model, detector, restarts, seed
        self.params = resolve_params("pgd", {"eps": eps, "norm": norm, "steps": steps})

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        adversarial, _ = run_adaptive(
            self.model, self.detector, images, labels, self.params, Schedule(restarts=self.restarts, seed=self.seed)
        )
        return adversarial
