"""``advbench report DIR``: re-render the tables and figures of a run folder, or the tables of an
``evaluate-adaptive`` folder (``verdicts.md``, from its ``cells.jsonl``)."""

from __future__ import annotations

import sys
from pathlib import Path

from advbench.cli.options import positive_int
from advbench.errors import AdvbenchError
from advbench.runs import detection_metrics


def _verdicts(folder: Path) -> int:
    """Render ``verdicts.md`` of an ``evaluate-adaptive`` folder."""
    from advbench.fileio import write_text_atomic
    from advbench.reports.adaptive_verdicts import render

    write_text_atomic(folder / "verdicts.md", render(folder))
    print(f"advbench report: wrote {folder / 'verdicts.md'}", file=sys.stderr)
    return 0


def _report(args) -> int:
    from advbench.reports.report import check_run_folder, render
    from advbench.runs.adaptive_layout import CELLS, MARKER
    from advbench.runs.lock import hold

    if (Path(args.dir) / MARKER).is_file() and (Path(args.dir) / CELLS).is_file():
        return _verdicts(Path(args.dir))
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
    report.add_argument("dir", help="run folder written by `advbench run`, or a folder of `advbench evaluate-adaptive`")
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
