"""The (detector, seed) loop of ``advbench run``: fit, score, AUC per attack, resume, workers.

A pair is a (detector, seed, normal class) of a benchmark (``sources``: a GTSRB benchmark file, one
normal class, or MNIST / Fashion-MNIST, any class). For each pair the detector is fitted once on
the protocol's clean training images (``datasets.protocols``, ``datasets.oneclass``), scores the
protocol's clean test images, the attacks' clean sources and every anomaly set, and each anomaly
set gets the three AUCs of ``metrics`` (unpaired, paired, matched; the last two only for sets
made from clean images, the attacks). Under ``heldout-train`` a ``clean-test`` set adds the AUC of
the held-out training images against the official test images; on MNIST the one set is
``other-classes``.

Before the first pair (``plan``), everything that can be wrong with the input is checked, and
nothing is written when it is: the data file, the attacks, ``--device`` (resolved on this
machine, see ``devices``) and every detector's parameters (each detector is built with the
parameters of its run and ``check_params()``-ed, without fitting). Then the run folder is locked
for the whole run (``lock``), its results are checked against the run's settings (``guard``) and
the run's entry is appended to ``run.json`` (``history``).

Threads: every pair runs with the same number of CPU threads (``--threads``, default 1), in
torch and in the BLAS/OpenMP pools (threadpoolctl), whatever ``--jobs`` is. Float results of
the deep detectors depend on the thread count (reductions are split differently), so fixing it
is what makes ``--jobs N`` reproduce ``--jobs 1`` to the last bit; parallelism comes from running
``--jobs`` pairs at once in worker processes (spawned, so no state is shared), or, with
``--executor ray``, from Ray tasks on one machine or a cluster (``ray_executor``). Keep
``jobs * threads`` at most the number of cores.

A detector that raises on a pair is recorded (one line per attack with ``error`` set and
``auc`` null) and the run goes on; failed pairs, and finished pairs whose scores file is
missing, are computed again on the next run. A worker process that dies stops the run (exit 1).
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from advbench.datasets import oneclass, protocols
from advbench.errors import AdvbenchError, DataError, RunError
from advbench.provenance import versions
from advbench.runs import devices, guard, history, lock, metrics, results, sources
from advbench.runs.config import RunConfig, config_hash, detector_params, resolve_attacks

def _score_split(detector, split) -> tuple[np.ndarray, np.ndarray, dict]:
    """Scores of the normal test images, of the attacks' clean sources (the normal test images
    themselves unless the protocol tests on others) and of every anomaly set (``clean-test``, whose
    images are the sources, is not scored twice)."""
    normal_test = detector.decision_function(split.test)
    sources = normal_test if split.sources is None else detector.decision_function(split.sources)
    anomalies = {
        name: sources if aset.images is split.sources else detector.decision_function(aset.images)
        for name, aset in split.anomalies.items()
    }
    return normal_test, sources, anomalies


def _metrics(split, normal_test, sources, anomalies: dict) -> dict[str, dict]:
    """Per anomaly set, its ``auc``, ``paired_auc`` and ``matched_auc`` (``metrics``; the last two
    None for a set whose images were not made from clean ones: ``clean-test``, ``other-classes``)."""
    out = {}
    for name, values in anomalies.items():
        index = split.anomalies[name].source_index
        if index is None:
            out[name] = {"auc": metrics.roc_auc(normal_test, values), "paired_auc": None, "matched_auc": None}
        else:
            out[name] = metrics.attack_metrics(normal_test, sources, values, index)
    return out


def _no_metrics(columns: list[str]) -> dict[str, dict]:
    """The numbers of a pair that failed: None for each column."""
    return {column: dict.fromkeys(("auc", "paired_auc", "matched_auc")) for column in columns}


def _class_key(benchmark: str, normal_class: int) -> int | None:
    """The normal class as part of a pair's key (``results.pair_key``): None on GTSRB."""
    return None if benchmark == sources.GTSRB else normal_class


