"""The documentation stays true: docs/commands.md names exactly the parser's flags per command,
README.md stays short, and every relative link in README.md and docs/*.md resolves."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from advbench.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
COMMANDS_DOC = ROOT / "docs" / "commands.md"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND_HEADING = re.compile(r"^## `advbench ([a-z-]+)`\s*$")
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
TOP = ""  # the text before the first command heading: the top-level parser


def _parser_flags() -> dict[str, set[str]]:
    """Long flags per sub-command ("" for the top level), without --help."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))

    def flags(p: argparse.ArgumentParser) -> set[str]:
        return {o for a in p._actions for o in a.option_strings if o.startswith("--")} - {"--help"}

    return {TOP: flags(parser)} | {name: flags(p) for name, p in subparsers.choices.items()}


def _doc_flags() -> dict[str, set[str]]:
    """Flags written in docs/commands.md, per `## \\`advbench <command>\\`` section."""
    sections: dict[str, set[str]] = {TOP: set()}
    current = TOP
    for line in COMMANDS_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            match = COMMAND_HEADING.match(line)
            assert match, f"docs/commands.md: {line!r} is not a '## `advbench <command>`' heading"
            current = match.group(1)
            assert current not in sections, f"docs/commands.md: two sections for {current}"
            sections[current] = set()
        sections[current] |= set(FLAG.findall(line)) - {"--help"}
    return sections


PARSER = _parser_flags()
COMMANDS = sorted(PARSER)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c or "top-level")
def test_documented_flags_exist(command):
    documented = _doc_flags()
    assert command in documented, f"docs/commands.md has no '## `advbench {command}`' section"
    unknown = documented[command] - PARSER[command]
    assert not unknown, f"docs/commands.md, advbench {command}: flags the parser does not have: {sorted(unknown)}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c or "top-level")
def test_parser_flags_documented(command):
    missing = PARSER[command] - _doc_flags().get(command, set())
    assert not missing, f"docs/commands.md, advbench {command}: flags not documented: {sorted(missing)}"


def test_no_section_for_an_unknown_command():
    assert set(_doc_flags()) <= set(PARSER)


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines (at most 200)"


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http(s), mailto: or an anchor in the same file
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        if not resolved.exists():
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links to missing files: {broken}"


@pytest.mark.parametrize("path", sorted((ROOT / "docs").glob("*.md")), ids=lambda p: p.name)
def test_named_source_files_exist(path):
    """Every ``advbench/...py`` or ``tests/...py`` a page names (``<name>`` placeholders aside) exists."""
    named = re.findall(r"`((?:advbench|tests|benchmarks)/[\w/.-]+\.py)`", path.read_text(encoding="utf-8"))
    missing = [name for name in named if not (ROOT / name).exists()]
    assert not missing, f"docs/{path.name} names missing files: {missing}"
