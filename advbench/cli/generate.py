"""``advbench generate-attacks``: train the victim, attack the stop signs, write the HDF5 benchmark.

Attack and victim parameters come from, in rising priority: the defaults
(``advbench.attacks.runners.DEFAULT_PARAMS``, ``advbench.attacks.victim.VictimConfig``), a TOML
file given with ``--config`` (tables ``[victim]``, ``[boundary]``, ``[fgsm]``, ``[bim]``,
``[deepfool]``), ``--set SECTION.KEY=VALUE`` options (see ``advbench.attacks.settings``), with
``--victim-epochs`` a shortcut for ``--set victim.epochs=N``, and the values of each variant of
``--attacks``/``--sweep`` (``fgsm@eps=4/255``, see ``advbench.attacks.variants``).

``--adaptive dcae,dual-adversarial`` adds, per pgd variant, detector and ``--adaptive-seeds`` seed,
a detector-aware PGD set (``advbench.attacks.adaptive``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from advbench.attacks import DEFAULT_ATTACKS, DESCRIPTIONS
from advbench.cli.options import add_gtsrb_arguments, device, numbers, positive_int
from advbench.errors import AdvbenchError

DEFAULT_OUT = "datasets/gtsrb_stop_adv.h5"


def _build_config(args: argparse.Namespace):
    from advbench.attacks.pipeline import GenerateConfig, attack_plan, check_adaptive
    from advbench.attacks.settings import load_settings
    from advbench.attacks.victim import VictimConfig

    settings = load_settings(args.config, args.set or [])
    victim_settings = settings.pop("victim", {})
    if args.victim_epochs is not None:
        victim_settings["epochs"] = args.victim_epochs
    try:
        victim = VictimConfig.from_dict(victim_settings)
    except (TypeError, ValueError) as exc:
        raise AdvbenchError(f"victim settings (--config/--set): {exc}") from None
    config = GenerateConfig(
        normal_class=args.normal_class,
        attacks=(args.attacks,),
        sweeps=tuple(args.sweep or ()),
        params=settings,
        victim=victim,
        victim_path=Path(args.victim) if args.victim else None,
        seed=args.seed,
        limit=args.limit,
        device=args.device,
        adaptive=tuple(word.strip() for word in (args.adaptive or "").split(",") if word.strip()),
        adaptive_seeds=numbers(args.adaptive_seeds, "--adaptive-seeds", int),
        adaptive_lambdas=numbers(args.adaptive_lambdas, "--adaptive-lambdas", float),
        adaptive_restarts=args.adaptive_restarts,
    )
    try:
        planned = attack_plan(config)
    except (TypeError, ValueError) as exc:
        raise AdvbenchError(f"attack settings (--attacks/--sweep/--config/--set): {exc}") from None
    if args.adaptive is not None:
        check_adaptive(config, planned)
    return config


def print_summary(benchmark, seconds: float, file=None) -> None:
    """The closing table (on ``file``, standard output by default): one row per attack with counts
    (fooled before rounding, kept after), kept rate, median distances, time."""
    from advbench.datasets.benchmark_file import attack_summary

    file = file or sys.stdout
    width = max([10, *map(len, benchmark.attacks)])
    header = (
        f"{'attack':<{width}} {'attempted':>9} {'unrounded':>9} {'kept':>6} {'kept %':>8} {'median L2':>10} "
        f"{'median Linf':>11} {'seconds':>8}"
    )
    print(header, file=file)
    print("-" * len(header), file=file)
    for name, attack in benchmark.attacks.items():
        s = attack_summary(attack)
        rate = "-" if s["kept_rate"] is None else f"{s['kept_rate']:.1%}"
        l2 = "-" if s["median_l2"] is None else f"{s['median_l2']:.4f}"
        linf = "-" if s["median_linf"] is None else f"{s['median_linf']:.4f}"
        print(
            f"{name:<{width}} {s['attempted']:>9} {s['fooled_before_rounding']:>9} {s['count']:>6} {rate:>8} {l2:>10} "
            f"{linf:>11} {s['seconds']:>8.1f}",
            file=file,
        )
    print("unrounded: fooled the victim before rounding to 8 bits; kept: fool it after (the stored images)", file=file)
    attrs = benchmark.attrs
    print(
        f"victim test accuracy {attrs['victim_test_accuracy']:.4f}; normal train/test {len(benchmark.normal_train)}/"
        f"{len(benchmark.normal_test)}; device {attrs['device']}; total {seconds:.0f} s",
        file=file,
    )


def _handler(args: argparse.Namespace) -> int:
    from advbench.attacks.pipeline import generate
    from advbench.cli.options import gtsrb_from_args

    start = time.perf_counter()
    config = _build_config(args)
    device(config.device)
    data = gtsrb_from_args(args)
    progress = not args.quiet and sys.stderr.isatty()
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    log(
        f"GTSRB: {len(data.train.labels)} train / {len(data.test.labels)} test images "
        f"({time.perf_counter() - start:.1f} s)"
    )
    benchmark = generate(data, args.out, config, progress=progress, log=log)
    print_summary(benchmark, time.perf_counter() - start)
    print(f"wrote {args.out} (sha256 {benchmark.sha256[:16]}...)")
    return 0


def register(sub) -> None:
    """Add the ``generate-attacks`` sub-command to the CLI."""
    parser = sub.add_parser(
        "generate-attacks",
        help="train the victim and build the adversarial HDF5 dataset",
        description=(
            "Train (or load) a 43-class GTSRB victim, attack the correctly classified normal-class test "
            "images with Boundary, FGSM, BIM and DeepFool, keep the 8-bit images that still fool it, "
            "and write them with the clean images and provenance to an HDF5 file."
        ),
    )
    add_gtsrb_arguments(parser)
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="FILE", help=f"output HDF5 file (default: {DEFAULT_OUT})")
    parser.add_argument(
        "--attacks",
        default=",".join(DEFAULT_ATTACKS),
        metavar="LIST",
        help=f"comma-separated attacks, each with optional parameters: fgsm@eps=4/255,bim@eps=32/255,alpha=4/255 "
        f"(default: {','.join(DEFAULT_ATTACKS)}, each at its defaults; also: "
        f"{', '.join(name for name in DESCRIPTIONS if name not in DEFAULT_ATTACKS)})",
    )
    parser.add_argument(
        "--sweep",
        action="append",
        metavar="ATTACK.PARAM=V1,V2,...",
        help="add one variant of ATTACK per value, e.g. --sweep fgsm.eps=2/255,4/255,8/255 (repeatable)",
    )
    parser.add_argument("--normal-class", type=int, default=14, help="GTSRB class to attack (default: 14, stop)")
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when present, else CPU), cpu or cuda (default: auto)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for victim training and the attacks (default: 0)")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="attack only the first N eligible images")
    parser.add_argument("--victim", metavar="PATH", help="use this victim checkpoint instead of training one")
    parser.add_argument(
        "--victim-epochs", type=positive_int, metavar="N", help="victim training epochs (default: 8, from VictimConfig)"
    )
    parser.add_argument("--config", metavar="FILE", help="TOML file with [victim] and per-attack parameter tables")
    parser.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override one parameter, e.g. --set fgsm.eps=0.02 or --set boundary.steps=5000 "
        "(repeatable; wins over --config)",
    )
    parser.add_argument(
        "--adaptive",
        metavar="DETECTOR[,DETECTOR]",
        help="also attack each pgd variant against these detectors (detector-aware PGD; differentiable detectors only)",
    )
    parser.add_argument(
        "--adaptive-seeds",
        default="0",
        metavar="LIST",
        help="seeds of the attacked detectors, one set per seed (default: 0)",
    )
    parser.add_argument(
        "--adaptive-lambdas",
        default="0,0.1,1,10,100",
        metavar="LIST",
        help="weights of the standardized detector score tried per image (default: 0,0.1,1,10,100)",
    )
    parser.add_argument(
        "--adaptive-restarts", type=positive_int, default=1, metavar="N", help="random starts per weight (default: 1)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or log lines, only the summary")
    parser.set_defaults(handler=_handler)
