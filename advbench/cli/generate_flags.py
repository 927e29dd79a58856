"""The options of ``advbench generate-attacks``, declared once (``advbench.flags.Flag``): the parser of
``advbench.cli.generate`` and the flag list of ``docs/commands.md`` (checked by a test) come from
``GENERATE_FLAGS``. Attack and victim parameters are not flags: they come from the registries, the
benchmark, ``--config`` and ``--set`` (``advbench.attacks.settings``)."""

from __future__ import annotations

from advbench.attacks import ADAPTIVE_OBJECTIVES, DEFAULT_ATTACKS, DEFAULT_LAMBDAS, DESCRIPTIONS
from advbench.cli.options import GTSRB_FLAGS, benchmark_flags, positive_int
from advbench.flags import Flag

#: The output folder of ``--out``'s default, ``datasets/<benchmark>_<class>_adv.h5``.
DEFAULT_OUT_DIR = "datasets"
#: ``--out``'s default for the default benchmark and class.
DEFAULT_OUT = f"{DEFAULT_OUT_DIR}/gtsrb_stop_adv.h5"

_OUTPUT, _ATTACKS, _VICTIM, _ADAPTIVE = "output", "attacks", "victim", "detector-aware PGD"

_OUTPUT_FLAGS = (
    Flag(
        "--out",
        "output HDF5 file; an existing one is replaced only when it is a benchmark file (or with --force); it may "
        "not be an input, inside or above one, or a data root",
        _OUTPUT,
        shown_default=f"{DEFAULT_OUT_DIR}/<benchmark>_<class>_adv.h5, {DEFAULT_OUT} for the GTSRB stop signs",
        metavar="FILE",
    ),
    Flag(
        "--force",
        "replace an existing --out that is not a benchmark file (it says which file it replaces)",
        _OUTPUT,
        switch=True,
    ),
    Flag("--quiet", "no progress bars or log lines, only the summary", _OUTPUT, switch=True),
)

_ATTACK_FLAGS = (
    Flag(
        "--attacks",
        "comma-separated attacks, each with optional parameters: fgsm@eps=4/255,bim@eps=32/255,alpha=4/255 "
        f"(each at its defaults when none are given; also: "
        f"{', '.join(name for name in DESCRIPTIONS if name not in DEFAULT_ATTACKS)})",
        _ATTACKS,
        default=",".join(DEFAULT_ATTACKS),
        metavar="LIST",
    ),
    Flag(
        "--sweep",
        "add one variant of ATTACK per value, e.g. --sweep fgsm.eps=2/255,4/255,8/255 (repeatable)",
        _ATTACKS,
        repeat=True,
        metavar="ATTACK.PARAM=V1,V2,...",
    ),
    Flag(
        "--normal-class",
        "the normal class: a class id, or all (every class: class-stratified samples of the training images and "
        "of the correctly classified test images)",
        _ATTACKS,
        shown_default="14, stop, on GTSRB; all on mnist and fashion-mnist",
        metavar="N|all",
    ),
    Flag(
        "--train-size",
        "with --normal-class all: images in the detectors' class-stratified training sample",
        _ATTACKS,
        shown_default="10000; the whole split when it holds fewer",
        type=positive_int,
        metavar="N",
    ),
    Flag(
        "--attack-train",
        "with --normal-class all: also attack N correctly classified training images outside the detectors' "
        "training sample (a class-stratified sample), stored as training attack sets for `advbench run "
        "--protocol supervised`",
        _ATTACKS,
        shown_default="none",
        type=positive_int,
        metavar="N",
    ),
    Flag(
        "--device", "auto (CUDA when present, else CPU), cpu or cuda", _ATTACKS, default="auto", metavar="auto|cpu|cuda"
    ),
    Flag("--seed", "seed for victim training and the attacks", _ATTACKS, default=0, type=int, metavar="N"),
    Flag(
        "--limit",
        "one class: attack only the first N correctly classified test images; all: the size of the "
        "class-stratified sample of correctly classified test images",
        _ATTACKS,
        shown_default="all images; 1000 with --normal-class all",
        type=positive_int,
        metavar="N",
    ),
    Flag("--config", "TOML file with [victim] and per-attack parameter tables", _ATTACKS, metavar="FILE"),
    Flag(
        "--set",
        "override one parameter, e.g. --set fgsm.eps=0.02 or --set boundary.steps=5000 (repeatable; wins over "
        "--config)",
        _ATTACKS,
        repeat=True,
        metavar="SECTION.KEY=VALUE",
    ),
)

_VICTIM_FLAGS = (
    Flag("--victim", "use this victim checkpoint instead of training one", _VICTIM, metavar="PATH"),
    Flag(
        "--victim-from",
        "use the victim stored in this benchmark file (of the same benchmark) instead of training one",
        _VICTIM,
        metavar="FILE",
    ),
    Flag(
        "--train-victim",
        "train a victim (or take it from the cache beside --out) even when advbench ships the benchmark's victim "
        "for this data, victim settings and seed",
        _VICTIM,
        switch=True,
    ),
    Flag(
        "--victim-epochs",
        "victim training epochs",
        _VICTIM,
        shown_default="the benchmark's: GTSRB 8, MNIST 4, Fashion-MNIST 8",
        type=positive_int,
        metavar="N",
    ),
)

_ADAPTIVE_FLAGS = (
    Flag(
        "--adaptive",
        "also attack each pgd variant against these detectors (detector-aware PGD; differentiable detectors only)",
        _ADAPTIVE,
        metavar="DETECTOR[,DETECTOR]",
    ),
    Flag(
        "--adaptive-seeds",
        "seeds of the attacked detectors, one set per seed",
        _ADAPTIVE,
        default="0",
        metavar="LIST",
    ),
    Flag(
        "--adaptive-lambdas",
        "weights of the standardized detector score tried per image",
        _ADAPTIVE,
        default=",".join(f"{value:g}" for value in DEFAULT_LAMBDAS),
        metavar="LIST",
    ),
    Flag("--adaptive-restarts", "random starts per weight", _ADAPTIVE, default=1, type=positive_int, metavar="N"),
    Flag(
        "--adaptive-objective",
        "fool-first: the score term counts for an image once the victim misclassifies it; joint: from the first step",
        _ADAPTIVE,
        default=ADAPTIVE_OBJECTIVES[0],
        choices=ADAPTIVE_OBJECTIVES,
        metavar="|".join(ADAPTIVE_OBJECTIVES),
    ),
)

GENERATE_FLAGS = (
    *GTSRB_FLAGS,
    *benchmark_flags("the data"),
    *_OUTPUT_FLAGS,
    *_ATTACK_FLAGS,
    *_VICTIM_FLAGS,
    *_ADAPTIVE_FLAGS,
)
