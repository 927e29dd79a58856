"""Command-line options declared once.

A ``Flag`` holds what a command-line option is: its name, help, default, how the parser reads it and,
for ``advbench run``, the types a ``[run]`` value of ``--config`` may take. The parser and
the command line a run records (``advbench.cli.parsing``), the TOML keys and types (``toml_types``)
and the flag list of ``docs/commands.md`` (checked by a test) all come from the declarations:
``advbench.runs.run_flags`` and ``advbench.cli.generate_flags``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    """One option of one command.

    ``default`` is the built-in value; ``shown_default`` says it in words where it depends on other flags
    or on the environment (``env``, read when the parser is built). ``toml``: the types a ``[run]`` value
    may hold (a type, or ``list[T]``); empty for an option of the command line only."""

    flag: str
    help: str
    group: str
    default: object = None
    shown_default: str | None = None
    metavar: str | None = None
    switch: bool = False
    repeat: bool = False
    type: Callable | None = None
    choices: tuple | None = None
    env: str | None = None
    exclusive: bool = False
    toml: tuple = ()

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments (``--ray-address`` -> ``ray_address``)."""
        return self.flag[2:].replace("-", "_")

    @property
    def default_words(self) -> str | None:
        """The default as help and docs say it, None when the flag has none to say."""
        if self.shown_default is not None:
            return self.shown_default
        return None if self.switch or self.default is None else str(self.default)

    def help_text(self) -> str:
        """``help``, with its default appended (``%`` escaped for the parser)."""
        words = self.default_words
        text = self.help if words is None else f"{self.help} (default: {words})"
        return text.replace("%", "%%")

    def parser_default(self):
        """The value parsed when the flag is not given: the environment's, else ``default``."""
        return os.environ.get(self.env, self.default) if self.env else self.default


def toml_types(flags: Iterable[Flag]) -> dict[str, tuple]:
    """``{key: types}`` of the flags a TOML table may set."""
    return {flag.dest: flag.toml for flag in flags if flag.toml}
