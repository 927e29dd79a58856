"""Reading the TOML file of ``--config``, for every command that takes one (``run``: tables ``[run]`` and
``[detectors.<name>]``; ``generate-attacks``: ``[victim]`` and one per attack): one loader, and one
error type, ``DataError``, whose one-line message names the file."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

from advbench.errors import DataError


def read_toml(path: str | Path, tables: Iterable[str], shown: Iterable[str] | None = None) -> dict[str, dict]:
    """The tables of the TOML file ``path`` of ``--config``; DataError naming the file for a missing file, text
    that is not UTF-8, bad TOML, a table not among ``tables`` (the message lists ``shown``, default
    ``tables``), or a key of the top level that is not a table."""
    tables = tuple(tables)
    where = f"--config {path}"
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise DataError(f"{where}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: not UTF-8 text (TOML files are UTF-8): {exc.reason} at byte {exc.start}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{where}: not readable TOML: {exc}") from None
    unknown = sorted(set(data) - set(tables))
    if unknown:
        expected = " and ".join(f"[{name}]" for name in shown or tables)
        raise DataError(f"{where}: unknown table(s) {unknown}; expected {expected}")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise DataError(f"{where}: {name} must be a table ([{name}])")
    return data
