"""Command-line options shared by every command that reads GTSRB (``--gtsrb-root``, ``--download``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from advbench.errors import DataError

#: Default data folder (git-ignored): downloaded archives, parsed caches, built HDF5 files.
DEFAULT_DATA_DIR = "datasets"


def add_gtsrb_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--gtsrb-root`` (or env ADVBENCH_GTSRB_ROOT), ``--download`` and ``--data-dir``."""
    group = parser.add_argument_group("GTSRB source")
    source = group.add_mutually_exclusive_group()
    source.add_argument(
        "--gtsrb-root",
        metavar="DIR",
        default=os.environ.get("ADVBENCH_GTSRB_ROOT"),
        help="GTSRB copy: the folder holding GTSRB/ or GTSRB/ itself (default: $ADVBENCH_GTSRB_ROOT)",
    )
    source.add_argument(
        "--download",
        action="store_true",
        help="download the official archives into DATA_DIR/gtsrb (checksums verified, resumable)",
    )
    group.add_argument(
        "--data-dir",
        metavar="DIR",
        default=os.environ.get("ADVBENCH_DATA_DIR", DEFAULT_DATA_DIR),
        help="data folder for downloads and caches (default: $ADVBENCH_DATA_DIR or ./datasets)",
    )


def gtsrb_from_args(args: argparse.Namespace):
    """Load GTSRB as the options say; raise DataError with a one-line message on bad input."""
    from advbench.datasets.gtsrb import load_gtsrb

    data_dir = Path(args.data_dir)
    if args.download:
        from advbench.datasets.download import download_gtsrb

        root = download_gtsrb(data_dir / "gtsrb", progress=sys.stderr.isatty())
    elif args.gtsrb_root:
        root = Path(args.gtsrb_root)
    else:
        raise DataError("--gtsrb-root is required (or set ADVBENCH_GTSRB_ROOT, or pass --download)")
    return load_gtsrb(root, cache_dir=data_dir / "cache", progress=sys.stderr.isatty())
