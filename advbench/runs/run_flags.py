"""The options of ``advbench run``, declared once (``advbench.flags.Flag``).

The parser (``advbench.cli.run``), the ``[run]`` keys of ``--config`` and their types, the built-in
defaults (``advbench.runs.config``) and the command line ``run.json`` records come from ``RUN_FLAGS``.
Defaults: every detector of the ``all`` group; 10 seeds (the paper's Table 4 averages over 10);
every attack of the data file; one job, one thread per job (fixed so that ``--jobs`` does not
change results, see ``advbench.runs.runner``); device ``auto``; training profile ``default``
(``advbench.detectors.profiles``); the benchmark's first protocol (``advbench.datasets.protocols``).
"""

from __future__ import annotations

from advbench.flags import Flag

_TEXT, _NUMBER = (str,), (int, str)
_DATA, _DETECTORS, _EXECUTION, _FOLDER = "data", "detectors", "execution", "run folder"

RUN_FLAGS = (
    Flag(
        "--benchmark",
        "without --data: mnist or fashion-mnist (one-class: each class of --classes normal in turn, the "
        "others anomalous); with --data the file's own benchmark, which this flag, when given, must name",
        _DATA,
        toml=_TEXT,
        metavar="mnist|fashion-mnist",
    ),
    Flag(
        "--data",
        "benchmark HDF5 file from `advbench generate-attacks` (of any benchmark: the file says which)",
        _DATA,
        toml=_TEXT,
        metavar="FILE",
    ),
    Flag(
        "--root",
        "folder of the four IDX files of --benchmark mnist|fashion-mnist",
        _DATA,
        shown_default="$ADVBENCH_MNIST_ROOT / $ADVBENCH_FASHION_MNIST_ROOT, then datasets/<benchmark>",
        toml=_TEXT,
        metavar="DIR",
    ),
    Flag(
        "--classes",
        "normal classes of --benchmark mnist|fashion-mnist: all or a comma list (0,3,7)",
        _DATA,
        shown_default="all",
        toml=(str, int, list[int]),
        metavar="LIST",
    ),
    Flag(
        "--out",
        "run folder (created; holds the results of one data file and configuration)",
        _FOLDER,
        toml=_TEXT,
        metavar="DIR",
    ),
    Flag(
        "--detectors",
        "names and/or groups, comma-separated: all, ablation, classic, deep, pyod, victim, or names from "
        "`advbench list`",
        _DETECTORS,
        default="all",
        toml=(str, list[str]),
        metavar="LIST",
    ),
    Flag(
        "--seeds",
        "a count (10 = seeds 0..9) or a comma list (3,7,11)",
        _DETECTORS,
        default=10,
        toml=(int, str, list[int]),
        metavar="N|LIST",
    ),
    Flag(
        "--attacks",
        "all or a comma list of attacks in the data file",
        _DATA,
        default="all",
        toml=(str, list[str]),
        metavar="LIST",
    ),
    Flag("--jobs", "pairs run at once in worker processes", _EXECUTION, default=1, toml=_NUMBER, metavar="N"),
    Flag(
        "--threads",
        "CPU threads per pair (fixed so that --jobs does not change results)",
        _EXECUTION,
        default=1,
        toml=_NUMBER,
        metavar="N",
    ),
    Flag(
        "--device",
        "auto (CUDA when available), cpu or cuda[:N] for the deep detectors",
        _EXECUTION,
        default="auto",
        toml=_TEXT,
        metavar="auto|cpu|cuda[:N]",
    ),
    Flag(
        "--profile",
        "training profile of the deep detectors: default or reference",
        _DETECTORS,
        default="default",
        toml=_TEXT,
        metavar="default|reference",
    ),
    Flag(
        "--protocol",
        "GTSRB: official (the official test images are the normal test set) or heldout-train (per seed, "
        "100 held-out training images, as the paper's reference code) or supervised (as official, and the "
        "supervised detectors also fit on the training attack set of --fit-attack); mnist|fashion-mnist: 2 "
        "(all training images of the class train, the whole test split tests) or 1 (per seed, 80% of the class "
        "trains, the other 20% and as many other-class test images test)",
        _DATA,
        shown_default="official; 2 for mnist|fashion-mnist",
        toml=_NUMBER,
        metavar="NAME",
    ),
    Flag(
        "--fit-attack",
        "with --protocol supervised: the training attack set of --data (`generate-attacks --attack-train`) the "
        "supervised detectors (group supervised) fit on, beside the clean training images; every test attack "
        "set is scored, none fitted on",
        _DATA,
        shown_default="none",
        toml=_TEXT,
        metavar="NAME",
    ),
    Flag(
        "--executor",
        "local (--jobs worker processes on this machine) or ray (each pair a Ray task with --threads CPUs; "
        "needs the ray extra)",
        _EXECUTION,
        default="local",
        toml=_TEXT,
        metavar="local|ray",
    ),
    Flag(
        "--ray-address",
        "with --executor ray: the cluster to join (auto, ray://host:10001)",
        _EXECUTION,
        shown_default="start Ray locally",
        toml=_TEXT,
        metavar="ADDRESS",
    ),
    Flag(
        "--victim",
        "victim checkpoint (victim-<key>.pt of `advbench generate-attacks`) for the detectors that look "
        "through it (group victim)",
        _DATA,
        shown_default="the victim stored in the benchmark file",
        toml=_TEXT,
        metavar="PATH",
    ),
    Flag(
        "--gtsrb-root",
        "GTSRB copy whose training split gives the victim-aware detectors' reference data for a file of one "
        "normal class",
        _DATA,
        shown_default="$ADVBENCH_GTSRB_ROOT, then datasets/gtsrb",
        toml=_TEXT,
        metavar="DIR",
    ),
    Flag(
        "--config",
        "TOML file: [run] defaults for these flags, [detectors.<name>] hyperparameters; the command line wins",
        _DETECTORS,
        metavar="FILE",
    ),
    Flag(
        "--force",
        "discard what --out holds (results, scores, tables, figures) and start over",
        _FOLDER,
        switch=True,
    ),
    Flag(
        "--recompute-changed",
        "compute again the pairs of --out whose detector's parameters differ from this run's (their lines and "
        "scores are replaced); without it such a folder is refused",
        _FOLDER,
        switch=True,
    ),
)
