"""The (detector, seed) loop of ``advbench run``: plan, resume, workers, ``run.json``.

Each (detector, seed, normal class) pair is computed by ``pair.fit_and_score`` (fit once on the
protocol's clean training images, score every set, three AUCs per anomaly set); this module
decides which pairs to compute, where, and records them.

Before the first pair (``plan``), everything that can be wrong with the input is checked, and
nothing is written when it is: the data file, the attacks, ``--device`` (resolved on this
machine, see ``devices``), every detector's parameters (each detector is built with the
parameters of its run and ``check_params()``-ed, without fitting) and, for detectors that look
through the victim, the victim and the reference data (``victim_inputs``); every detector's
parameters come from one resolver (``detectors.params``), with their sources. Then the run folder
is locked for the whole run (``lock``), its results are checked against the run's settings
(``guard``; with ``--recompute-changed`` the pairs that differ only in their detector's parameters
are dropped first, to be computed again), what its lines say of their own provenance is corrected
where it is a fact (``relabel``) and the run's entry is appended to ``run.json`` (``history``).
``--force`` clears only a run folder (or a new or empty one).

Threads: every pair runs with the same number of CPU threads (``--threads``, default 1), in
torch and in the BLAS/OpenMP pools (threadpoolctl), whatever ``--jobs`` is. Float results of
the deep detectors depend on the thread count (reductions are split differently), so fixing it
is what makes ``--jobs N`` reproduce ``--jobs 1`` to the last bit; parallelism comes from running
``--jobs`` pairs at once in worker processes (spawned, so no state is shared), or, with
``--executor ray``, from Ray tasks on one machine or a cluster (``ray_executor``). Keep
``jobs * threads`` at most the number of cores.

A detector with score variants (``advbench.score_variants``) is fitted once per pair; its
variants' lines (``<detector>[<variant>]``) belong to the pair, which is finished when the
detector's own lines are (``results`` writes them last). A finished pair without lines for its
detector's variants stays finished (the run does not fit it again for them; ``--force`` does).

A detector that raises on a pair is recorded (one line per attack with ``error`` set and
``auc`` null) and the run goes on; failed pairs, and finished pairs whose scores file is
missing, are computed again on the next run. A worker process that dies stops the run (exit 1).

Rendering is the caller's: ``run`` takes a ``render(out)`` callable, called inside the folder's lock
once the pairs are done, and the names of the files and folders it writes, which ``--force``
removes (the run loop imports nothing from ``advbench.reports``).

``execute`` is the run without its closing lines, for callers other than the command line
(``advbench.evaluate``): it returns the run's ``run.json`` entry and its failed pairs. It also takes
``prototypes``, detectors that the registry does not build (name -> an unfitted ``BaseDetector``):
such a detector's parameters are its own, with ``random_state``, ``device`` and ``profile`` set by
the run where it has them, as the resolver sets them for the others, and each pair fits a clone
(``pair.build``); its lines record the parameters that JSON cannot hold by their repr or class.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

from advbench.datasets import oneclass, protocols, registry
from advbench.errors import AdvbenchError, RunError
from advbench.provenance import versions
from advbench.runs import devices, guard, history, lock, pairing, relabel, results, sources, victim_inputs
from advbench.runs.config import RunConfig, config_hash, resolve_attacks
from advbench.runs.pair import PairTask, build, class_key, fit_and_score, now


def _clear(out: Path, rendered: Iterable[str]) -> None:
    """What ``--force`` removes: the results, ``run.json``, the scores, ``pairing.json`` and what rendering
    writes (``rendered``: file and folder names), nothing else."""
    for name in (results.RESULTS, results.RUN_JSON, results.SCORES, pairing.PAIRING, *rendered):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _stranger_folder(out: Path) -> bool:
    """Whether ``out`` is a non-empty folder that no run wrote (neither results nor ``run.json``)."""
    own = any((out / name).exists() for name in (results.RESULTS, results.RUN_JSON))
    return out.is_dir() and not own and any(out.iterdir())


def _drop_changed(out: Path, existing: list[dict], settings: dict) -> list[dict]:
    """``--recompute-changed``: remove the lines (then the scores) of the pairs that differ from the run's
    settings only in their detector's parameters, so that they are computed again; the lines kept."""
    changed = {results.pair_key(r) for r in existing if guard.differences(r, settings) == ["config_hash"]}
    if not changed:
        return existing
    kept = [record for record in existing if results.pair_key(record) not in changed]
    results.rewrite(out, kept)
    for key in changed:
        results.scores_path(out, *key).unlink(missing_ok=True)
    names = ", ".join(sorted({key[0] for key in changed}))
    print(
        f"advbench run: --recompute-changed: {len(changed)} pair(s) of {names} will be computed again with their "
        "new parameters",
        file=sys.stderr,
    )
    return kept


