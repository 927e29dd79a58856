"""``advbench.evaluate``: fit and score one detector over seeds on a benchmark file, as ``advbench run`` does.

``evaluate`` runs the run loop itself (``runner.execute``: the plan and its checks, the parameter
resolver, the victim inputs, ``pair.fit_and_score``, the run folder with its lock, guard, resume and
``run.json``) with the configuration that ``advbench run --data DATA --detectors NAME`` builds from
the same values, into ``out`` or, without it, a temporary folder removed afterwards; then it reads
the folder's lines and scores into a table (``table``). Its numbers are the run's by construction.
What it runs for ``detector`` is ``detector_spec``'s; a detector that raises on a pair stops it
with a ``RunError`` naming the pair, with the detector's traceback as a note, after the other pairs
are done (and, with ``out``, recorded, as the run records them).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from advbench.errors import AdvbenchError, RunError


@contextlib.contextmanager
def _folder(out) -> Iterator[Path]:
    """``out``, or a temporary folder removed on leaving."""
    if out is not None:
        if not isinstance(out, str | os.PathLike):
            raise TypeError(f"out: expected a path; got {type(out).__name__}")
        yield Path(out)
        return
    with tempfile.TemporaryDirectory(prefix="advbench-evaluate-") as folder:
        yield Path(folder) / "run"


def _command_line(config) -> list[str]:
    """What ``run.json`` and the folder's lock record as the command."""
    values = {
        "detector": config.detectors[0],
        "data": config.data,
        "seeds": ",".join(map(str, config.seeds)),
        "attacks": config.attacks,
        "protocol": config.protocol,
        "device": config.device,
        "threads": config.threads,
        "profile": config.profile,
    }
    return ["advbench.evaluate", *(f"{key}={value}" for key, value in values.items())]


def evaluate(  # noqa: PLR0913 -- the public API: the run's flags as keyword arguments
    detector,
    data,
    *,
    seeds: int | Sequence[int] | str = 10,
    attacks: str | Sequence[str] = "all",
    metrics: str | Sequence[str] = "auroc",
    name: str | None = None,
    flatten: bool | None = None,
    protocol: str = "official",
    device: str = "auto",
    threads: int = 1,
    profile: str = "default",
    victim: str | os.PathLike | None = None,
    gtsrb_root: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    force: bool = False,
):
    """Fit ``detector`` on the clean training images of the benchmark file ``data`` once per seed, score the
    clean test images and every attack set, and return a pandas DataFrame with one row per (detector,
    seed, attack, metric): columns ``detector``, ``seed``, ``attack``, ``metric``, ``value``. Every
    argument is documented in the manual's page on the Python API."""
    from advbench.api.arguments import as_argument, run_config
    from advbench.api.detector_spec import spec
    from advbench.api.table import parse_metrics, table
    from advbench.runs import runner

    found = spec(detector, name, flatten)
    wanted = parse_metrics(metrics)
    with _folder(out) as folder:
        options = {
            "seeds": seeds,
            "attacks": attacks,
            "protocol": protocol,
            "device": device,
            "threads": threads,
            "profile": profile,
            "victim": victim,
            "gtsrb_root": gtsrb_root,
            "out": folder,
            "force": force,
        }
        config = run_config(found.name, found.table, data, options)
        prototypes = {} if found.prototype is None else {found.name: found.prototype}
        try:
            entry, failed = runner.execute(config, _command_line(config), prototypes=prototypes)
        except AdvbenchError as exc:
            raise type(exc)(as_argument(str(exc))) from None
        if failed:
            first = failed[0]
            error = RunError(
                f"detector {found.name} failed on seed {first['seed']} ({len(failed)} of {len(config.seeds)} "
                f"seeds failed): {first['error']}"
            )
            error.add_note(first.get("traceback", ""))
            raise error
        return table(folder, found.name, config.seeds, entry["attacks"], wanted)
