"""Build the benchmark: victim (cached), attacks on the correctly classified normal test images, file.

``generate`` is what ``advbench generate-attacks`` runs once GTSRB is loaded; it takes the
loaded data so that tests can pass a small synthetic set with the same fields.
"""

from __future__ import annotations

import datetime
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from advbench import __version__
from advbench.attacks import ADAPTIVE_FAMILY, DEFAULT_ATTACKS, adaptive
from advbench.attacks.adaptive import DEFAULT_LAMBDAS
from advbench.attacks.quantize import keep_adversarial
from advbench.attacks.runners import check_backend, library, run_attack
from advbench.attacks.variants import parse_attacks, parse_sweep, resolve_variants
from advbench.attacks.victim import (
    VictimConfig,
    accuracy,
    cache_key,
    load_checkpoint,
    predict,
    save_checkpoint,
    to_float,
    train_victim,
)
from advbench.datasets.benchmark_file import AttackSet, Benchmark, write_benchmark
from advbench.datasets.gtsrb import normal_split
from advbench.errors import AdvbenchError
from advbench.fileio import sha256_file
from advbench.provenance import versions
from advbench.torch_utils import resolve_device


@dataclass
class GenerateConfig:
    """Everything ``generate`` needs besides the data (defaults as on the command line)."""

    normal_class: int = 14
    attacks: tuple[str, ...] = DEFAULT_ATTACKS  # specs as --attacks takes them ("fgsm@eps=4/255")
    sweeps: tuple[str, ...] = ()  # specs as --sweep takes them ("fgsm.eps=2/255,4/255")
    params: dict[str, dict] = field(default_factory=dict)  # attack family -> overrides of its registry defaults
    victim: VictimConfig = field(default_factory=VictimConfig)
    victim_path: Path | None = None
    seed: int = 0
    limit: int | None = None
    device: str = "auto"
    adaptive: tuple[str, ...] = ()  # detectors to attack with detector-aware PGD (adaptive.py)
    adaptive_seeds: tuple[int, ...] = (0,)  # one fitted detector, and one attack set, per seed
    adaptive_lambdas: tuple[float, ...] = DEFAULT_LAMBDAS
    adaptive_restarts: int = 1


def victim_cache_path(out: Path, key: str) -> Path:
    """Where the trained victim is cached: in the output's folder, ``victim-<key>.pt``, the key made of
    the data, the victim settings and the seed only, so every file built there from the same data
    and victim settings (sweeps, variants, other ``--out`` names) reuses it."""
    return out.with_name(f"victim-{key}.pt")


def attack_plan(config: GenerateConfig) -> dict[str, tuple[str, dict]]:
    """``{name: (family, params)}`` of every variant that ``config`` asks for (``resolve_variants``)."""
    variants = [variant for spec in config.attacks for variant in parse_attacks(spec)]
    variants += [variant for spec in config.sweeps for variant in parse_sweep(spec)]
    return resolve_variants(variants, config.params)


def _victim(data, out: Path, config: GenerateConfig, device: torch.device, progress: bool, log: Callable[[str], None]):
    """Load ``--victim``, or the cached checkpoint, or train and cache one; return model and provenance."""
    if config.victim_path is not None:
        model, victim_config, history, _ = load_checkpoint(config.victim_path, device)
        source = {"checkpoint": str(config.victim_path), "trained_here": False}
        path = Path(config.victim_path)
    else:
        key = cache_key(data.content_sha256, config.victim, config.seed)
        path = victim_cache_path(out, key)
        if path.is_file():
            log(f"victim: reusing cached checkpoint {path}")
            model, victim_config, history, _ = load_checkpoint(path, device)
            trained = False
        else:
            log(f"victim: training on {len(data.train.labels)} images ({config.victim.epochs} epochs, device {device})")
            model, history = train_victim(
                data.train.images,
                data.train.labels,
                config.victim,
                seed=config.seed,
                device=device,
                progress=progress,
                log=log,
            )
            save_checkpoint(
                path, model, config.victim, history, {"data_sha256": data.content_sha256, "seed": config.seed}
            )
            victim_config, trained = config.victim, True
        source = {"checkpoint": path.name, "cache_key": key, "trained_here": trained}
    for param in model.parameters():
        param.requires_grad_(False)  # attacks need input gradients only
    info = source | {
        "config": asdict(victim_config),
        "history": history,
        "checkpoint_sha256": sha256_file(path),
        "train_seconds": float(sum(h.get("seconds", 0.0) for h in history)),
    }
    return model, info


def _attack_set(outcome, eligible: np.ndarray, attrs: dict) -> AttackSet:
    """The kept images of one attack (``keep_adversarial``'s outcome) with their counts and ``attrs``."""
    counts = {
        key: getattr(outcome, key) for key in ("attempted", "fooled_before_rounding", "succeeded", "kept", "nonfinite")
    }
    return AttackSet(
        images=outcome.images,
        source_index=eligible[outcome.rows],
        predicted_label=outcome.predicted_label,
        l2=outcome.l2,
        linf=outcome.linf,
        attrs={"family": attrs["family"], "params": attrs["params"], **counts, **attrs},
    )


def check_adaptive(config: GenerateConfig, planned: dict) -> None:
    """AdvbenchError for ``--adaptive`` options that cannot run (checked before any work)."""
    adaptive.check_detectors(list(config.adaptive))
    if not any(family == "pgd" for family, _ in planned.values()):
        raise AdvbenchError('--adaptive: needs a pgd variant in --attacks (e.g. --attacks "pgd@eps=16/255")')
    lambdas = config.adaptive_lambdas
    if any(not math.isfinite(lam) or lam < 0 for lam in lambdas) or 0.0 not in lambdas:
        raise AdvbenchError(
            f"--adaptive-lambdas: need finite values >= 0 that include 0, got {','.join(map(str, lambdas))}"
        )


