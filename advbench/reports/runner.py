"""The (detector, seed) loop of ``advbench run``: fit, score, AUC per attack, resume, workers.

For each pair the detector is fitted once on the clean training images, scores the clean test
images and every attack's images, and the AUC of an attack is the ROC AUC of the clean test
scores (label 0) against that attack's scores (label 1).

Threads: every pair runs with the same number of CPU threads (``--threads``, default 1), in
torch and in the BLAS/OpenMP pools (threadpoolctl), whatever ``--jobs`` is. Float results of
the deep detectors depend on the thread count (reductions are split differently), so fixing it
is what makes ``--jobs N`` reproduce ``--jobs 1`` to the last bit; parallelism comes from running
``--jobs`` pairs at once in worker processes (spawned, so no state is shared). Keep
``jobs * threads`` at most the number of cores.

A detector that raises on a pair is recorded (one line per attack with ``error`` set and
``auc`` null) and the run goes on; failed pairs are computed again on the next run.
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
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from advbench.errors import AdvbenchError
from advbench.fileio import write_text_atomic
from advbench.reports import results
from advbench.reports.config import RunConfig, config_hash, detector_params, resolve_attacks

_PACKAGES = ("torch", "scikit-learn", "numpy", "advbench", "torchattacks", "foolbox", "h5py")
_DATA_CACHE: dict[str, object] = {}
_THREAD_LIMITS: list = []


def versions() -> dict[str, str | None]:
    """Versions of Python and of the packages that decide the numbers."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads in torch and in every BLAS / OpenMP pool of this process."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    _THREAD_LIMITS[:] = [threadpool_limits(limits=threads)]


def _benchmark(path: str, sha256: str):
    from advbench.datasets.benchmark_file import read_benchmark

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
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return [
        {**common, "attack": attack, "auc": aucs[attack], "n_adversarial": len(bench.attacks[attack]), "finished": finished}
        for attack in attacks
    ]


def _guard(existing: list[dict], sha256: str, hashes: dict[str, str], config: RunConfig) -> None:
    """Refuse to mix results of another data file or other detector parameters in one folder."""
    hint = "use another --out, or --force to discard them and start over"
    for record in existing:
        if record["data_sha256"] != sha256:
            raise AdvbenchError(
                f"--out {config.out}: holds results for another data file (sha256 {record['data_sha256'][:12]}, "
                f"not {sha256[:12]} of {config.data}); {hint}"
            )
        name = record["detector"]
        if name in hashes and record["config_hash"] != hashes[name]:
            raise AdvbenchError(f"--out {config.out}: holds results of {name} with other parameters; {hint}")


def _clear(out: Path) -> None:
    """What ``--force`` removes: every artifact a run writes in ``out`` (nothing else)."""
    from advbench.reports.report import ARTIFACTS

    for name in (results.RESULTS, results.RUN_JSON, *ARTIFACTS):
        (out / name).unlink(missing_ok=True)
    for folder in (results.SCORES, "figures"):
        shutil.rmtree(out / folder, ignore_errors=True)


