"""``run.json``: the history of a run folder, one entry per ``advbench run`` into it.

``{"runs": [entry, ...]}``, oldest first. Each run appends its entry when it starts (``status``
``running``) and completes it when it ends (``finished``, or ``failed: <error>`` when it stopped
early): command line, configuration, the guard's settings, detector parameters, environment,
timings, pair counts and failures. A run killed outright (SIGKILL, a lost machine) cannot complete
its entry; the next run into the folder marks it ``interrupted`` (``close_interrupted``).
``--force`` starts the history over with the results. A
``run.json`` written before histories existed (one run's entry as the whole file) reads as a
history of that one entry.
"""

from __future__ import annotations

import json
from pathlib import Path

from advbench.errors import DataError
from advbench.fileio import write_text_atomic
from advbench.runs.results import RUN_JSON, to_json_text


def read_runs(out: Path) -> list[dict]:
    """The entries of ``out/run.json`` (none when it does not exist)."""
    path = Path(out) / RUN_JSON
    if not path.is_file():
        return []
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(info, dict):
        raise DataError(f"{path}: not a run history (expected a JSON object)")
    return list(info["runs"]) if "runs" in info else [info]


#: The status of an entry whose run ended without completing it.
INTERRUPTED = "interrupted: the process ended before it could record its end"


def close_interrupted(runs: list[dict]) -> list[dict]:
    """``runs`` with every entry still ``running`` marked ``INTERRUPTED``. Call it while holding the
    folder's lock: the lock is free only once the process of every earlier run has ended, so an
    entry still running then belongs to a run that was killed."""
    return [entry | {"status": INTERRUPTED} if entry.get("status") == "running" else entry for entry in runs]


def write_runs(out: Path, runs: list[dict]) -> None:
    """Write the history atomically."""
    write_text_atomic(Path(out) / RUN_JSON, to_json_text({"runs": runs}))


def union(lists) -> list:
    """The values of several lists (e.g. each run's seeds), each once, in first-seen order."""
    out: list = []
    for values in lists:
        out += [value for value in values if value not in out]
    return out
