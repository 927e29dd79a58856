"""One writer per run folder: an exclusive lock held for a whole ``advbench run`` or ``report``.

The lock is ``filelock``'s OS-level lock (``flock``) on ``<folder>/.advbench.lock``: the operating
system drops it when the holding process ends, however it ends, so a killed run never blocks the
next one. The lock file itself stays (removing it would let two processes lock two different
files). While it holds the lock, a process keeps ``.advbench.lock.json`` beside it (pid, host,
start time, command) so that a second process can say who holds the folder; a holder that was
killed leaves that file behind, and the next holder overwrites it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from advbench.errors import AdvbenchError
from advbench.fileio import write_text_atomic

LOCK = ".advbench.lock"
HOLDER = ".advbench.lock.json"


def _holder(folder: Path) -> str:
    """Who holds ``folder``, from the side file (best effort: the holder may be writing it)."""
    try:
        info = json.loads((folder / HOLDER).read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}, since {info['started']}: {info['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


@contextlib.contextmanager
def hold(folder: Path, where: str, command: str) -> Iterator[None]:
    """Hold ``folder``'s lock for the ``with`` block; AdvbenchError naming the holder when another process has it.

    ``where`` names the folder in messages (``--out DIR``); ``command`` is recorded for other processes.
    """
    from filelock import FileLock, Timeout

    folder = Path(folder)
    lock = FileLock(folder / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise AdvbenchError(
            f"{where}: another advbench process is writing this folder ({_holder(folder)}); "
            "wait for it to finish or stop it"
        ) from None
    except OSError as exc:
        raise AdvbenchError(f"{where}: cannot lock the folder ({exc})") from None
    try:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": started, "command": command}
        write_text_atomic(folder / HOLDER, json.dumps(holder) + "\n")
        yield
    finally:
        (folder / HOLDER).unlink(missing_ok=True)
        lock.release()