def fit_and_score(task: dict) -> list[dict]:
    """Run one (detector, seed, normal class), write its scores file, and return its result lines (not yet written)."""
    from advbench import detectors

    source = sources.cached(task["benchmark"], task["data"], task["data_sha256"], task["attacks"])
    name, seed, protocol, normal_class = task["detector"], task["seed"], task["protocol"], task["normal_class"]
    split = source.split(protocol, normal_class, seed)
    columns = list(split.anomalies)
    path = results.scores_path(Path(task["out"]), name, seed, _class_key(source.benchmark, normal_class))
    common = {
        "benchmark": source.benchmark,
        "normal_class": normal_class,
        "detector": name,
        "seed": seed,
        "params": task["params"],
        "data_sha256": task["data_sha256"],
        "config_hash": task["config_hash"],
        "versions": task["versions"],
        "device": task["params"].get("device", "cpu"),
        "threads": task["threads"],
        "profile": task["profile"],
        "protocol": protocol,
        "pair_attacks": columns,
        "n_train": int(len(split.train)),
        "n_normal": int(len(split.test)),
        "fit_seconds": None,
        "score_seconds": None,
        "error": None,
    }
    try:
        detector = detectors.create(name, **task["params"])
        common["params"] = detector.get_params()
        start = time.perf_counter()
        detector.fit(split.train)
        common["fit_seconds"] = time.perf_counter() - start
        common["device"] = str(getattr(detector, "device_", "cpu"))
        start = time.perf_counter()
        normal_test, clean_sources, anomalies = _score_split(detector, split)
        common["score_seconds"] = time.perf_counter() - start
        for values in (normal_test, clean_sources, *anomalies.values()):
            if not np.isfinite(values).all():
                raise ValueError("the detector returned non-finite scores")
        found = _metrics(split, normal_test, clean_sources, anomalies)
        results.write_scores(path, detector.decision_scores_, normal_test, anomalies, getattr(detector, "history_", None),
                             split.rows)  # fmt: skip
    except Exception as exc:  # a failing detector is recorded, not fatal: the run goes on
        message = str(exc).strip().splitlines()
        common["error"] = f"{type(exc).__name__}: {message[0] if message else ''}".rstrip(": ")
        common["traceback"] = traceback.format_exc(limit=-8)
        found = _no_metrics(columns)
        path.unlink(missing_ok=True)
    finished = _now()
    return [
        {**common, "attack": column, **found[column], "n_adversarial": len(split.anomalies[column]), "finished": finished}
        for column in columns
    ]


def _clear(out: Path) -> None:
    """What ``--force`` removes: every artifact a run writes in ``out`` (nothing else)."""
    from advbench.reports.report import ARTIFACTS

    for name in (results.RESULTS, results.RUN_JSON, *ARTIFACTS):
        (out / name).unlink(missing_ok=True)
    for folder in (results.SCORES, "figures"):
        shutil.rmtree(out / folder, ignore_errors=True)


def _finished(out: Path, existing: list[dict], attacks: list[str]) -> set[tuple[str, int, int | None]]:
    """Pairs whose complete, error-free lines cover every requested attack and whose scores file is there."""
    by_pair: dict[tuple, list[dict]] = {}
    for record in existing:
        by_pair.setdefault(results.pair_key(record), []).append(record)
    return {
        key for key, lines in by_pair.items()
        if all(line["error"] is None for line in lines) and set(attacks) <= {line["attack"] for line in lines}
        and results.scores_path(out, *key).is_file()
    }  # fmt: skip


def _log_line(lines: list[dict], done: int, total: int) -> str:
    head = f"[{done}/{total}] {lines[0]['detector']} seed {lines[0]['seed']}"
    if results.pair_key(lines[0])[2] is not None:
        head += f" class {lines[0]['normal_class']}"
    if lines[0]["error"]:
        return f"{head}: FAILED: {lines[0]['error']}"
    aucs = ", ".join(f"{line['attack']} {100 * line['auc']:.1f}" for line in lines)
    return f"{head}: AUC % {aucs} (fit {lines[0]['fit_seconds']:.1f} s)"


