"""The options of ``advbench run`` and ``generate-attacks`` are declared once (``RUN_FLAGS``,
``GENERATE_FLAGS``): the parser, the ``[run]`` keys of ``--config``, the command line a run records and
the flag list of docs/commands.md are checked against the declarations here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from advbench.cli import build_parser
from advbench.cli.generate_flags import GENERATE_FLAGS
from advbench.cli.run import _command_line
from advbench.runs.config import DEFAULTS, RUN_KEYS, RUN_TYPES
from advbench.runs.run_flags import RUN_FLAGS

COMMANDS_DOC = Path(__file__).resolve().parents[1] / "docs" / "commands.md"
DECLARED = {"run": RUN_FLAGS, "generate-attacks": GENERATE_FLAGS}
#: A flag's bullet in docs/commands.md: ``- `--flag METAVAR`: what it does ...``.
BULLET = re.compile(r"^- `(--[a-z][a-z0-9-]*)(?: ([^`]+))?`: ")


def _subparser(command: str) -> argparse.ArgumentParser:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices[command]


def _bullets(command: str) -> dict[str, tuple[str | None, str]]:
    """``{flag: (metavar, text)}`` of the flag list in the command's section of docs/commands.md (a bullet's
    text runs on over its indented lines)."""
    section = COMMANDS_DOC.read_text(encoding="utf-8").split(f"## `advbench {command}`\n", 1)[1].split("\n## ")[0]
    bullets: dict[str, list] = {}
    current = None
    for line in section.splitlines():
        match = BULLET.match(line)
        if match:
            current = match.group(1)
            assert current not in bullets, f"docs/commands.md, {command}: two bullets for {current}"
            bullets[current] = [match.group(2), line]
        elif current and line.startswith("  "):
            bullets[current][1] += " " + line.strip()
        else:
            current = None
    return {flag: (metavar, text) for flag, (metavar, text) in bullets.items()}


@pytest.mark.parametrize("command", DECLARED)
def test_the_parser_has_exactly_the_declared_flags(command):
    parser = _subparser(command)
    found = [option for action in parser._actions for option in action.option_strings if option.startswith("--")]
    assert sorted(set(found) - {"--help"}) == sorted(flag.flag for flag in DECLARED[command])
    for flag in DECLARED[command]:
        action = next(a for a in parser._actions if flag.flag in a.option_strings)
        assert action.dest == flag.dest and flag.help.replace("%", "%%") in action.help
        if flag.default_words is not None:
            assert action.help.endswith(f"(default: {flag.default_words})")


@pytest.mark.parametrize("command", DECLARED)
def test_the_docs_list_every_declared_flag_with_its_metavar_and_default(command):
    bullets = _bullets(command)
    assert sorted(bullets) == sorted(flag.flag for flag in DECLARED[command]), f"docs/commands.md, {command}"
    for flag in DECLARED[command]:
        metavar, text = bullets[flag.flag]
        assert metavar == flag.metavar, f"docs/commands.md, {command} {flag.flag}: metavar {metavar!r}"
        if flag.shown_default is None and flag.default_words is not None:
            assert f"Default: `{flag.default_words}`" in text, f"docs/commands.md, {command} {flag.flag}: default"


def test_the_run_keys_of_config_are_the_valued_flags_but_config():
    valued = [flag.dest for flag in RUN_FLAGS if not flag.switch]
    assert list(RUN_KEYS) == [key for key in valued if key != "config"] == list(RUN_TYPES)
    assert {flag.dest: flag.default for flag in RUN_FLAGS if flag.dest in RUN_KEYS} == DEFAULTS


def test_the_docs_name_the_flags_that_config_cannot_set():
    text = " ".join(COMMANDS_DOC.read_text(encoding="utf-8").split())
    sentence = re.search(r"Every flag but (.+?) can also come from a `\[run\]` table", text).group(1)
    assert sorted(re.findall(r"`(--[a-z-]+)`", sentence)) == sorted(
        flag.flag for flag in RUN_FLAGS if flag.dest not in RUN_KEYS
    )


def test_the_recorded_command_line_gives_back_every_flag():
    """run.json's command line, parsed again, gives the same values for every declared flag."""
    argv = ["run"]
    for flag in RUN_FLAGS:
        argv += [flag.flag] if flag.switch else [flag.flag, f"v-{flag.dest}"]
    args = build_parser().parse_args(argv)
    words = _command_line(args)
    assert words[:2] == ["advbench", "run"]
    again = build_parser().parse_args(words[1:])
    assert all(getattr(again, flag.dest) == getattr(args, flag.dest) for flag in RUN_FLAGS)
