"""``advbench run`` and ``advbench report`` (placeholders until the run issue lands)."""

from advbench.errors import AdvbenchError


def _handler(args) -> int:
    raise AdvbenchError(f"{args.command} is not implemented yet")


def register(sub) -> None:
    run = sub.add_parser("run", help="train detectors over seeds and write AUC tables")
    run.set_defaults(handler=_handler)
    report = sub.add_parser("report", help="re-render tables and figures of a run folder")
    report.set_defaults(handler=_handler)