def _victim_inputs(data, model, victim_info: dict) -> dict:
    """What a victim-aware detector of ``--adaptive`` is fitted with: the victim and the reference sample of
    its training data (``datasets.reference``), as ``advbench run`` gives them."""
    from advbench.datasets.reference import stratified_sample
    from advbench.detectors.victim_access import Victim

    return {
        "victim": Victim(model, victim_info["checkpoint_sha256"]),
        "reference": stratified_sample(data.train.images, data.train.labels, source="GTSRB training split"),
    }


def _adaptive_sets(
    model,
    given: dict,
    split,
    eligible,
    x,
    y,
    y_np,
    planned,
    out: Path,
    config: GenerateConfig,
    device,
    progress: bool,
    log: Callable[[str], None],
) -> dict[str, AttackSet]:
    """One detector-aware set per pgd variant, ``--adaptive`` detector and seed (``adaptive.py``); ``given``:
    the victim and reference data for victim-aware detectors (``_victim_inputs``)."""
    from advbench import detectors

    sets = {}
    for variant, (family, attack_params) in planned.items():
        if family != "pgd":
            continue
        for name in config.adaptive:
            for seed in config.adaptive_seeds:
                uses = {key: given[key] for key in detectors.needs(detectors.create(name))}
                detector, record = adaptive.fitted_detector(name, seed, split.train, out.parent, device, log, uses)
                start = time.perf_counter()
                adversarial, chosen = adaptive.run_adaptive(
                    model,
                    detector,
                    x,
                    y,
                    attack_params,
                    lambdas=config.adaptive_lambdas,
                    restarts=config.adaptive_restarts,
                    seed=config.seed,
                    progress=progress,
                )
                outcome = keep_adversarial(model, split.test[eligible], adversarial, y_np)
                lambdas = [float(value) for value in chosen[outcome.rows]]
                sets[adaptive.set_name(variant, name, seed)] = _attack_set(
                    outcome,
                    eligible,
                    {
                        "family": ADAPTIVE_FAMILY,
                        "params": attack_params,
                        "seconds": time.perf_counter() - start,
                        "library": "foolbox",
                        "adaptive": record
                        | {
                            "plain": variant,
                            "lambdas": list(config.adaptive_lambdas),
                            "restarts": config.adaptive_restarts,
                            "chosen_lambda_counts": {str(lam): lambdas.count(lam) for lam in sorted(set(lambdas))},
                        },
                    },
                )
    return sets


def generate(
    data,
    out: str | Path,
    config: GenerateConfig,
    *,
    progress: bool = False,
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> Benchmark:
    """Train or load the victim, run the attacks, write ``out`` atomically and return what was written.

    ``data`` is a loaded GTSRB (``advbench.datasets.gtsrb.GTSRB``): train/test splits,
    ``csv_sha256``, ``fingerprint`` and ``content_sha256``.
    """
    out = Path(out)
    planned = attack_plan(config)
    for family, attack_params in planned.values():
        check_backend(family, attack_params)  # before the victim is trained
    if config.adaptive:
        check_adaptive(config, planned)
    device = resolve_device(config.device)
    split = normal_split(data, config.normal_class)

    model, victim_info = _victim(data, out, config, device, progress, log)
    test_accuracy = accuracy(model, data.test.images, data.test.labels, device)
    log(f"victim: test accuracy {test_accuracy:.4f} on {len(data.test.labels)} images")

    clean = to_float(split.test, device)
    correct = predict(model, clean).cpu().numpy() == config.normal_class
    eligible = np.flatnonzero(correct)
    if config.limit is not None:
        eligible = eligible[: config.limit]
    log(
        f"attacks: {int(correct.sum())} of {len(correct)} class-{config.normal_class} test images classified "
        f"correctly; attacking {len(eligible)}"
    )
    x = clean[torch.from_numpy(eligible).to(device)]
    y = torch.full((len(eligible),), config.normal_class, dtype=torch.long, device=device)
    y_np = np.full(len(eligible), config.normal_class, dtype=np.int64)

    attack_sets = {}
    for name, (family, attack_params) in planned.items():
        start = time.perf_counter()
        adversarial = run_attack(family, model, x, y, attack_params, seed=config.seed, progress=progress)
        outcome = keep_adversarial(model, split.test[eligible], adversarial, y_np)
        seconds = time.perf_counter() - start
        attack_sets[name] = _attack_set(
            outcome,
            eligible,
            {
                "family": family,
                "params": attack_params,
                "seconds": seconds,
                "library": library(attack_params),
            },
        )

    if config.adaptive:
        attack_sets.update(
            _adaptive_sets(
                model,
                _victim_inputs(data, model, victim_info),
                split,
                eligible,
                x,
                y,
                y_np,
                planned,
                out,
                config,
                device,
                progress,
                log,
            )
        )

    attrs = {
        "normal_class": config.normal_class,
        "seed": config.seed,
        "limit": config.limit,
        "device": str(device),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "advbench_version": __version__,
        "versions": versions(),
        "victim_test_accuracy": test_accuracy,
        "victim": victim_info,
        "eligible": int(correct.sum()),
        "gtsrb_fingerprint": data.fingerprint,
        "gtsrb_content_sha256": data.content_sha256,
        "gtsrb_layout": getattr(data, "layout", "unknown"),
        "csv_sha256": dict(data.csv_sha256),
        "normal_test_gtsrb_index": split.test_index.tolist(),
    }
    benchmark = Benchmark(split.train, split.test, attack_sets, attrs)
    benchmark.sha256 = write_benchmark(out, benchmark)
    return benchmark
