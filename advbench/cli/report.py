"""``advbench report DIR``: re-render the tables and figures of a run folder."""

from __future__ import annotations

import sys

from advbench.cli.options import positive_int
from advbench.errors import AdvbenchError
from advbench.runs import detection_metrics


def _report(args) -> int:
    from advbench.reports.report import check_run_folder, render
    from advbench.runs.lock import hold

    if args.bootstrap_seed is not None and args.bootstrap_seed < 0:
        raise AdvbenchError(f"--bootstrap-seed {args.bootstrap_seed}: must be 0 or more")
    try:
        metrics = detection_metrics.parse(args.metrics)
    except ValueError as exc:
        raise AdvbenchError(f"--metrics {args.metrics}: {exc}") from None
    folder = check_run_folder(args.dir)
    with hold(folder, args.dir, f"advbench report {args.dir}"):
        written = render(
            folder,
            data=args.data,
            ci=args.ci,
            resamples=args.resamples,
            bootstrap_seed=args.bootstrap_seed,
            metrics=metrics,
        )
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
    report.add_argument(
        "--data",
        help="benchmark file for the image figure and the paired AUCs' intervals (default: the one named in run.json)",
    )
    report.add_argument("--ci", action="store_true", help="cells show mean [low, high] (95%% bootstrap interval)")
    report.add_argument(
        "--resamples",
        type=positive_int,
        metavar="N",
        help="bootstrap resamples of intervals and tests (default 1000, or the folder's minimum when that is more); "
        "fewer than the folder needs are refused, "
        "with the minimum: enough for an order statistic beyond each end of a 95%% percentile interval, and for "
        "the smallest p-value, 1/(N + 1), times a column's comparisons (Holm) to fall below 0.05",
    )
    report.add_argument("--bootstrap-seed", type=int, help="seed of the bootstrap's draws (default 0)")
    report.add_argument(
        "--metrics",
        default="auroc",
        metavar="LIST",
        help="comma list of the detection metrics that get a table, or all: "
        + ", ".join(name.replace("%", "%%") for name in detection_metrics.NAMES)
        + " (default: auroc, whose AUC tables every rendering writes)",
    )
    report.set_defaults(handler=_report)