def _finished(existing: list[dict], attacks: list[str]) -> set[tuple[str, int]]:
    """Pairs whose complete, error-free lines cover every requested attack."""
    by_pair: dict[tuple, list[dict]] = {}
    for record in existing:
        by_pair.setdefault(results.pair_key(record), []).append(record)
    return {
        key for key, lines in by_pair.items()
        if all(line["error"] is None for line in lines) and set(attacks) <= {line["attack"] for line in lines}
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


def run(config: RunConfig, command_line: list[str]) -> int:
    """Run every missing (detector, seed) pair of ``config``, then render the report; the exit code."""
    from tqdm import tqdm

    from advbench import detectors
    from advbench.datasets.benchmark_file import read_benchmark
    from advbench.reports.report import render

    started = time.time()
    bench = read_benchmark(config.data)
    attacks = resolve_attacks(config.attacks, list(bench.attacks), config.data)
    empty = [name for name in attacks if len(bench.attacks[name]) == 0]
    if empty:
        raise AdvbenchError(f"{config.data}: attack(s) {empty} hold no images; leave them out with --attacks")
    full_params = {name: detectors.create(name, **config.params[name]).get_params() for name in config.detectors}
    hashes = {name: config_hash(bench.sha256, name, full_params[name]) for name in config.detectors}

    out = config.out
    if out.exists() and not out.is_dir():
        raise AdvbenchError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    if config.force:
        _clear(out)
    existing = results.repair(out)
    _guard(existing, bench.sha256, hashes, config)

    cores = os.cpu_count() or 1
    if config.jobs * config.threads > cores:
        print(f"advbench run: warning: --jobs {config.jobs} x --threads {config.threads} exceeds the {cores} CPU "
              "cores; the pairs will compete for them", file=sys.stderr)  # fmt: skip
    pairs = [(name, seed) for seed in config.seeds for name in config.detectors]
    done = _finished(existing, attacks)
    todo = [pair for pair in pairs if pair not in done]
    info = {
        "config": config.to_json(),
        "command_line": command_line,
        "data_sha256": bench.sha256,
        "attacks": attacks,
        "detector_params": full_params,
        "config_hashes": hashes,
        "environment": _environment(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "status": "running",
    }
    write_text_atomic(out / results.RUN_JSON, results.to_json_text(info))

    common = {"data": str(config.data), "data_sha256": bench.sha256, "out": str(out), "attacks": attacks,
              "threads": config.threads, "versions": info["environment"]["versions"]}  # fmt: skip
    tasks = [
        {**common, "detector": name, "seed": seed, "config_hash": hashes[name],
         "params": detector_params(name, config.params[name], seed, config.device)}
        for name, seed in todo
    ]  # fmt: skip
    failed: list[dict] = []
    bar = tqdm(total=len(pairs), initial=len(pairs) - len(todo), unit="pair", file=sys.stderr, dynamic_ncols=True)

    def record(lines: list[dict]) -> None:
        results.write_pair(out, lines)
        if lines[0]["error"]:
            failed.append(lines[0])
        bar.update(1)
        tqdm.write(_log_line(lines, bar.n, len(pairs)), file=sys.stderr)

    try:
        if config.jobs == 1 or len(tasks) <= 1:
            set_threads(config.threads)
            for task in tasks:
                record(fit_and_score(task))
        else:
            _run_pool(tasks, config, record)
    finally:
        bar.close()

    render(out, data=config.data)
    info.update(
        status="finished",
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        wall_seconds=time.time() - started,
        pairs={"total": len(pairs), "reused": len(pairs) - len(todo), "computed": len(todo), "failed": len(failed)},
        failures=[{"detector": f["detector"], "seed": f["seed"], "error": f["error"]} for f in failed],
    )
    write_text_atomic(out / results.RUN_JSON, results.to_json_text(info))
    print(f"advbench run: {len(pairs)} pairs ({len(pairs) - len(todo)} reused, {len(todo)} computed) "
          f"in {info['wall_seconds']:.0f} s; tables in {out}", file=sys.stderr)  # fmt: skip
    if failed:
        print(f"advbench run: {len(failed)} pair(s) failed:", file=sys.stderr)
        for line in failed:
            print(f"  {line['detector']} seed {line['seed']}: {line['error']}", file=sys.stderr)
        return 1
    return 0


def _run_pool(tasks: list[dict], config: RunConfig, record) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(config.jobs, mp_context=context, initializer=set_threads, initargs=(config.threads,))
    try:
        futures = [executor.submit(fit_and_score, task) for task in tasks]
        for future in as_completed(futures):
            record(future.result())
    except BrokenProcessPool:
        raise AdvbenchError("a worker process died (killed, or out of memory?); run the same command again to resume")
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
