"""``advbench.evaluate``'s arguments as the run's configuration, and the run's messages in their terms.

``run_config`` checks every argument that the run loop does not check itself (each problem a
ValueError, TypeError or AdvbenchError naming the argument, in one line) and builds the
``RunConfig`` that ``advbench run`` would build from the same flags. ``as_argument`` rewrites what
the run loop says of a flag (``--gtsrb-root PATH: ...``) into the argument's name (``gtsrb_root
PATH: ...``), so that an error reads as the call was written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from advbench.datasets import protocols, registry
from advbench.runs.config import DEVICE_PATTERN, RunConfig, parse_seeds

#: The run's flags that are ``evaluate``'s arguments, by flag.
_ARGUMENTS = {
    "data": "data",
    "attacks": "attacks",
    "seeds": "seeds",
    "threads": "threads",
    "device": "device",
    "profile": "profile",
    "protocol": "protocol",
    "victim": "victim",
    "gtsrb-root": "gtsrb_root",
    "out": "out",
    "force": "force=True",
    "detectors": "detector",
}
_FLAG = re.compile(r"--(" + "|".join(sorted(_ARGUMENTS, key=len, reverse=True)) + r")\b")
_TABLE = re.compile(r"\[detectors\.[^\]]+\]")


def as_argument(message: str) -> str:
    """``message`` with the run's flags (and ``[detectors.<name>]`` tables) named as ``evaluate``'s arguments."""
    return _TABLE.sub("detector", _FLAG.sub(lambda match: _ARGUMENTS[match.group(1)], message))


def data_path(data) -> Path:
    """The benchmark file of ``data``: a path, or what ``advbench.load`` returned."""
    found = getattr(data, "path", data)
    if not isinstance(found, str | os.PathLike):
        raise TypeError(f"data: expected the path of a benchmark file or advbench.load()'s result; got {type(data)}")
    return Path(found)


def _path(value, argument: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{argument}: expected a path; got {type(value).__name__}")
    return Path(value)


def _choice(argument: str, value, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{argument}: expected one of {', '.join(choices)}; got {value!r}")
    return value


def _names(value, argument: str) -> str:
    """``all``, a comma list or a sequence of names, as the run's comma list."""
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and value and all(isinstance(item, str) for item in value):
        return ",".join(value)
    raise TypeError(f"{argument}: expected 'all', a comma list or a list of names; got {value!r}")


def _threads(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"threads: expected an integer >= 1; got {value!r}")
    return value


def run_config(name: str, table: dict, data, options: dict) -> RunConfig:
    """The ``RunConfig`` of ``advbench run --detectors NAME`` (with ``table`` as its ``[detectors.NAME]``)
    and the flags of ``options``, ``evaluate``'s keyword arguments by name: ``seeds``, ``attacks``,
    ``protocol``, ``device``, ``threads``, ``profile``, ``victim``, ``gtsrb_root``, ``out`` and ``force``."""
    from advbench.datasets.benchmark_file import file_benchmark
    from advbench.detectors.profiles import PROFILES

    path = data_path(data)
    seeds, device = options["seeds"], options["device"]
    if not isinstance(device, str) or not DEVICE_PATTERN.fullmatch(device):
        raise ValueError(f"device: expected auto, cpu, cuda or cuda:N; got {device!r}")
    checked = {
        "seeds": parse_seeds(
            list(seeds) if isinstance(seeds, Sequence | range) and not isinstance(seeds, str) else seeds, "seeds"
        ),
        "attacks": _names(options["attacks"], "attacks"),
        "protocol": _choice("protocol", options["protocol"], protocols.PROTOCOLS),
        "threads": _threads(options["threads"]),
        "profile": _choice("profile", options["profile"], PROFILES),
        "victim": _path(options["victim"], "victim"),
        "gtsrb_root": _path(options["gtsrb_root"], "gtsrb_root"),
    }
    benchmark = registry.get(file_benchmark(path, "data"), f"data {path}: benchmark attribute")
    return RunConfig(
        data=path,
        out=options["out"],
        detectors=[name],
        jobs=1,
        device=device,
        benchmark=benchmark.name,
        source_kind=registry.ATTACK_FILE,
        params={name: dict(table)},
        force=bool(options["force"]),
        **checked,
    )