def _finished(out: Path, existing: list[dict], attacks: list[str]) -> set[tuple[str, int, int | None]]:
    """Pairs whose complete, error-free lines cover every requested attack and whose scores file is there."""
    by_pair: dict[tuple, list[dict]] = {}
    for record in existing:
        by_pair.setdefault(results.pair_key(record), []).append(record)
    return {
        key
        for key, lines in by_pair.items()
        if all(line["error"] is None for line in lines)
        and set(attacks) <= {line["attack"] for line in lines}
        and results.scores_path(out, *key).is_file()
    }


def _log_line(lines: list[dict], done: int, total: int) -> str:
    """One pair's progress line: its detector's own AUCs (``lines[0]`` is the detector's first line)."""
    head = f"[{done}/{total}] {lines[0]['detector']} seed {lines[0]['seed']}"
    if results.pair_key(lines[0])[2] is not None:
        head += f" class {lines[0]['normal_class']}"
    if lines[0]["error"]:
        return f"{head}: FAILED: {lines[0]['error']}"
    own = [line for line in lines if line["detector"] == lines[0]["detector"]]
    aucs = ", ".join(f"{line['attack']} {100 * line['auc']:.1f}" for line in own)
    variants = len({line["detector"] for line in lines}) - 1
    more = f", {variants} score variant(s) recorded" if variants else ""
    return f"{head}: AUC % {aucs} (fit {lines[0]['fit_seconds']:.1f} s{more})"


