"""The (detector, seed) loop of ``advbench run``: fit, score, AUC per attack, resume, workers.

For each pair the detector is fitted once on the clean training images, scores the clean test
images and every attack's images, and the AUC of an attack is the ROC AUC of the clean test
scores (label 0) against that attack's scores (label 1).

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
``--jobs`` pairs at once in worker processes (spawned, so no state is shared). Keep
``jobs * threads`` at most the number of cores.

A detector that raises on a pair is recorded (one line per attack with ``error`` set and
``auc`` null) and the run goes on; failed pairs, and finished pairs whose scores file is
missing, are computed again on the next run. A worker process that dies stops the run (exit 1).
"""

from __future__ import annotations

import importlib.metadata
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

from advbench.datasets.benchmark_file import Benchmark, read_benchmark
from advbench.errors import AdvbenchError, RunError
from advbench.reports import devices, guard, history, lock, results
from advbench.reports.config import RunConfig, config_hash, detector_params, resolve_attacks

_PACKAGES = ("torch", "scikit-learn", "numpy", "advbench", "torchattacks", "foolbox", "h5py")
_DATA_CACHE: dict[str, object] = {}


def versions() -> dict[str, str | None]:
    """Versions of Python and of the packages that decide the numbers."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _benchmark(path: str, sha256: str) -> Benchmark:
    if _DATA_CACHE.get("key") != (path, sha256):
        bench = read_benchmark(path)
        if bench.sha256 != sha256:
            raise AdvbenchError(f"{path}: the file changed while the run was going on")
        _DATA_CACHE.update(key=(path, sha256), bench=bench)
    return _DATA_CACHE["bench"]


def _roc_auc(clean: np.ndarray, adversarial: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    labels = np.r_[np.zeros(len(clean)), np.ones(len(adversarial))]
    return float(roc_auc_score(labels, np.r_[clean, adversarial]))


def fit_and_score(task: dict) -> list[dict]:
    """Run one (detector, seed) pair, write its scores file, and return its result lines (not yet written)."""
    from advbench import detectors

    bench = _benchmark(task["data"], task["data_sha256"])
    name, seed, attacks = task["detector"], task["seed"], task["attacks"]
    path = results.scores_path(Path(task["out"]), name, seed)
    common = {
        "detector": name,
        "seed": seed,
        "params": task["params"],
        "data_sha256": task["data_sha256"],
        "config_hash": task["config_hash"],
        "versions": task["versions"],
        "device": task["params"].get("device", "cpu"),
        "threads": task["threads"],
        "profile": task["profile"],
        "pair_attacks": attacks,
        "n_normal": int(len(bench.normal_test)),
        "fit_seconds": None,
        "score_seconds": None,
        "error": None,
    }
    aucs: dict[str, float | None] = dict.fromkeys(attacks)
    try:
        detector = detectors.create(name, **task["params"])
        common["params"] = detector.get_params()
        start = time.perf_counter()
        detector.fit(bench.normal_train)
        common["fit_seconds"] = time.perf_counter() - start
        common["device"] = str(getattr(detector, "device_", "cpu"))
        start = time.perf_counter()
        clean = detector.decision_function(bench.normal_test)
        scores = {attack: detector.decision_function(bench.attacks[attack].images) for attack in attacks}
        common["score_seconds"] = time.perf_counter() - start
        for values in (clean, *scores.values()):
            if not np.isfinite(values).all():
                raise ValueError("the detector returned non-finite scores")
        aucs = {attack: _roc_auc(clean, scores[attack]) for attack in attacks}
        results.write_scores(path, detector.decision_scores_, clean, scores, getattr(detector, "history_", None))
    except Exception as exc:  # a failing detector is recorded, not fatal: the run goes on
        message = str(exc).strip().splitlines()
        common["error"] = f"{type(exc).__name__}: {message[0] if message else ''}".rstrip(": ")
        common["traceback"] = traceback.format_exc(limit=-8)
        aucs = dict.fromkeys(attacks)
        path.unlink(missing_ok=True)
    finished = _now()
    return [
        {**common, "attack": attack, "auc": aucs[attack], "n_adversarial": len(bench.attacks[attack]), "finished": finished}
        for attack in attacks
    ]


def _clear(out: Path) -> None:
    """What ``--force`` removes: every artifact a run writes in ``out`` (nothing else)."""
    from advbench.reports.report import ARTIFACTS

    for name in (results.RESULTS, results.RUN_JSON, *ARTIFACTS):
        (out / name).unlink(missing_ok=True)
    for folder in (results.SCORES, "figures"):
        shutil.rmtree(out / folder, ignore_errors=True)


def _finished(out: Path, existing: list[dict], attacks: list[str]) -> set[tuple[str, int]]:
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
        params = detector_params(name, config.params[name], config.seeds[0], device, config.profile)
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

    bench: Benchmark
    attacks: list[str]
    device: str
    params: dict[str, dict]
    hashes: dict[str, str]
    settings: dict


def plan(config: RunConfig) -> Plan:
    """Read the data file and check the attacks, the device and every detector's parameters (AdvbenchError)."""
    bench = read_benchmark(config.data)
    attacks = resolve_attacks(config.attacks, list(bench.attacks), config.data)
    empty = [name for name in attacks if len(bench.attacks[name]) == 0]
    if empty:
        raise AdvbenchError(f"{config.data}: attack(s) {empty} hold no images; leave them out with --attacks")
    device = devices.resolve_device(config.device)
    params = _checked_params(config, device)
    hashes = {name: config_hash(bench.sha256, name, params[name]) for name in config.detectors}
    uses_device = any("device" in values for values in params.values())
    settings = guard.run_settings(bench.sha256, hashes, device if uses_device else None, config.threads, config.profile)
    return Plan(bench, attacks, device, params, hashes, settings)


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


def _run_entry(config: RunConfig, command_line: list[str], planned: Plan) -> dict:
    """This run's entry of ``run.json`` as it starts."""
    return {
        "config": config.to_json(),
        "command_line": command_line,
        "data_sha256": planned.bench.sha256,
        "attacks": planned.attacks,
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
    pairs = [(name, seed) for seed in config.seeds for name in config.detectors]
    done = _finished(out, existing, planned.attacks)
    todo = [pair for pair in pairs if pair not in done]
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


def _tasks(config: RunConfig, planned: Plan, entry: dict, todo: list[tuple[str, int]]) -> list[dict]:
    """What ``fit_and_score`` needs for each pair to compute (picklable, for worker processes)."""
    common = {"data": str(config.data), "data_sha256": planned.bench.sha256, "out": str(config.out),
              "attacks": planned.attacks, "threads": config.threads, "profile": config.profile,
              "versions": entry["environment"]["versions"]}  # fmt: skip
    return [
        {**common, "detector": name, "seed": seed, "config_hash": planned.hashes[name],
         "params": detector_params(name, config.params[name], seed, planned.device, config.profile)}
        for name, seed in todo
    ]  # fmt: skip


def _compute(tasks: list[dict], config: RunConfig, device: str, total: int) -> list[dict]:
    """Run the pairs of ``tasks`` (in this process or in ``--jobs`` workers), record each; the failed pairs' lines."""
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
        if config.jobs == 1 or len(tasks) <= 1:
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
