"""Build the benchmark: victim (cached), attacks on the correctly classified normal test images, file.

``generate`` is what ``advbench generate-attacks`` runs once the benchmark's labelled images are
loaded; it takes the loaded data so that tests can pass a small synthetic set with the same fields.

The normal images are one class's (``normal_class`` a class id: every training and test image of
that class; the attacks start from the test images the victim classifies correctly, the first
``limit`` of them) or every class's (``normal_class`` ``all``, ``datasets.allclasses``: seeded,
class-stratified samples of the training split and of the correctly classified test images, the
attacks starting from all of the latter). The victim comes from ``--victim`` (a checkpoint), from
``--victim-from`` (the victim stored in a benchmark file), from the package (the shipped victim of
the benchmark, when this data, the victim settings and the seed are those it was trained with:
``attacks.shipped``; ``train_victim`` trains one anyway), or is trained (cached beside the output
by a content key); it is stored in the file it attacks (``victim.victim_record``). Under ``all``,
``attack_train`` (``--attack-train N``) also runs every attack on ``N`` correctly classified
training images outside the detectors' training sample, stored as the file's training attack sets
(``benchmark_file.TrainingAttacks``), what supervised detectors fit on. Before the
victim, ``generate`` checks that ``out`` can be written (not a folder, in a folder it can write:
``advbench.outputs``), so a bad output fails before any attack rather than after all of them.
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
from advbench.attacks import (
    ADAPTIVE_FAMILY,
    ADAPTIVE_OBJECTIVES,
    DEFAULT_ATTACKS,
    DEFAULT_LAMBDAS,
    adaptive,
    resume,
    shipped,
)
from advbench.attacks.quantize import keep_adversarial
from advbench.attacks.runners import check_backend, library, run_attack
from advbench.attacks.variants import parse_attacks, parse_sweep, resolve_variants
from advbench.attacks.victim import (
    VictimConfig,
    arrays_sha256,
    cache_key,
    load_checkpoint,
    load_file_victim,
    predict,
    save_checkpoint,
    state_arrays,
    to_float,
    train_victim,
    victim_record,
)
from advbench.datasets import allclasses, registry
from advbench.datasets.benchmark_file import AttackSet, BenchmarkContents, TrainingAttacks, write_benchmark
from advbench.errors import AdvbenchError, DataError
from advbench.fileio import sha256_file
from advbench.outputs import check_file_out
from advbench.provenance import versions
from advbench.torch_utils import resolve_device


@dataclass
class GenerateConfig:
    """Everything ``generate`` needs besides the data (defaults as on the command line)."""

    benchmark: str = registry.DEFAULT
    normal_class: int | str = 14  # a class id, or "all" (datasets.allclasses)
    train_size: int = allclasses.DEFAULT_TRAIN_SIZE  # training sample under "all"
    attack_train: int = 0  # under "all": training images outside the sample to attack as well (supervised detectors)
    attacks: tuple[str, ...] = DEFAULT_ATTACKS  # specs as --attacks takes them ("fgsm@eps=4/255")
    sweeps: tuple[str, ...] = ()  # specs as --sweep takes them ("fgsm.eps=2/255,4/255")
    params: dict[str, dict] = field(default_factory=dict)  # attack family -> overrides of its registry defaults
    victim: VictimConfig = field(default_factory=VictimConfig)
    victim_path: Path | None = None  # --victim: a checkpoint
    victim_from: Path | None = None  # --victim-from: a benchmark file that carries its victim
    train_victim: bool = False  # --train-victim: train (or take from the cache) even when a shipped victim fits
    seed: int = 0
    limit: int | None = None
    device: str = "auto"
    adaptive: tuple[str, ...] = ()  # detectors to attack with detector-aware PGD (adaptive.py)
    adaptive_seeds: tuple[int, ...] = (0,)  # one fitted detector, and one attack set, per seed
    adaptive_lambdas: tuple[float, ...] = DEFAULT_LAMBDAS
    adaptive_restarts: int = 1
    adaptive_objective: str = ADAPTIVE_OBJECTIVES[0]


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


def _check_fits(model, benchmark: registry.Benchmark, image_shape: tuple, where: str) -> None:
    """AdvbenchError naming ``where`` unless the victim takes ``image_shape`` images and has the benchmark's classes."""
    arch = model.architecture
    if arch.image_shape != tuple(image_shape) or arch.num_classes != benchmark.num_classes:
        raise AdvbenchError(
            f"{where}: its victim takes {'x'.join(map(str, arch.image_shape))} images of {arch.num_classes} classes; "
            f"{benchmark.label} has {'x'.join(map(str, image_shape))} images of {benchmark.num_classes} classes"
        )


