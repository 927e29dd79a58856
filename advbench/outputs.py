"""Guards on output paths, shared by the commands that write: nothing a user types makes a command
delete or overwrite what it did not create.

- ``check_apart``: an output is not an input, inside one or above one. Paths are compared resolved
  (symbolic links and ``..`` followed), so another spelling of an input is caught too.
- ``check_file_out``: an output file is not a folder, and its folder exists or can be created and
  takes a new file (tried with a temporary file), so a run does not fail at its end.
- ``check_folder_out`` and ``write_marker``: an output folder that exists is replaced only when it
  is empty or carries the marker file that the same command wrote into an earlier build.

Each guard raises ``AdvbenchError`` with one line naming the flag, the path and the problem; the
commands call them before any work.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from advbench import __version__
from advbench.errors import AdvbenchError


def _relation(out: Path, other: Path) -> str | None:
    """How ``out`` sits against ``other``, resolved: "is", "is inside", "holds", or None when apart."""
    out, other = out.resolve(), other.resolve()
    if out == other:
        return "is"
    if out.is_relative_to(other):
        return "is inside"
    if other.is_relative_to(out):
        return "holds"
    return None


def check_apart(flag: str, out: str | os.PathLike, inputs: dict[str, str | os.PathLike | None]) -> None:
    """AdvbenchError when ``out`` is, is inside or holds one of ``inputs`` (``{flag: path}``; None: not given)."""
    for name, path in inputs.items():
        if path is None:
            continue
        relation = _relation(Path(out), Path(path))
        if relation is not None:
            raise AdvbenchError(f"{flag} {out}: {relation} the input {name} {path}; write the output elsewhere")


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_file_out(flag: str, out: str | os.PathLike) -> None:
    """AdvbenchError when ``out`` is a folder, or its folder cannot be created or written in."""
    out = Path(out)
    if out.is_dir():
        raise AdvbenchError(f"{flag} {out}: is a folder; name the file to write")
    folder = _nearest_existing(out.absolute().parent)
    if not folder.is_dir():
        raise AdvbenchError(f"{flag} {out}: {folder} is a file, not a folder")
    try:
        handle, tmp = tempfile.mkstemp(prefix=".advbench-write-check.", dir=folder)
        os.close(handle)
        os.unlink(tmp)
    except OSError as exc:
        raise AdvbenchError(f"{flag} {out}: cannot write in the folder {folder} ({exc.strerror})") from None


def _marker_command(folder: Path, marker: str) -> str | None:
    """The command named by ``folder``'s marker file, None when it has no readable one."""
    try:
        data = json.loads((folder / marker).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("command") if isinstance(data, dict) else None


def check_folder_out(flag: str, out: str | os.PathLike, marker: str, command: str) -> None:
    """AdvbenchError when ``out`` exists and is a file, or a folder that is neither empty nor marked
    (``marker``) as built by ``command``; ``out``'s parent folder must exist."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AdvbenchError(f"{flag} {out}: is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and _marker_command(out, marker) != command:
        raise AdvbenchError(
            f"{flag} {out}: a folder that is not empty and not built by `{command}` (no {marker} in it); "
            "it is not replaced: give a new or empty folder"
        )
    if not out.parent.is_dir():
        raise AdvbenchError(f"{flag} {out}: its parent folder does not exist")


def write_marker(folder: Path, marker: str, command: str) -> None:
    """Mark ``folder`` as built by ``command`` (JSON: the command and the advbench version)."""
    text = json.dumps({"command": command, "version": __version__}, sort_keys=True)
    (folder / marker).write_text(text + "\n", encoding="utf-8")