def _environment() -> dict:
    return {
        "versions": versions(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python_implementation": platform.python_implementation(),
    }


def _resolved(config: RunConfig, name: str, seed: int, device: str, prototype=None):
    """The parameters of detector ``name`` for ``seed`` and their sources (``detectors.params``; for a
    ``prototype``, its own parameters, the run's where it has them)."""
    from advbench.detectors import params

    if prototype is None:
        return params.resolve(
            name, config.benchmark, seed=seed, config=config.params[name], device=device, profile=config.profile
        )
    return params.resolve_prototype(prototype, seed=seed, device=device, profile=config.profile)


def _checked_params(
    config: RunConfig, device: str, prototypes: Mapping[str, object]
) -> tuple[dict[str, dict], dict[str, dict]]:
    """Build every requested detector with its run's parameters and check them without fitting; name ->
    params (without the seed) and name -> their sources."""
    where = f"--config {config.config_file}: " if config.config_file else ""
    checked, found = {}, {}
    for name in config.detectors:
        try:
            resolved = _resolved(config, name, config.seeds[0], device, prototypes.get(name))
            build(name, resolved.params, prototypes.get(name)).check_params()
        except (TypeError, ValueError) as exc:
            message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise AdvbenchError(f"{where}[detectors.{name}]: {message}") from None
        checked[name] = {key: value for key, value in resolved.params.items() if key != "random_state"}
        found[name] = {key: value for key, value in resolved.sources.items() if key != "random_state"}
    return checked, found


@dataclass
class Plan:
    """What a run computes, all checked before anything is written."""

    source: object
    columns: list[str]
    classes: list[int]
    device: str
    params: dict[str, dict]
    param_sources: dict[str, dict]
    hashes: dict[str, str]
    settings: dict
    inputs: victim_inputs.Inputs | None = None
    prototypes: Mapping[str, object] = field(default_factory=dict)


def _open(config: RunConfig):
    """The run's source with its attacks resolved (GTSRB) or its classes checked (MNIST-type); AdvbenchError."""
    source = sources.open_source(config.source_kind, config.benchmark, config.data)
    if config.source_kind == registry.LABELLED_IMAGES:
        return source, oneclass.parse_classes(config.classes, source.classes)
    bench = source.bench
    protocols.check_size(config.protocol, len(bench.normal_train), str(config.data))
    source = source.only(resolve_attacks(config.attacks, list(bench.attacks), config.data))
    if config.fit_attack is not None:
        source = source.fitted_on(config.fit_attack)
    empty = [name for name in source.attacks if len(bench.attacks[name]) == 0]
    if empty:
        raise AdvbenchError(f"{config.data}: attack(s) {empty} hold no images; leave them out with --attacks")
    return source, source.classes


def plan(config: RunConfig, prototypes: Mapping[str, object] | None = None) -> Plan:
    """Read the data and check the attacks or classes, the device and every detector's parameters
    (AdvbenchError); ``prototypes``: see ``execute``."""
    from advbench import detectors

    prototypes = dict(prototypes or {})
    source, classes = _open(config)
    device = devices.resolve_device(config.device)
    params, param_sources = _checked_params(config, device, prototypes)
    wanted = {name: detectors.needs(build(name, {}, prototypes.get(name))) for name in config.detectors}
    supervised = [name for name, needed in wanted.items() if "adversarial" in needed]
    if supervised and config.protocol != protocols.SUPERVISED:
        raise AdvbenchError(
            f"--detectors: {', '.join(supervised)} fit on a training attack set; run them with --protocol supervised "
            "--fit-attack NAME"
        )
    inputs = None
    if any(wanted.values()):
        shape = source.split(config.protocol, classes[0], config.seeds[0]).train.shape[1:]
        inputs = victim_inputs.resolve(config.victim, config.gtsrb_root, source, shape, wanted)
    hashes = {
        name: config_hash(source.sha256, name, params[name], inputs and inputs.record(wanted[name]))
        for name in config.detectors
    }
    uses_device = any("device" in values for values in params.values())
    settings = guard.run_settings(
        source.sha256,
        hashes,
        device if uses_device else None,
        config.threads,
        config.profile,
        config.protocol,
        config.fit_attack,
    )
    columns = source.columns(config.protocol)
    return Plan(source, columns, classes, device, params, param_sources, hashes, settings, inputs, prototypes)


#: What rendering a folder is to the run loop: a function of the folder.
Render = Callable[[Path], object]


def run(config: RunConfig, command_line: list[str], render: Render | None = None, rendered: Iterable[str] = ()) -> int:
    """Run every missing (detector, seed) pair of ``config``, then ``render(out)`` inside the folder's
    lock (``rendered``: what it writes, for ``--force``); print the closing lines; the exit code."""
    entry, failed = execute(config, command_line, render, rendered)
    return _closing_lines(config.out, entry, failed)


def execute(
    config: RunConfig,
    command_line: list[str],
    render: Render | None = None,
    rendered: Iterable[str] = (),
    prototypes: Mapping[str, object] | None = None,
) -> tuple[dict, list[dict]]:
    """``run`` without its closing lines: the run's ``run.json`` entry and the first line of each failed
    pair; ``prototypes``: detectors the registry does not build (see the module docstring)."""
    started = time.time()
    planned = plan(config, prototypes)
    out = config.out
    if out.exists() and not out.is_dir():
        raise AdvbenchError(f"--out {out}: exists and is not a folder")
    if config.force and _stranger_folder(out):
        raise AdvbenchError(
            f"--force: --out {out} is not a run folder (no {results.RESULTS} or {results.RUN_JSON}); nothing "
            "removed: give a run folder, or a new or empty one"
        )
    out.mkdir(parents=True, exist_ok=True)
    with lock.hold(out, f"--out {out}", " ".join(command_line)):
        return _run_locked(config, command_line, planned, started, render, tuple(rendered))


def _attack_info(attack) -> dict:
    """What the report needs to know of an attack set: family, parameters, counts, median distances."""
    from advbench.datasets.benchmark_file import attack_summary

    info = attack_summary(attack)
    keys = ("family", "params", "count", "attempted", "median_l2", "median_linf", "adaptive")
    return {key: info[key] for key in keys if key in info}


def _run_entry(config: RunConfig, command_line: list[str], planned: Plan) -> dict:
    """This run's entry of ``run.json`` as it starts."""
    source = planned.source
    return {
        "config": config.to_json(),
        "command_line": command_line,
        "benchmark": source.benchmark,
        "data": source.describe(),
        "data_sha256": source.sha256,
        "attacks": planned.columns,
        "classes": planned.classes,
        "attack_sets": {name: _attack_info(source.bench.attacks[name]) for name in source.attacks},
        "device": planned.device,
        "settings": planned.settings,
        "detector_params": planned.params,
        "detector_param_sources": planned.param_sources,
        "config_hashes": planned.hashes,
        **({"victim_inputs": asdict(planned.inputs)} if planned.inputs else {}),
        "environment": _environment(),
        "started": now(),
        "status": "running",
    }


def _run_locked(
    config: RunConfig,
    command_line: list[str],
    planned: Plan,
    started: float,
    render: Render | None,
    rendered: tuple[str, ...],
) -> tuple[dict, list[dict]]:
    out = config.out
    if config.force:
        _clear(out, rendered)
    existing = results.repair(out)
    if config.recompute_changed:
        existing = _drop_changed(out, existing, planned.settings)
    guard.check(out, existing, planned.settings)
    source = planned.source
    existing, notes = relabel.relabel(
        out, existing, source.benchmark, source.sha256, planned.hashes, planned.param_sources
    )
    for note in notes:
        print(f"advbench run: {out / results.RESULTS}: {note}", file=sys.stderr)
    runs = history.close_interrupted(history.read_runs(out))
    cores = os.cpu_count() or 1
    if config.jobs * config.threads > cores:
        print(
            f"advbench run: warning: --jobs {config.jobs} x --threads {config.threads} exceeds the {cores} CPU "
            "cores; the pairs will compete for them",
            file=sys.stderr,
        )
    pairs = [(name, seed, c) for seed in config.seeds for c in planned.classes for name in config.detectors]
    if planned.source.bench is not None:
        existing = results.upgrade(out, existing, planned.source.bench)
        attacks = planned.source.bench.attacks
        pairing.write(out, planned.source.sha256, {name: attack.source_index for name, attack in attacks.items()})
    done = _finished(out, existing, planned.columns)
    todo = [(name, seed, c) for name, seed, c in pairs if (name, seed, class_key(config.protocol, c)) not in done]
    entry = _run_entry(config, command_line, planned)
    history.write_runs(out, [*runs, entry])
    try:
        failed = _compute(_tasks(config, planned, entry, todo), config, planned.device, len(pairs))
        if render is not None:
            render(out)
    except BaseException as exc:
        entry.update(status=f"failed: {type(exc).__name__}", finished=now(), wall_seconds=time.time() - started)
        history.write_runs(out, [*runs, entry])
        raise
    entry.update(
        status="finished",
        finished=now(),
        wall_seconds=time.time() - started,
        pairs={"total": len(pairs), "reused": len(pairs) - len(todo), "computed": len(todo), "failed": len(failed)},
        failures=[{"detector": f["detector"], "seed": f["seed"], "error": f["error"]} for f in failed],
    )
    history.write_runs(out, [*runs, entry])
    return entry, failed


def _closing_lines(out: Path, entry: dict, failed: list[dict]) -> int:
    """Print the run's summary and its failures; the exit code."""
    pairs = entry["pairs"]
    print(
        f"advbench run: {pairs['total']} pairs ({pairs['reused']} reused, {pairs['computed']} computed) "
        f"in {entry['wall_seconds']:.0f} s; tables in {out}",
        file=sys.stderr,
    )
    if not failed:
        return 0
    print(f"advbench run: {len(failed)} pair(s) failed:", file=sys.stderr)
    for line in failed:
        print(f"  {line['detector']} seed {line['seed']}: {line['error']}", file=sys.stderr)
    return 1


def _tasks(config: RunConfig, planned: Plan, entry: dict, todo: list[tuple[str, int, int]]) -> list[PairTask]:
    """What ``fit_and_score`` needs for each pair to compute (picklable, for worker processes)."""
    source = planned.source
    tasks = []
    for name, seed, normal_class in todo:
        resolved = _resolved(config, name, seed, planned.device, planned.prototypes.get(name))
        tasks.append(
            PairTask(
                source_kind=config.source_kind,
                benchmark=source.benchmark,
                data=source.location,
                data_sha256=source.sha256,
                out=str(config.out),
                attacks=source.attacks or None,
                threads=config.threads,
                profile=config.profile,
                protocol=config.protocol,
                versions=entry["environment"]["versions"],
                detector=name,
                seed=seed,
                normal_class=normal_class,
                config_hash=planned.hashes[name],
                params=resolved.params,
                param_sources=resolved.sources,
                inputs=planned.inputs,
                prototype=planned.prototypes.get(name),
                fit_attack=config.fit_attack,
            )
        )
    return tasks


def _compute(tasks: list[PairTask], config: RunConfig, device: str, total: int) -> list[dict]:
    """Run the pairs of ``tasks`` (in this process, in ``--jobs`` workers, or as Ray tasks), record each; the
    failed pairs' lines."""
    from tqdm import tqdm

    failed: list[dict] = []
    bar = tqdm(total=total, initial=total - len(tasks), unit="pair", file=sys.stderr, dynamic_ncols=True)

    def record(found: list) -> None:
        lines = [line.to_record() for line in found]
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


def _run_pool(tasks: list[PairTask], config: RunConfig, device: str, record) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(
        config.jobs, mp_context=context, initializer=devices.configure_process, initargs=(config.threads, device)
    )
    try:
        futures = [executor.submit(fit_and_score, task) for task in tasks]
        for future in as_completed(futures):
            record(future.result())
    except BrokenProcessPool:
        message = "a worker process died (killed, or out of memory?); run the same command again to resume"
        raise RunError(message) from None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
