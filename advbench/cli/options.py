"""Command-line options shared by several commands, declared as ``advbench.flags.Flag``: the GTSRB source
(``--gtsrb-root``, ``--download``, ``--data-dir``) and a benchmark's labelled images; readers of
``--device`` and of integer and list values."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from advbench.datasets.registry import DEFAULT_DATA_DIR
from advbench.errors import AdvbenchError, DataError
from advbench.flags import Flag


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def numbers(text: str, flag: str, kind: type) -> tuple:
    """``0,1,2`` -> (0, 1, 2) of ``kind``; AdvbenchError naming ``flag`` otherwise."""
    try:
        values = tuple(kind(word) for word in text.split(",") if word.strip())
    except ValueError:
        raise AdvbenchError(f"{flag} {text!r}: expected comma-separated {kind.__name__}s") from None
    if not values:
        raise AdvbenchError(f"{flag}: no value given")
    return values


def device(spec: str) -> str:
    """The device ``--device spec`` means on this machine (``torch_utils.resolve_device``);
    AdvbenchError naming the flag."""
    from advbench.torch_utils import resolve_device

    try:
        return str(resolve_device(spec))
    except ValueError as exc:
        raise AdvbenchError(f"--device {spec}: {exc}") from None


#: ``--gtsrb-root`` (or env ADVBENCH_GTSRB_ROOT), ``--download`` and ``--data-dir``.
GTSRB_FLAGS = (
    Flag(
        "--gtsrb-root",
        "GTSRB copy: the folder holding GTSRB/ or GTSRB/ itself",
        "GTSRB source",
        env="ADVBENCH_GTSRB_ROOT",
        shown_default="$ADVBENCH_GTSRB_ROOT",
        metavar="DIR",
        exclusive=True,
    ),
    Flag(
        "--download",
        "download the official archives into DATA_DIR/gtsrb (checksums verified, resumable)",
        "GTSRB source",
        switch=True,
        exclusive=True,
    ),
    Flag(
        "--data-dir",
        "data folder for downloads and caches",
        "GTSRB source",
        default=DEFAULT_DATA_DIR,
        env="ADVBENCH_DATA_DIR",
        shown_default=f"$ADVBENCH_DATA_DIR, else {DEFAULT_DATA_DIR}",
        metavar="DIR",
    ),
)


def benchmark_flags(what: str) -> tuple[Flag, Flag]:
    """``--benchmark`` (checked against the registry when used: a one-line error), saying it picks ``what``,
    and ``--root``."""
    from advbench.datasets import registry

    return (
        Flag(
            "--benchmark",
            f"{what}: {', '.join(registry.names())}",
            "data",
            default=registry.DEFAULT,
            metavar="|".join(registry.names()),
        ),
        Flag(
            "--root",
            "folder of the four IDX files of --benchmark mnist|fashion-mnist; for gtsrb, as --gtsrb-root",
            "data",
            shown_default="$ADVBENCH_MNIST_ROOT / $ADVBENCH_FASHION_MNIST_ROOT, then DATA_DIR/<benchmark>",
            metavar="DIR",
        ),
    )


def gtsrb_from_args(args: argparse.Namespace):
    """Load GTSRB as the options say (through the benchmark registry); DataError with a one-line
    message on bad input."""
    from advbench.datasets import registry

    gtsrb = registry.get("gtsrb")
    data_dir = Path(args.data_dir)
    if args.download:
        root = gtsrb.download(data_dir / gtsrb.name, sys.stderr.isatty())
    elif args.gtsrb_root:
        root = Path(args.gtsrb_root)
    else:
        raise DataError("--gtsrb-root is required (or set ADVBENCH_GTSRB_ROOT, or pass --download)")
    return gtsrb.load(root, data_dir, sys.stderr.isatty())


def data_from_args(benchmark, args: argparse.Namespace):
    """Load the labelled images of ``benchmark`` (``datasets.registry.Benchmark``): from ``--root``
    when given, else GTSRB as ``gtsrb_from_args`` says and the other benchmarks from ``--download``
    or their default folder (``Benchmark.default_root``); DataError with a one-line message on bad input."""
    from advbench.datasets import registry

    if benchmark.run_source == registry.ATTACK_FILE and not args.root:
        return gtsrb_from_args(args)
    data_dir = Path(args.data_dir)
    if args.download:
        root = benchmark.download(data_dir / benchmark.name, sys.stderr.isatty())
    else:
        root = Path(args.root) if args.root else benchmark.default_root(data_dir)
    return benchmark.load(root, data_dir, sys.stderr.isatty())
