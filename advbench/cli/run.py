"""``advbench run``: detectors x seeds x attacks, with resume, then the folder's tables and figures
(heavy libraries imported in the handler)."""

from __future__ import annotations

import argparse

_RUN_FLAGS = (
    "benchmark",
    "data",
    "root",
    "classes",
    "out",
    "detectors",
    "seeds",
    "attacks",
    "jobs",
    "threads",
    "device",
    "profile",
    "protocol",
    "executor",
    "ray_address",
    "victim",
    "gtsrb_root",
    "config",
)


def _command_line(args) -> list[str]:
    """The ``run`` command as given (rebuilt from the parsed flags, so it is right when called in-process too)."""
    words = ["advbench", "run"]
    for flag in _RUN_FLAGS:
        if getattr(args, flag) is not None:
            words += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    switches = [f"--{name.replace('_', '-')}" for name in ("force", "recompute_changed") if getattr(args, name)]
    return words + switches


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
    _add_data_flags(run)
    _add_detector_flags(run)
    _add_execution_flags(run)
    _add_folder_flags(run)
    run.set_defaults(handler=_run)


def _add_data_flags(run: argparse.ArgumentParser) -> None:
    """What the detectors are fitted and scored on."""
    run.add_argument(
        "--benchmark",
        help="without --data: mnist or fashion-mnist (one-class: each class of --classes normal in turn, the "
        "others anomalous); with --data the file's own benchmark, which this flag, when given, must name",
    )
    run.add_argument(
        "--data",
        help="benchmark HDF5 file from `advbench generate-attacks` (of any benchmark: the file says which)",
    )
    run.add_argument(
        "--root",
        help="folder of the four IDX files of --benchmark mnist|fashion-mnist (default: "
        "$ADVBENCH_MNIST_ROOT / $ADVBENCH_FASHION_MNIST_ROOT, then datasets/<benchmark>)",
    )
    run.add_argument(
        "--classes", help="normal classes of --benchmark mnist|fashion-mnist: all (default) or a comma list (0,3,7)"
    )
    run.add_argument("--attacks", help="all (default) or a comma list of attacks in the data file")
    run.add_argument(
        "--protocol",
        help="GTSRB: official (default: the official test images are the normal test set) "
        "or heldout-train (per seed, 100 held-out training images, as the paper's reference code); "
        "mnist|fashion-mnist: 2 (default: all training images of the class train, the whole test "
        "split tests) or 1 (per seed, 80%% of the class trains, the other 20%% and as many other-class "
        "test images test)",
    )
    run.add_argument(
        "--victim",
        help="victim checkpoint (victim-<key>.pt of `advbench generate-attacks`) for the detectors that look "
        "through it (group victim); default: the victim stored in the benchmark file",
    )
    run.add_argument(
        "--gtsrb-root",
        dest="gtsrb_root",
        help="GTSRB copy whose training split gives the victim-aware detectors' reference data for a file of "
        "one normal class (default: $ADVBENCH_GTSRB_ROOT, then datasets/gtsrb)",
    )


def _add_detector_flags(run: argparse.ArgumentParser) -> None:
    """Which detectors, with which seeds and settings."""
    run.add_argument(
        "--detectors",
        help="names and/or groups, comma-separated: all (default), ablation, classic, "
        "deep, or names from `advbench list`",
    )
    run.add_argument("--seeds", help="a count (10 = seeds 0..9, the default) or a comma list (3,7,11)")
    run.add_argument("--profile", help="training profile of the deep detectors: default (the default) or reference")
    run.add_argument(
        "--config",
        help="TOML file: [run] defaults for these flags, [detectors.<name>] hyperparameters; the command line wins",
    )


def _add_execution_flags(run: argparse.ArgumentParser) -> None:
    """Where and how the pairs run."""
    run.add_argument("--jobs", help="pairs run at once in worker processes (default 1)")
    run.add_argument("--threads", help="CPU threads per pair (default 1; fixed so that --jobs does not change results)")
    run.add_argument("--device", help="auto (default: CUDA when available), cpu or cuda[:N] for the deep detectors")
    run.add_argument(
        "--executor",
        help="local (default: --jobs worker processes on this machine) or ray (each pair a "
        "Ray task with --threads CPUs; needs the ray extra)",
    )
    run.add_argument(
        "--ray-address",
        dest="ray_address",
        help="with --executor ray: the cluster to join (auto, ray://host:10001); default: start Ray locally",
    )


def _add_folder_flags(run: argparse.ArgumentParser) -> None:
    """The run folder, and what happens to what it holds."""
    run.add_argument("--out", help="run folder (created; holds the results of one data file and configuration)")
    run.add_argument(
        "--force",
        action="store_true",
        help="discard what --out holds (results, scores, tables, figures) and start over",
    )
    run.add_argument(
        "--recompute-changed",
        dest="recompute_changed",
        action="store_true",
        help="compute again the pairs of --out whose detector's parameters differ from this run's (their lines and "
        "scores are replaced); without it such a folder is refused",
    )
