"""The ``advbench`` command line: ``info``, ``list``, ``generate-attacks``, ``run``, ``report``.

Each subpackage that owns a command registers its sub-parser (``register(subparsers)``) and a
handler ``args.handler(args) -> int``. Errors in the user's input (``AdvbenchError``, and
``ValueError`` from argument parsing) become one line on stderr and exit code 2; a run that
could not finish for another reason (``RunError``: a worker process died) one line and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from advbench import __version__
from advbench.errors import AdvbenchError, RunError


def _one_class_info(args: argparse.Namespace) -> dict:
    """``info --benchmark mnist|fashion-mnist``: counts per class of the official files."""
    from advbench.datasets import mnist

    if args.download:
        root = mnist.download(args.benchmark, Path(args.data_dir) / args.benchmark, progress=sys.stderr.isatty())
    else:
        root = Path(args.root) if args.root else mnist.default_root(args.benchmark, args.data_dir)
    return mnist.load(args.benchmark, root).summary()


def _cmd_info(args: argparse.Namespace) -> int:
    if args.benchmark != "gtsrb":
        info = _one_class_info(args)
    elif args.file is not None:
        from advbench.datasets.benchmark_file import summary

        info = summary(args.file)
    else:
        from advbench.datasets.options import gtsrb_from_args
        from advbench.datasets.gtsrb import normal_split

        data = gtsrb_from_args(args)
        split = normal_split(data, args.normal_class)
        info = data.summary() | {
            "normal_class": args.normal_class,
            "normal_train": int(split.train.shape[0]),
            "normal_test": int(split.test.shape[0]),
        }
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        width = max(len(key) for key in info)
        for key, value in info.items():
            if isinstance(value, dict):
                value = json.dumps(value, sort_keys=True)
            print(f"{key:<{width}}  {value}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from advbench import attacks, detectors

    if args.pyod:
        from advbench.detectors import pyod_models

        try:
            models = pyod_models.available()
        except ValueError as exc:
            raise AdvbenchError(f"--pyod: {exc}") from None
        print("PyOD models (advbench run --detectors pyod:<name>):")
        for name, module in models.items():
            print(f"  pyod:{name:<22} {module}")
        return 0

    print("Detectors:")
    plugins = detectors.plugins()
    for name in detectors.names():
        try:
            text = detectors.describe(name)
        except ValueError as exc:  # a plug-in that does not load is listed with the reason
            text = str(exc)
        print(f"  {name:<22} {text}" + (f" (plug-in: {plugins[name].value})" if name in plugins else ""))
    for value in detectors.shadowed():
        print(f"  (ignored plug-in {value}: its name is a built-in detector's)")
    print("\nDetector groups:")
    for group, members in detectors.GROUPS.items():
        print(f"  {group:<22} {', '.join(members)}")
    print("\nAttacks:")
    for name, text in attacks.DESCRIPTIONS.items():
        print(f"  {name:<22} {text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (importing no heavy library)."""
    from advbench.attacks import command as attacks_command
    from advbench.datasets.options import add_gtsrb_arguments
    from advbench.reports import command as reports_command
    from advbench.runs import command as runs_command

    parser = argparse.ArgumentParser(
        prog="advbench",
        description="Adversarial-example detection benchmark on GTSRB stop signs.",
    )
    parser.add_argument("--version", action="version", version=f"advbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser(
        "info",
        help="summarize a GTSRB copy, MNIST or Fashion-MNIST, or a benchmark HDF5 file",
        description="Summarize a GTSRB copy (--gtsrb-root), the MNIST or Fashion-MNIST files (--benchmark, --root), "
        "or a benchmark file built by generate-attacks.",
    )
    info.add_argument("file", nargs="?", help="benchmark HDF5 file (omit to summarize --gtsrb-root)")
    add_gtsrb_arguments(info)
    info.add_argument("--normal-class", type=int, default=14, help="class treated as normal (default: 14, stop)")
    info.add_argument("--benchmark", choices=("gtsrb", "mnist", "fashion-mnist"), default="gtsrb",
                      help="which data to summarize (default: gtsrb)")  # fmt: skip
    info.add_argument("--root", metavar="DIR", help="folder of the four IDX files for --benchmark mnist|fashion-mnist "
                      "(default: $ADVBENCH_MNIST_ROOT / $ADVBENCH_FASHION_MNIST_ROOT, then DATA_DIR/<benchmark>)")  # fmt: skip
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(handler=_cmd_info)

    lst = sub.add_parser("list", help="list detectors, detector groups and attacks")
    lst.add_argument("--pyod", action="store_true", help="list the PyOD models that run as pyod:<name> instead")
    lst.set_defaults(handler=_cmd_list)

    attacks_command.register(sub)
    runs_command.register(sub)
    reports_command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except AdvbenchError as exc:
        print(f"advbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"advbench {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"advbench {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