def _file_victim(path: Path, benchmark: registry.Benchmark, image_shape: tuple, device):
    """``--victim-from``: the victim of a benchmark file of the same benchmark and image shape."""
    model, victim_config, history, meta = load_file_victim(path, device)
    if meta["benchmark"] != benchmark.name or tuple(meta["image_shape"]) != tuple(image_shape):
        raise AdvbenchError(
            f"--victim-from {path}: a {meta['benchmark']} file of {'x'.join(map(str, meta['image_shape']))} images, "
            f"not {benchmark.name} ({'x'.join(map(str, image_shape))})"
        )
    # no checkpoint file: the stored victim's own sha256 identifies its weights
    source = {"from_file": path.name, "from_file_sha256": sha256_file(path), "checkpoint_sha256": None}
    return model, victim_config, history, source


def _shipped(config: GenerateConfig, key: str, data_sha256: str, device, log):
    """The shipped victim of the benchmark when its cache key is ``key`` (the same data content, settings and
    seed), with its provenance; None (and why, in the log) otherwise or under ``train_victim``."""
    if config.train_victim:
        return None
    found = shipped.find(config.benchmark, key)
    if found is None:
        log(f"victim: not the shipped one: {shipped.mismatch(config.benchmark, data_sha256)}")
        return None
    path = found.checked_path()
    log(
        f"victim: the shipped {config.benchmark} victim ({found.file}, test accuracy {found.test_accuracy:.2%}): "
        "this data, victim settings and seed are those it was trained with (--train-victim trains a new one)"
    )
    model, victim_config, history, _ = load_checkpoint(path, device)
    source = {"checkpoint": f"shipped:{found.file}", "cache_key": key, "checkpoint_sha256": found.sha256}
    return model, victim_config, history, source | {"trained_here": False}


def _cached_or_trained(data, out: Path, config: GenerateConfig, num_classes: int, device, progress: bool, log):
    """The shipped victim when it fits, else the checkpoint cached beside ``out`` for this data, victim
    settings and seed, else a victim trained now and cached there."""
    key = cache_key(data.content_sha256, config.victim, config.seed)
    found = _shipped(config, key, data.content_sha256, device, log)
    if found is not None:
        return found
    path = victim_cache_path(out, key)
    if path.is_file():
        log(f"victim: reusing cached checkpoint {path}")
        model, victim_config, history, _ = load_checkpoint(path, device)
        trained = False
    else:
        log(f"victim: training on {len(data.train.labels)} images ({config.victim.epochs} epochs, device {device})")
        model, history = train_victim(
            data.train,
            config.victim,
            num_classes=num_classes,
            seed=config.seed,
            device=device,
            progress=progress,
            log=log,
        )
        save_checkpoint(path, model, config.victim, history, {"data_sha256": data.content_sha256, "seed": config.seed})
        victim_config, trained = config.victim, True
    source = {"checkpoint": path.name, "cache_key": key, "checkpoint_sha256": sha256_file(path)}
    return model, victim_config, history, source | {"trained_here": trained}


def _victim(data, out: Path, config: GenerateConfig, device: torch.device, progress: bool, log: Callable[[str], None]):
    """Load ``--victim-from`` or ``--victim``, or the cached checkpoint, or train and cache one; return
    the model, its training settings and history, and provenance."""
    benchmark = registry.get(config.benchmark)
    image_shape = data.test.images.shape[1:]
    if config.victim_from is not None:
        model, victim_config, history, source = _file_victim(Path(config.victim_from), benchmark, image_shape, device)
    elif config.victim_path is not None:
        model, victim_config, history, _ = load_checkpoint(config.victim_path, device)
        _check_fits(model, benchmark, image_shape, f"--victim {config.victim_path}")
        source = {"checkpoint": str(config.victim_path), "checkpoint_sha256": sha256_file(config.victim_path)}
    else:
        model, victim_config, history, source = _cached_or_trained(
            data, out, config, benchmark.num_classes, device, progress, log
        )
    for param in model.parameters():
        param.requires_grad_(False)  # attacks need input gradients only
    info = (
        {"trained_here": False}
        | source
        | {
            "config": asdict(victim_config),
            "history": history,
            "train_seconds": float(sum(h.get("seconds", 0.0) for h in history)),
        }
    )
    return model, victim_config, history, info


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


