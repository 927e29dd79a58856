"""The ``advbench`` command line: ``info``, ``list``, ``generate-attacks``, ``run``, ``report``, ``site``,
``evaluate-adaptive``.

All argument parsing lives in this package, one module per command (``register(subparsers)`` adds
its sub-parser and a handler ``args.handler(args) -> int``); a handler calls the work, then the
rendering. Errors in the user's input (``AdvbenchError``, and ``ValueError`` from argument parsing)
become one line on stderr and exit code 2; a run that could not finish for another reason
(``RunError``: a worker process died) one line and exit 1.
"""

from __future__ import annotations

import argparse
import sys

from advbench import __version__
from advbench.errors import AdvbenchError, RunError


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (importing no heavy library)."""
    from advbench.cli import evaluate_adaptive, generate, info, listing, report, run, site

    parser = argparse.ArgumentParser(
        prog="advbench",
        description="Adversarial-example detection benchmark on GTSRB stop signs, MNIST and Fashion-MNIST.",
    )
    parser.add_argument("--version", action="version", version=f"advbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (info, listing, generate, run, report, site, evaluate_adaptive):
        command.register(sub)
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