def _environment() -> dict:
    return {
        "versions": versions(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python_implementation": platform.python_implementation(),
    }


def _checked_params(config: RunConfig, device: str) -> dict[str, dict]:
    """Build every requested detector with its run's parameters and check them without fitting; name -> params."""
    from advbench import detectors

    where = f"--config {config.config_file}: " if config.config_file else ""
    checked = {}
    for name in config.detectors:
        params = detector_params(name, config.params[name], config.seeds[0], device, config.profile, config.benchmark)
        try:
            detector = detectors.create(name, **params).check_params()
        except (TypeError, ValueError) as exc:
            message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise AdvbenchError(f"{where}[detectors.{name}]: {message}") from None
        checked[name] = {key: value for key, value in detector.get_params().items() if key != "random_state"}
    return checked


@dataclass
class Plan:
    """What a run computes, all checked before anything is written."""

    source: object
    columns: list[str]
    classes: list[int]
    device: str
    params: dict[str, dict]
    hashes: dict[str, str]
    settings: dict


def _open(config: RunConfig):
    """The run's source with its attacks resolved (GTSRB) or its classes checked (MNIST-type); AdvbenchError."""
    source = sources.open_source(config.benchmark, config.data)
    if config.benchmark != sources.GTSRB:
        return source, oneclass.parse_classes(config.classes, source.classes)
    bench = source.bench
    protocols.check_size(config.protocol, len(bench.normal_train), str(config.data))
    source.attacks = resolve_attacks(config.attacks, list(bench.attacks), config.data)
    empty = [name for name in source.attacks if len(bench.attacks[name]) == 0]
    if empty:
        raise AdvbenchError(f"{config.data}: attack(s) {empty} hold no images; leave them out with --attacks")
    return source, source.classes


def plan(config: RunConfig) -> Plan:
    """Read the data and check the attacks or classes, the device and every detector's parameters (AdvbenchError)."""
    source, classes = _open(config)
    device = devices.resolve_device(config.device)
    params = _checked_params(config, device)
    hashes = {name: config_hash(source.sha256, name, params[name]) for name in config.detectors}
    uses_device = any("device" in values for values in params.values())
    settings = guard.run_settings(source.sha256, hashes, device if uses_device else None, config.threads, config.profile,
                                  config.protocol)  # fmt: skip
    return Plan(source, source.columns(config.protocol), classes, device, params, hashes, settings)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run(config: RunConfig, command_line: list[str]) -> int:
    """Run every missing (detector, seed) pair of ``config``, then render the report; the exit code."""
    started = time.time()
    planned = plan(config)
    out = config.out
    if out.exists() and not out.is_dir():
        raise AdvbenchError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    with lock.hold(out, f"--out {out}", " ".join(command_line)):
        return _run_locked(config, command_line, planned, started)


def _attack_info(attack) -> dict:
    """What the report needs to know of an attack set: family, parameters, counts, median distances."""
    from advbench.datasets.benchmark_file import attack_summary

    info = attack_summary(attack)
    kept = {key: info[key] for key in ("family", "params", "count", "attempted", "median_l2", "median_linf")}
    return kept | ({"adaptive": attack.attrs["adaptive"]} if "adaptive" in attack.attrs else {})


def _add_paired_aucs(out: Path, existing: list[dict], bench) -> list[dict]:
    """Give lines written before ``paired_auc`` and ``matched_auc`` existed (all under the official
    protocol) those two numbers, from their pair's stored scores and the data file's
    ``source_index``, without fitting again. The stored ``auc`` is computed again from the same
    scores as a check; a difference means the scores file does not belong to the line (DataError)."""
    stale = {results.pair_key(r) for r in existing if r["error"] is None and "paired_auc" not in r}
    if not stale:
        return existing
    stored = {key: results.read_scores(results.scores_path(out, *key)) for key in stale
              if results.scores_path(out, *key).is_file()}  # fmt: skip
    updated = []
    for record in existing:
        scores = stored.get(results.pair_key(record))
        if scores is not None and "paired_auc" not in record and record["attack"] in bench.attacks:
            clean = scores["normal_test"]
            found = metrics.attack_metrics(clean, clean, scores["attacks"][record["attack"]],
                                           bench.attacks[record["attack"]].source_index)  # fmt: skip
            if abs(found["auc"] - record["auc"]) > 1e-12:
                path = results.scores_path(out, *results.pair_key(record))
                raise DataError(f"{path}: its scores give AUC {found['auc']:.6f} for {record['attack']}, the results "
                                f"line {record['auc']:.6f}; the folder is inconsistent")  # fmt: skip
            record = {**record, "protocol": "official", "paired_auc": found["paired_auc"], "matched_auc": found["matched_auc"]}
        updated.append(record)
    results.rewrite(out, updated)
    return updated


def _run_entry(config: RunConfig, command_line: list[str], planned: Plan) -> dict:
    """This run's entry of ``run.json`` as it starts."""
    source = planned.source
    attack_sets = getattr(source, "attacks", [])
    return {
        "config": config.to_json(),
        "command_line": command_line,
        "benchmark": source.benchmark,
        "data_sha256": source.sha256,
        "attacks": planned.columns,
        "classes": planned.classes,
        "attack_sets": {name: _attack_info(source.bench.attacks[name]) for name in attack_sets},
        "device": planned.device,
        "settings": planned.settings,
        "detector_params": planned.params,
        "config_hashes": planned.hashes,
        "environment": _environment(),
        "started": _now(),
        "status": "running",
    }


def _run_locked(config: RunConfig, command_line: list[str], planned: Plan, started: float) -> int:
    from advbench.reports.report import render

    out = config.out
    if config.force:
        _clear(out)
    existing = results.repair(out)
    guard.check(out, existing, planned.settings)
    runs = history.read_runs(out)
    cores = os.cpu_count() or 1
    if config.jobs * config.threads > cores:
        print(f"advbench run: warning: --jobs {config.jobs} x --threads {config.threads} exceeds the {cores} CPU "
              "cores; the pairs will compete for them", file=sys.stderr)  # fmt: skip
    pairs = [(name, seed, c) for seed in config.seeds for c in planned.classes for name in config.detectors]
    if planned.source.benchmark == sources.GTSRB:
        existing = _add_paired_aucs(out, existing, planned.source.bench)
    done = _finished(out, existing, planned.columns)
    benchmark = planned.source.benchmark
    todo = [(name, seed, c) for name, seed, c in pairs if (name, seed, _class_key(benchmark, c)) not in done]
    entry = _run_entry(config, command_line, planned)
    history.write_runs(out, [*runs, entry])
    try:
        failed = _compute(_tasks(config, planned, entry, todo), config, planned.device, len(pairs))
        render(out, data=config.data)
    except BaseException as exc:
        entry.update(status=f"failed: {type(exc).__name__}", finished=_now(), wall_seconds=time.time() - started)
        history.write_runs(out, [*runs, entry])
        raise
    entry.update(
        status="finished",
        finished=_now(),
        wall_seconds=time.time() - started,
        pairs={"total": len(pairs), "reused": len(pairs) - len(todo), "computed": len(todo), "failed": len(failed)},
        failures=[{"detector": f["detector"], "seed": f["seed"], "error": f["error"]} for f in failed],
    )
    history.write_runs(out, [*runs, entry])
    return _closing_lines(out, entry, failed)


def _closing_lines(out: Path, entry: dict, failed: list[dict]) -> int:
    """Print the run's summary and its failures; the exit code."""
    pairs = entry["pairs"]
    print(f"advbench run: {pairs['total']} pairs ({pairs['reused']} reused, {pairs['computed']} computed) "
          f"in {entry['wall_seconds']:.0f} s; tables in {out}", file=sys.stderr)  # fmt: skip
    if not failed:
        return 0
    print(f"advbench run: {len(failed)} pair(s) failed:", file=sys.stderr)
    for line in failed:
        print(f"  {line['detector']} seed {line['seed']}: {line['error']}", file=sys.stderr)
    return 1


def _tasks(config: RunConfig, planned: Plan, entry: dict, todo: list[tuple[str, int, int]]) -> list[dict]:
    """What ``fit_and_score`` needs for each pair to compute (picklable, for worker processes)."""
    source = planned.source
    common = {"benchmark": source.benchmark, "data": source.location, "data_sha256": source.sha256,
              "out": str(config.out), "attacks": getattr(source, "attacks", None), "threads": config.threads,
              "profile": config.profile, "protocol": config.protocol,
              "versions": entry["environment"]["versions"]}  # fmt: skip
    return [
        {**common, "detector": name, "seed": seed, "normal_class": normal_class, "config_hash": planned.hashes[name],
         "params": detector_params(name, config.params[name], seed, planned.device, config.profile, config.benchmark)}
        for name, seed, normal_class in todo
    ]  # fmt: skip


def _compute(tasks: list[dict], config: RunConfig, device: str, total: int) -> list[dict]:
    """Run the pairs of ``tasks`` (in this process, in ``--jobs`` workers, or as Ray tasks), record each; the
    failed pairs' lines."""
    from tqdm import tqdm

    failed: list[dict] = []
    bar = tqdm(total=total, initial=total - len(tasks), unit="pair", file=sys.stderr, dynamic_ncols=True)

    def record(lines: list[dict]) -> None:
        results.write_pair(config.out, lines)
        if lines[0]["error"]:
            failed.append(lines[0])
        bar.update(1)
        tqdm.write(_log_line(lines, bar.n, total), file=sys.stderr)

    try:
        if config.executor == "ray" and tasks:
            from advbench.runs import ray_executor

            ray_executor.run_pairs(tasks, config.threads, device, config.ray_address, record)
        elif config.jobs == 1 or len(tasks) <= 1:
            devices.configure_process(config.threads, device)
            for task in tasks:
                record(fit_and_score(task))
        else:
            _run_pool(tasks, config, device, record)
    finally:
        bar.close()
    return failed


def _run_pool(tasks: list[dict], config: RunConfig, device: str, record) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(config.jobs, mp_context=context, initializer=devices.configure_process,
                                   initargs=(config.threads, device))  # fmt: skip
    try:
        futures = [executor.submit(fit_and_score, task) for task in tasks]
        for future in as_completed(futures):
            record(future.result())
    except BrokenProcessPool:
        message = "a worker process died (killed, or out of memory?); run the same command again to resume"
        raise RunError(message) from None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