def _adaptive_sets(session: _Session, targets: _Targets, given: dict, planned: dict) -> dict[str, AttackSet]:
    """One detector-aware set per pgd variant, ``--adaptive`` detector and seed (``adaptive.py``); ``given``:
    the victim and reference data for victim-aware detectors (``_victim_inputs``)."""
    from advbench import detectors

    config, model = session.config, session.model
    cache = adaptive.DetectorCache(session.out.parent, config.benchmark, session.device, session.log)
    schedule = adaptive.Schedule(
        config.adaptive_lambdas, config.adaptive_restarts, config.adaptive_objective, config.seed
    )
    sets = {}
    for variant, (family, attack_params) in planned.items():
        if family != "pgd":
            continue
        for name in config.adaptive:
            for seed in config.adaptive_seeds:
                uses = {key: given[key] for key in detectors.needs(detectors.create(name))}
                detector, record = cache.fitted(name, seed, targets.split.train, uses)
                start = time.perf_counter()
                adversarial, chosen = adaptive.run_adaptive(
                    model,
                    detector,
                    targets.x,
                    targets.y,
                    attack_params,
                    schedule,
                    progress=session.progress,
                )
                outcome = keep_adversarial(model, targets.images, adversarial, targets.labels)
                lambdas = [float(value) for value in chosen[outcome.rows]]
                sets[adaptive.set_name(variant, name, seed)] = _attack_set(
                    outcome,
                    targets.eligible,
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
                            "objective": config.adaptive_objective,
                            "chosen_lambda_counts": {str(lam): lambdas.count(lam) for lam in sorted(set(lambdas))},
                        },
                    },
                )
    return sets


def _budget_sources(benchmark: registry.Benchmark, planned: dict) -> dict[str, str]:
    """The sources of the benchmark's attack values (``registry.Benchmark.attack_sources``) for each family of
    which a planned set uses those values."""
    return {
        family: benchmark.attack_sources[family]
        for family, params in planned.values()
        if family in benchmark.attack_sources
        and all(params[key] == value for key, value in benchmark.attack_params[family].items())
    }


@dataclass(frozen=True)
class NormalImages:
    """The normal images of a benchmark file: their rows in the official splits, images and labels."""

    train_index: np.ndarray
    test_index: np.ndarray
    train: np.ndarray
    test: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray

    @classmethod
    def of(cls, data, train_index: np.ndarray, test_index: np.ndarray, attacked=None) -> NormalImages:
        """The rows ``train_index`` of the training split and ``test_index`` of ``attacked`` (the split the
        attacks start from: the test split, or the training split for the training attack sets)."""
        attacked = data.test if attacked is None else attacked
        return cls(
            train_index,
            test_index,
            data.train.images[train_index],
            attacked.images[test_index],
            data.train.labels[train_index].astype(np.int64),
            attacked.labels[test_index].astype(np.int64),
        )


