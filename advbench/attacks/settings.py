"""Attack and victim settings from a TOML file (``--config``) and ``--set SECTION.KEY=VALUE`` options.

Sections are ``victim`` and the attack names; values are cast to the type of the default they
replace (``coerce``), so ``--set bim.steps=20`` gives an int and ``--set fgsm.eps=0.03`` a float.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from advbench.attacks.registry import ATTACKS
from advbench.config_file import read_toml
from advbench.errors import AdvbenchError

SECTIONS = ("victim", *ATTACKS)


def coerce(section: str, key: str, value, default):
    """``value`` cast to ``type(default)``; ValueError naming ``section.key`` when it does not fit."""
    kind = type(default)
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{section}.{key}: expected true or false, got {value!r}")
        return value
    try:
        if kind is int and (isinstance(value, bool) or not float(value).is_integer()):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{section}.{key}: expected {kind.__name__}, got {value!r}") from None


def _parse_value(text: str):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def load_settings(config_file: str | Path | None, assignments: list[str]) -> dict[str, dict]:
    """Merge the ``--config`` tables (``config_file.read_toml``: DataError naming the file) and the ``--set``
    assignments (which win) into ``{section: {key: value}}``."""
    settings: dict[str, dict] = {}
    if config_file is not None:
        settings = {section: dict(table) for section, table in read_toml(config_file, SECTIONS).items()}
    for item in assignments:
        target, sep, value = item.partition("=")
        section, dot, key = target.strip().partition(".")
        if not sep or not dot or not key or section not in SECTIONS:
            raise AdvbenchError(f"--set {item!r}: expected SECTION.KEY=VALUE with SECTION one of {', '.join(SECTIONS)}")
        settings.setdefault(section, {})[key.strip()] = _parse_value(value.strip())
    return settings
