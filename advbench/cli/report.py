"""``advbench report DIR``: re-render the tables and figures of a run folder."""

from __future__ import annotations

import sys


def _report(args) -> int:
    from advbench.reports.report import check_run_folder, render
    from advbench.runs.lock import hold

    folder = check_run_folder(args.dir)
    with hold(folder, args.dir, f"advbench report {args.dir}"):
        written = render(folder, data=args.data)
    print(f"advbench report: wrote {len(written)} files in {args.dir}", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add the ``report`` sub-command to the CLI."""
    report = sub.add_parser(
        "report",
        help="re-render tables and figures of a run folder",
        description="Re-render every table and figure of a run folder from its stored results and scores.",
    )
    report.add_argument("dir", help="run folder written by `advbench run`")
    report.add_argument("--data", help="benchmark file for the image figure (default: the one named in run.json)")
    report.set_defaults(handler=_report)
