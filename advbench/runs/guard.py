"""The folder guard: every result in a run folder was computed with the same settings.

A run adds to a folder only when its settings equal those every line already there records;
otherwise it stops with one line naming the setting (``--force`` starts the folder over;
``--recompute-changed`` computes again the pairs that differ only in their detector's parameters). The
settings are those that change the numbers, as a small dict (``run_settings``):

- ``data_sha256``: the benchmark file;
- ``config_hash``: per detector, its hyperparameters (compared for the detectors the run computes,
  and for the lines of their score variants, ``<detector>[<variant>]``, which carry their detector's);
- ``device``: the kind of device (``cpu``, ``cuda``) the deep detectors run on, compared between
  lines of detectors that take a ``device`` and only when the run computes such a detector (the
  classic detectors always run on the CPU);
- ``threads``: CPU threads per pair (float reductions depend on it);
- ``profile``: the training profile;
- ``protocol``: where the normal test images come from (``advbench.datasets.protocols``);
- ``fit_attack``: under ``--protocol supervised`` only, the training attack set the supervised
  detectors fit on.

Lines written before a setting was recorded get its value of that time (``threads`` 1, ``profile``
``default``, ``protocol`` ``official``). A new setting is one more key here and in ``line_settings``.
"""

from __future__ import annotations

from pathlib import Path

from advbench.errors import AdvbenchError
from advbench.runs.devices import device_kind
from advbench.score_variants import split_variant

HINT = "use another --out, or --force to discard them and start over"
#: What a line written before a setting existed was computed with.
LEGACY = {"threads": 1, "profile": "default", "protocol": "official"}


def run_settings(
    data_sha256: str,
    config_hashes: dict[str, str],
    device: str | None,
    threads: int,
    profile: str,
    protocol: str = "official",
    fit_attack: str | None = None,
) -> dict:
    """The settings of a run; ``device`` None when the run computes no detector that takes one."""
    return {
        "data_sha256": data_sha256,
        "config_hash": dict(config_hashes),
        "device": None if device is None else device_kind(device),
        "threads": threads,
        "profile": profile,
        "protocol": protocol,
        **({"fit_attack": fit_attack} if fit_attack is not None else {}),
    }


def line_settings(record: dict) -> dict:
    """The settings one result line was computed with (None: not applicable to it)."""
    device = record.get("device") if "device" in record.get("params", {}) else None
    return {
        "data_sha256": record["data_sha256"],
        "config_hash": record["config_hash"],
        # "auto": a line of a pair that failed before its detector chose a device (older runs)
        "device": None if device in (None, "auto") else device_kind(device),
        "threads": record.get("threads", LEGACY["threads"]),
        "profile": record.get("profile", LEGACY["profile"]),
        "protocol": record.get("protocol", LEGACY["protocol"]),
        "fit_attack": record.get("fit_attack"),
    }


def differences(record: dict, settings: dict) -> list[str]:
    """The settings in which ``record`` differs from a run's (keys that apply to both)."""
    have = line_settings(record)
    want = {**settings, "config_hash": settings["config_hash"].get(split_variant(record["detector"])[0])}
    return [key for key in want if None not in (want[key], have[key]) and want[key] != have[key]]


def _message(out: Path, record: dict, key: str, settings: dict) -> str:
    have = line_settings(record)[key]
    if key == "data_sha256":
        return (
            f"--out {out}: holds results for another data file (sha256 {have[:12]}, not {settings[key][:12]}); {HINT}"
        )
    if key == "config_hash":
        return (
            f"--out {out}: holds results of {split_variant(record['detector'])[0]} with other parameters; "
            f"--recompute-changed computes those pairs again, or {HINT}"
        )
    flag = "--" + key.replace("_", "-")
    return f"--out {out}: holds results computed with {flag} {have} ({record['detector']}), not {settings[key]}; {HINT}"


def check(out: Path, existing: list[dict], settings: dict) -> None:
    """AdvbenchError (one line, naming the setting) when a line of ``existing`` was computed otherwise."""
    for record in existing:
        keys = differences(record, settings)
        if keys:
            raise AdvbenchError(_message(out, record, keys[0], settings))
