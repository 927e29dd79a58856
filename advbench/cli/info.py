"""``advbench info``: summarize a GTSRB copy, the MNIST or Fashion-MNIST files, or a benchmark file."""

from __future__ import annotations

import argparse
import json

from advbench.cli.options import GTSRB_FLAGS, benchmark_flags
from advbench.cli.parsing import add_flags
from advbench.datasets import registry


def _labelled_images(benchmark: registry.Benchmark, args: argparse.Namespace) -> dict:
    """Counts per class of a benchmark read from its labelled images (``--root`` or ``--download``)."""
    from advbench.cli.options import data_from_args

    return data_from_args(benchmark, args).summary()


def _gtsrb(args: argparse.Namespace) -> dict:
    """Counts of a GTSRB copy and of its normal class's training and test images."""
    from advbench.cli.options import data_from_args
    from advbench.datasets.gtsrb import normal_split

    data = data_from_args(registry.get(args.benchmark), args)
    split = normal_split(data, args.normal_class)
    return data.summary() | {
        "normal_class": args.normal_class,
        "normal_train": int(split.train.shape[0]),
        "normal_test": int(split.test.shape[0]),
    }


def _handler(args: argparse.Namespace) -> int:
    benchmark = registry.get(args.benchmark)
    if benchmark.run_source == registry.LABELLED_IMAGES:
        info = _labelled_images(benchmark, args)
    elif args.file is not None:
        from advbench.datasets.benchmark_file import summary

        info = summary(args.file)
    else:
        info = _gtsrb(args)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        width = max(len(key) for key in info)
        for key, value in info.items():
            if isinstance(value, dict):
                value = json.dumps(value, sort_keys=True)
            print(f"{key:<{width}}  {value}")
    return 0


def register(sub) -> None:
    """Add the ``info`` sub-command."""
    info = sub.add_parser(
        "info",
        help="summarize a GTSRB copy, MNIST or Fashion-MNIST, or a benchmark HDF5 file",
        description="Summarize a GTSRB copy (--gtsrb-root), the MNIST or Fashion-MNIST files (--benchmark, --root), "
        "or a benchmark file built by generate-attacks.",
    )
    info.add_argument("file", nargs="?", help="benchmark HDF5 file (omit to summarize --gtsrb-root)")
    add_flags(info, GTSRB_FLAGS)
    info.add_argument("--normal-class", type=int, default=14, help="class treated as normal (default: 14, stop)")
    add_flags(info, benchmark_flags("which data to summarize"))
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(handler=_handler)
