"""The parser of a command and the command line it records, both from its declared options
(``advbench.flags.Flag``)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from advbench.flags import Flag


def add_flags(parser: argparse.ArgumentParser, flags: Iterable[Flag], *, with_defaults: bool = True) -> None:
    """Add ``flags`` to ``parser`` in argument groups named by ``Flag.group``; with ``with_defaults``
    False every flag not given parses to None (``advbench run`` fills it from ``--config``, then the
    declared default)."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    exclusive: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for flag in flags:
        if flag.group not in groups:
            groups[flag.group] = parser.add_argument_group(flag.group)
        group = groups[flag.group]
        if flag.exclusive:
            if flag.group not in exclusive:
                exclusive[flag.group] = group.add_mutually_exclusive_group()
            group = exclusive[flag.group]
        group.add_argument(flag.flag, **_argparse_options(flag, with_defaults))


def _argparse_options(flag: Flag, with_defaults: bool) -> dict:
    if flag.switch:
        return {"dest": flag.dest, "action": "store_true", "help": flag.help_text()}
    options = {
        "dest": flag.dest,
        "help": flag.help_text(),
        "metavar": flag.metavar,
        "type": flag.type,
        "choices": flag.choices,
        "action": "append" if flag.repeat else None,
        "default": flag.parser_default() if with_defaults else None,
    }
    return {key: value for key, value in options.items() if value is not None}


def command_words(words: list[str], flags: Iterable[Flag], args: argparse.Namespace) -> list[str]:
    """``words`` followed by every flag ``args`` gives (valued flags in declaration order, then switches),
    rebuilt from the parsed values so that it is right when called in-process too."""
    flags = tuple(flags)
    for flag in flags:
        value = getattr(args, flag.dest)
        if not flag.switch and value is not None:
            words = [*words, flag.flag, str(value)]
    return words + [flag.flag for flag in flags if flag.switch and getattr(args, flag.dest)]