def _candidate_rows(data, config: GenerateConfig, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Before the victim: the training rows of the normal images and the test rows the attacked ones
    come from (one class: its rows; ``all``: the training sample, every test row). AdvbenchError
    for a class without images or a ``limit`` larger than those test rows."""
    if config.normal_class == allclasses.ALL:
        train_index = allclasses.stratified_rows(data.train.labels, config.train_size, config.seed, "--train-size")
        test_index = np.arange(len(data.test.labels))
    else:
        train_index = np.flatnonzero(data.train.labels == config.normal_class)
        test_index = np.flatnonzero(data.test.labels == config.normal_class)
        if train_index.size == 0 or test_index.size == 0:
            split = "training" if train_index.size == 0 else "test"
            raise DataError(f"--normal-class {config.normal_class}: no images of this class in the {split} split")
    if limit is not None and limit > len(test_index):
        raise AdvbenchError(f"--limit {limit}: there are only {len(test_index)} test images to attack")
    return train_index, test_index


@dataclass(frozen=True)
class _Session:
    """What the steps of ``generate`` share once the victim is loaded."""

    model: torch.nn.Module
    config: GenerateConfig
    out: Path
    device: torch.device
    progress: bool
    log: Callable[[str], None]


@dataclass(frozen=True)
class _Targets:
    """The file's normal images and the attacked ones among their test images: ``eligible`` their rows,
    ``x`` and ``y`` the images and labels on the device; ``correct`` how many test images (of the
    normal class, or of every class) the victim classifies correctly."""

    split: NormalImages
    eligible: np.ndarray
    x: torch.Tensor
    y: torch.Tensor
    correct: int

    @property
    def images(self) -> np.ndarray:
        return self.split.test[self.eligible]

    @property
    def labels(self) -> np.ndarray:
        return self.split.test_labels[self.eligible]


def _targets(session: _Session, data, rows: tuple[np.ndarray, np.ndarray], limit: int | None, predicted) -> _Targets:
    """The images the attacks start from: every correctly classified test image of the sample under
    ``all`` (``predicted`` the victim's labels of the test split), else the first ``limit`` correctly
    classified test images of the normal class."""
    config, device = session.config, session.device
    train_index, test_index = rows
    if config.normal_class == allclasses.ALL:
        correct = predicted == data.test.labels
        split = NormalImages.of(data, train_index, allclasses.test_rows(data.test.labels, correct, limit, config.seed))
        clean = to_float(split.test, device)
        eligible = np.arange(len(split.test))
    else:
        split = NormalImages.of(data, train_index, test_index)
        clean = to_float(split.test, device)
        correct = predict(session.model, clean).cpu().numpy() == config.normal_class
        eligible = np.flatnonzero(correct)
        if limit is not None:
            if limit > len(eligible):
                raise AdvbenchError(
                    f"--limit {limit}: the victim classifies only {len(eligible)} of the {len(correct)} "
                    f"class-{config.normal_class} test images correctly; attack at most that many"
                )
            eligible = eligible[:limit]
    every = "" if config.normal_class == allclasses.ALL else f"class-{config.normal_class} "
    session.log(
        f"attacks: {int(correct.sum())} of {len(correct)} {every}test images classified correctly; "
        f"attacking {len(eligible)}"
    )
    x = clean[torch.from_numpy(eligible).to(device)]
    y = torch.from_numpy(split.test_labels[eligible]).to(device)
    return _Targets(split, eligible, x, y, int(correct.sum()))


def _held_out_targets(session: _Session, data, train_index: np.ndarray) -> _Targets:
    """The images the training attack sets start from (``--attack-train N``): a seeded, class-stratified
    sample of ``N`` of the training split's images that are not in the detectors' training sample
    (``train_index``) and that the victim classifies correctly. A ``_Targets`` whose ``split.test``
    holds them (and ``split.test_index`` their rows in the training split)."""
    config, device = session.config, session.device
    held = np.setdiff1d(np.arange(len(data.train.labels)), train_index)
    labels = data.train.labels[held]
    correct = predict(session.model, to_float(data.train.images[held], device)).cpu().numpy() == labels
    rows = held[allclasses.test_rows(labels, correct, config.attack_train, config.seed, "--attack-train")]
    sources = NormalImages.of(data, train_index, rows, attacked=data.train)
    session.log(
        f"training attacks: {int(correct.sum())} of {len(held)} held-out training images classified correctly; "
        f"attacking {len(rows)}"
    )
    eligible = np.arange(len(rows))
    x = to_float(sources.test, device)
    return _Targets(sources, eligible, x, torch.from_numpy(sources.test_labels).to(device), int(correct.sum()))


def _training_attacks(session: _Session, data, targets: _Targets, planned: dict) -> TrainingAttacks:
    """The training attack sets (``--attack-train``): every planned attack, run on held-out training images."""
    held = _held_out_targets(session, data, targets.split.train_index)
    sets = _plain_sets(session, held, planned)
    return TrainingAttacks(held.split.test, held.split.test_labels, held.split.test_index, sets)


def _plain_sets(session: _Session, targets: _Targets, planned: dict) -> dict[str, AttackSet]:
    """One set per planned attack: run (or taken from an interrupted run's partial folder), then kept
    where it still fools the victim after 8-bit rounding (``keep_adversarial``)."""
    config, model, out = session.config, session.model, session.out
    weights_sha256 = arrays_sha256(state_arrays(model))
    attack_sets = {}
    for name, (family, attack_params) in planned.items():
        key = resume.attack_key(weights_sha256, targets.images, targets.labels, family, attack_params, config.seed)
        finished = resume.load(out, key)
        if finished is None:
            start = time.perf_counter()
            adversarial = run_attack(
                family, model, targets.x, targets.y, attack_params, seed=config.seed, progress=session.progress
            )
            attack_seconds = time.perf_counter() - start
            resume.store(out, key, adversarial.cpu().numpy(), attack_seconds)
        else:
            session.log(f"{name}: taken from the interrupted run's {resume.partial_folder(out)}")
            adversarial, attack_seconds = torch.from_numpy(finished[0]).to(session.device), finished[1]
        start = time.perf_counter()
        outcome = keep_adversarial(model, targets.images, adversarial, targets.labels)
        seconds = attack_seconds + time.perf_counter() - start
        attrs = {"family": family, "params": attack_params, "seconds": seconds, "library": library(attack_params)}
        attack_sets[name] = _attack_set(outcome, targets.eligible, attrs)
    return attack_sets


def _file_attrs(
    session: _Session, data, planned: dict, limit: int | None, test_accuracy: float, victim: dict, eligible: int
) -> dict:
    """The file's attributes: the settings, versions, the victim (its test accuracy and ``victim``, its
    provenance), how many test images it classifies correctly (``eligible``) and the data's provenance."""
    config = session.config
    benchmark = registry.get(config.benchmark)
    return {
        "benchmark": benchmark.name,
        "normal_class": config.normal_class,
        "seed": config.seed,
        "limit": limit,
        "device": str(session.device),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "advbench_version": __version__,
        "versions": versions(),
        "victim_test_accuracy": test_accuracy,
        "victim": victim,
        "eligible": eligible,
        "attack_sources": _budget_sources(benchmark, planned),
        **({"train_size": config.train_size} if config.normal_class == allclasses.ALL else {}),
        **({"attack_train": config.attack_train} if config.attack_train else {}),
        **data.provenance(),
    }


def generate(
    data,
    out: str | Path,
    config: GenerateConfig,
    *,
    progress: bool = False,
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> BenchmarkContents:
    """Train or load the victim, run the attacks, write ``out`` atomically and return what was written.

    ``data`` holds the benchmark's labelled images (``advbench.datasets.gtsrb.GTSRB``,
    ``advbench.datasets.mnist.ImageClasses``): ``train`` and ``test`` (``splits.ImageSet``),
    ``content_sha256`` and ``provenance()``.
    """
    out = Path(out)
    check_file_out("--out", out)  # before the victim and the attacks, not when the file is written
    if config.attack_train and config.normal_class != allclasses.ALL:
        raise AdvbenchError(
            "--attack-train: only with --normal-class all (under one normal class every training image of the "
            "class is a detector's training image, so none is left to attack)"
        )
    resume.check_partial(out)
    planned = attack_plan(config)
    for family, attack_params in planned.values():
        check_backend(family, attack_params)  # before the victim is trained
    if config.adaptive:
        check_adaptive(config, planned)
    device = resolve_device(config.device)
    every_class = config.normal_class == allclasses.ALL
    limit = allclasses.DEFAULT_LIMIT if every_class and config.limit is None else config.limit
    rows = _candidate_rows(data, config, limit)

    model, victim_config, history, victim_info = _victim(data, out, config, device, progress, log)
    session = _Session(model, config, out, device, progress, log)
    predicted = predict(model, to_float(data.test.images, device)).cpu().numpy()
    test_accuracy = float((predicted == data.test.labels).mean())
    log(f"victim: test accuracy {test_accuracy:.4f} on {len(data.test.labels)} images")

    targets = _targets(session, data, rows, limit, predicted)
    attack_sets = _plain_sets(session, targets, planned)
    if config.adaptive:
        attack_sets.update(_adaptive_sets(session, targets, _victim_inputs(data, model, victim_info), planned))
    training = _training_attacks(session, data, targets, planned) if config.attack_train else None

    split = targets.split
    attrs = _file_attrs(session, data, planned, limit, test_accuracy, victim_info, targets.correct)
    result = BenchmarkContents(
        split.train,
        split.test,
        attack_sets,
        attrs,
        train_labels=split.train_labels,
        test_labels=split.test_labels,
        train_index=split.train_index,
        test_index=split.test_index,
        victim=victim_record(model, victim_config, history, test_accuracy),
        training=training,
    )
    result.sha256 = write_benchmark(out, result)
    resume.clear(out)
    return result
