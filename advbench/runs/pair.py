"""One pair of a run: fit a detector on a benchmark's clean training images, score, and compute AUCs.

A pair is a (detector, seed, normal class) of a benchmark (``sources``: a benchmark file with one
normal class, or MNIST / Fashion-MNIST, any class). ``fit_and_score(task)`` fits the detector once
on the protocol's clean training images (``datasets.protocols``, ``datasets.oneclass``), scores the
protocol's clean test images, the attacks' clean sources and every anomaly set, writes the pair's
scores file, and gives each anomaly set the three AUCs of ``metrics`` (unpaired, paired, matched;
the last two only for sets made from clean images, the attacks) as one ``ResultLine``.

A detector with score variants (``BaseDetector.score_variants``: several scores from its one
fit) is fitted once as any other; each of its variants is scored on every set (one call per set
gives them all; ``fit`` gives the training images', ``variant_scores_``), stored in the same
scores file (``results.write_scores``) and gets its own result lines, named
``<detector>[<variant>]`` (``advbench.score_variants``) with the same provenance fields. The
default variant's lines are the detector's lines, exactly as without variants.

A victim-aware detector (``BaseDetector.needs_victim``) is fitted with the victim and the reference
data of ``task.inputs`` (``victim_inputs``, loaded once per process), and its lines record what it
used (``uses``: the victim's checkpoint sha256, the reference's size, seed and sha256).

A detector that raises is recorded, not fatal: its lines carry ``error`` (and ``traceback``) with
the AUCs None, and its scores file is removed. ``PairTask`` is what a worker process or Ray task
receives (picklable); ``ResultLine`` what it returns. ``build`` makes a pair's unfitted detector:
from the registry by name, or, for a detector the registry does not build (``task.prototype``,
given to ``advbench.evaluate``), a clone of that object with the pair's parameters.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from advbench.runs import metrics, results, sources, victim_inputs
from advbench.runs.victim_inputs import Inputs
from advbench.score_variants import DEFAULT_VARIANT, variant_name

_AUCS = ("auc", "paired_auc", "matched_auc")


@dataclass(frozen=True)
class PairTask:
    """Everything one pair needs, built by the runner before the first pair; ``params`` are the
    detector's resolved constructor parameters and ``param_sources`` where each came from
    (``advbench.detectors.params``)."""

    source_kind: str
    benchmark: str
    data: str
    data_sha256: str
    out: str
    attacks: list[str] | None
    threads: int
    profile: str
    protocol: str
    versions: dict
    detector: str
    seed: int
    normal_class: int
    config_hash: str
    params: dict
    param_sources: dict
    inputs: Inputs | None = None
    prototype: object | None = None
    fit_attack: str | None = None  # --protocol supervised: the training attack set supervised detectors fit on


@dataclass
class ResultLine:
    """One line of ``results.jsonl``: a pair's numbers on one anomaly set, with its provenance."""

    benchmark: str
    normal_class: int
    detector: str
    seed: int
    params: dict
    param_sources: dict
    data_sha256: str
    config_hash: str
    versions: dict
    device: str
    threads: int
    profile: str
    protocol: str
    pair_attacks: list[str]
    n_train: int
    n_normal: int
    attack: str
    n_adversarial: int
    auc: float | None = None
    paired_auc: float | None = None
    matched_auc: float | None = None
    fit_seconds: float | None = None
    score_seconds: float | None = None
    error: str | None = None
    traceback: str | None = None
    finished: str | None = None
    uses: dict | None = None
    benchmark_version: str | None = None
    fit_attack: str | None = None

    def to_record(self) -> dict:
        """The JSON object written to ``results.jsonl`` (``traceback`` only on a failed pair, ``uses`` only for
        a victim-aware detector, ``fit_attack`` only under ``--protocol supervised``)."""
        record = asdict(self)
        for key in ("traceback", "uses", "fit_attack"):
            if record[key] is None:
                del record[key]
        return record


def now() -> str:
    """The current UTC time as recorded in result lines and ``run.json``."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _score_split(detector, split) -> dict[str, tuple[np.ndarray, np.ndarray, dict]]:
    """Per score variant (``detector.variant_names()``, the default first): the scores of the normal
    test images, of the attacks' clean sources (the normal test images themselves unless the protocol
    tests on others) and of every anomaly set (``clean-test``, whose images are the sources, is not
    scored twice). The default variant's scores are ``decision_function``'s."""
    score = detector.score_variants
    normal_test = score(split.test)
    clean_sources = normal_test if split.sources is None else score(split.sources)
    anomalies = {
        name: clean_sources if aset.images is split.sources else score(aset.images)
        for name, aset in split.anomalies.items()
    }
    return {
        variant: (
            normal_test[variant],
            clean_sources[variant],
            {name: found[variant] for name, found in anomalies.items()},
        )
        for variant in normal_test
    }


def _metrics(split, normal_test, clean_sources, anomalies: dict) -> dict[str, dict]:
    """Per anomaly set, its ``auc``, ``paired_auc`` and ``matched_auc`` (``metrics``; the last two
    None for a set whose images were not made from clean ones: ``clean-test``, ``other-classes``)."""
    out = {}
    for name, values in anomalies.items():
        index = split.anomalies[name].source_index
        if index is None:
            out[name] = {"auc": metrics.roc_auc(normal_test, values), "paired_auc": None, "matched_auc": None}
        else:
            out[name] = metrics.attack_metrics(normal_test, clean_sources, values, index)
    return out


def class_key(protocol: str, normal_class: int) -> int | None:
    """The normal class as part of a pair's key (``results.pair_key``): None where a run has one class."""
    return normal_class if sources.keyed_by_class(protocol) else None


