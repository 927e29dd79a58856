"""``advbench run --executor ray``: the pairs of a run as Ray tasks, on one machine or a cluster.

Each (detector, seed, normal class) pair is one Ray task that reserves ``num_cpus = --threads``
(and ``num_gpus = 1`` when the run's device is CUDA), sets the same thread count in torch and the
BLAS pools as the process pool does (``devices.configure_process``), and runs the runner's own
``pair.fit_and_score``. So a pair computes exactly what it computes under ``--jobs N``, bit for bit on
the CPU. The driver (the ``advbench run`` process) records every pair as it finishes, through the
same callback as the process pool: ``results.jsonl``, resume, the folder guard and failure
recording are unchanged.

What travels: a task carries its parameters and the *path* of the data (``--data`` or
``--root``), and the worker reads the data from that path (once per worker process, then kept);
on a cluster every node must see the data and the run folder at the same paths (a shared file
system), because workers also write the pairs' scores files into ``--out`` themselves. Results
come back through Ray's object store. Without ``--ray-address`` Ray starts a local instance (it
uses the machine's cores: keep ``--threads`` times the pairs that fit at once within them);
with ``--ray-address auto`` or ``ray://host:10001`` it joins an existing cluster.

Ray is an optional extra: ``pip install "advbench[ray]"``.
"""

from __future__ import annotations

import importlib

from advbench.runs import devices
from advbench.runs.pair import PairTask, ResultLine, fit_and_score

INSTALL_HINT = 'Ray is not installed: pip install "advbench[ray]"'


def check_available() -> None:
    """AdvbenchError-ready ValueError when Ray is missing."""
    try:
        importlib.import_module("ray")
    except ImportError:
        raise ValueError(INSTALL_HINT) from None


def _pair(task: PairTask, threads: int, device: str) -> list[ResultLine]:
    devices.configure_process(threads, device)
    return fit_and_score(task)


def run_pairs(tasks: list[PairTask], threads: int, device: str, address: str | None, record) -> None:
    """Run ``tasks`` as Ray tasks and call ``record(lines)`` in this process as each finishes."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=threads, num_gpus=1 if device.startswith("cuda") else 0, max_retries=0)(_pair)
        pending = [remote.remote(task, threads, device) for task in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            record(ray.get(done[0]))
    finally:
        if started:
            ray.shutdown()
