"""``advbench run``: detectors x seeds x attacks, with resume, then the folder's tables and figures
(heavy libraries imported in the handler; the flags are declared in ``advbench.runs.run_flags``)."""

from __future__ import annotations

from advbench.cli.parsing import add_flags, command_words
from advbench.runs.run_flags import RUN_FLAGS


def _command_line(args) -> list[str]:
    """The ``run`` command as given (rebuilt from the parsed flags, so it is right when called in-process too)."""
    return command_words(["advbench", "run"], RUN_FLAGS, args)


def _run(args) -> int:
    from advbench.reports.report import ARTIFACTS, FIGURES, render
    from advbench.runs.config import resolve
    from advbench.runs.runner import run

    config = resolve(args)
    return run(config, _command_line(args), lambda out: render(out, data=config.data), (*ARTIFACTS, FIGURES))


def register(sub) -> None:
    """Add the ``run`` sub-command to the CLI."""
    run = sub.add_parser(
        "run",
        help="train detectors over seeds and write AUC tables",
        description=(
            "For each (detector, seed, normal class): fit on the clean training images, score the clean test images "
            "and every anomaly set (the attacks on GTSRB, the other classes on MNIST and Fashion-MNIST); per attack "
            "three AUCs (unpaired, paired with each image's clean source, matched to the kept images' sources). Writes "
            "results.jsonl, scores/, AUC tables (Markdown, LaTeX), the comparison with the published numbers, budget "
            "curves when the data holds several variants of an attack, figures/ and run.json in --out. Running it "
            "again skips finished pairs (failed ones are computed again). One run at a time per --out folder. Exit "
            "status 1 when a pair failed or a worker process died, 2 for bad input (checked before the first pair)."
        ),
    )
    add_flags(run, RUN_FLAGS, with_defaults=False)  # a flag not given: --config's [run], then its default
    run.set_defaults(handler=_run)