def build(name: str, params: dict, prototype=None):
    """The unfitted detector ``name`` of the registry with ``params``, or a clone of ``prototype`` (an
    unfitted ``BaseDetector`` the registry does not build, whose own parameters ``params`` records) with
    the parameters the run sets (``random_state``, ``device``, ``profile``) of ``params``."""
    if prototype is None:
        from advbench import detectors

        return detectors.create(name, **params)
    from sklearn.base import clone

    from advbench.detectors.params import RUN_SET

    return clone(prototype).set_params(**{key: params[key] for key in RUN_SET if key in params})


def fit_and_score(task: PairTask) -> list[ResultLine]:
    """Run one (detector, seed, normal class), write its scores file, and return its result lines (not yet
    written): the detector's, then those of each other score variant."""
    from advbench import detectors

    source = sources.cached(
        task.source_kind, task.benchmark, task.data, task.data_sha256, task.attacks, task.fit_attack
    )
    split = source.split(task.protocol, task.normal_class, task.seed)
    columns = list(split.anomalies)
    path = results.scores_path(Path(task.out), task.detector, task.seed, class_key(task.protocol, task.normal_class))
    common = {
        "benchmark": source.benchmark,
        "benchmark_version": source.version,
        "normal_class": task.normal_class,
        "seed": task.seed,
        "params": task.params,
        "param_sources": task.param_sources,
        "data_sha256": task.data_sha256,
        "config_hash": task.config_hash,
        "versions": task.versions,
        "device": task.params.get("device", "cpu"),
        "threads": task.threads,
        "profile": task.profile,
        "protocol": task.protocol,
        "pair_attacks": columns,
        "n_train": int(len(split.train)),
        "n_normal": int(len(split.test)),
        "fit_attack": task.fit_attack,
    }
    variants: tuple[str, ...] = (DEFAULT_VARIANT,)
    try:
        detector = build(task.detector, task.params, task.prototype)
        variants = detector.variant_names()
        wanted = detectors.needs(detector)
        if wanted:
            common["uses"] = task.inputs.record(wanted)
        given = victim_inputs.given(task.inputs, wanted)
        if "adversarial" in wanted:
            given["adversarial"] = split.fit_attack  # the training attack set, never a test attack set
        start = time.perf_counter()
        detector.fit(split.train, **given)
        common["fit_seconds"] = time.perf_counter() - start
        common["device"] = str(getattr(detector, "device_", "cpu"))
        start = time.perf_counter()
        scored = _score_split(detector, split)
        train = detector.variant_scores_  # scored by ``fit``, every variant in one pass
        common["score_seconds"] = time.perf_counter() - start
        for normal_test, clean_sources, anomalies in scored.values():
            for values in (normal_test, clean_sources, *anomalies.values()):
                if not np.isfinite(values).all():
                    raise ValueError("the detector returned non-finite scores")
        found = {variant: _metrics(split, *scored[variant]) for variant in variants}
        normal_test, _, anomalies = scored[DEFAULT_VARIANT]
        others = {
            variant: {"normal_train": train[variant], "normal_test": scored[variant][0], "attacks": scored[variant][2]}
            for variant in variants[1:]
        }
        history = getattr(detector, "history_", None)
        results.write_scores(path, train[DEFAULT_VARIANT], normal_test, anomalies, history, split.rows, others)
    except Exception as exc:  # a failing detector is recorded, not fatal: the run goes on
        message = str(exc).strip().splitlines()
        common["error"] = f"{type(exc).__name__}: {message[0] if message else ''}".rstrip(": ")
        common["traceback"] = traceback.format_exc(limit=-8)
        found = {variant: {column: dict.fromkeys(_AUCS) for column in columns} for variant in variants}
        path.unlink(missing_ok=True)
    finished = now()
    return [
        ResultLine(
            **common,
            detector=variant_name(task.detector, variant),
            attack=column,
            **found[variant][column],
            n_adversarial=len(split.anomalies[column]),
            finished=finished,
        )
        for variant in variants
        for column in columns
    ]
