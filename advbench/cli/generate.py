"""``advbench generate-attacks``: train the victim, attack the normal test images, write the HDF5 benchmark.

``--benchmark gtsrb|mnist|fashion-mnist`` picks the data (GTSRB from ``--gtsrb-root``, the others
from ``--root``), ``--normal-class N|all`` the normal images (one class, or every class:
``advbench.datasets.allclasses``). Attack and victim parameters come from, in rising priority:
the defaults (the attack registry ``advbench.attacks.registry``, ``advbench.attacks.victim.VictimConfig``),
the benchmark's (its victim settings and the literature's attack budgets, ``advbench.datasets.registry``),
a TOML file given with ``--config`` (tables ``[victim]``, ``[boundary]``, ``[fgsm]``, ``[bim]``,
``[deepfool]``, ...), ``--set SECTION.KEY=VALUE`` options (see ``advbench.attacks.settings``), with
``--victim-epochs`` a shortcut for ``--set victim.epochs=N``, and the values of each variant of
``--attacks``/``--sweep`` (``fgsm@eps=4/255``, see ``advbench.attacks.variants``). The victim is
trained (cached beside the output), or taken from a checkpoint (``--victim``) or from the victim a
benchmark file carries (``--victim-from``).

``--adaptive dcae,dual-adversarial`` adds, per pgd variant, detector and ``--adaptive-seeds`` seed,
a detector-aware PGD set (``advbench.attacks.adaptive``).

Before any work (data loading, victim training, attacks) the command refuses, with one line:
victim settings (``--config`` ``[victim]``, ``--set victim.*``, ``--victim-epochs``) that differ
from those the victim of ``--victim``/``--victim-from`` was trained with (a given victim is not
retrained, so they would be ignored); an ``--out`` that is an input (``--victim-from``,
``--victim``, ``--config``), inside or above one or a data root (``--root``, ``--gtsrb-root``), a
folder, or in a folder it cannot write; and an existing ``--out`` that is not an advbench benchmark
file (HDF5 with a ``schema_version`` attribute), unless ``--force``, which says what it replaces.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

from advbench import outputs
from advbench.cli.generate_flags import DEFAULT_OUT_DIR, GENERATE_FLAGS
from advbench.cli.options import device, numbers
from advbench.cli.parsing import add_flags
from advbench.datasets import registry
from advbench.errors import AdvbenchError


def default_out(benchmark: registry.Benchmark, normal_class: int | str) -> str:
    """``datasets/<benchmark>_<class>_adv.h5``, the class as a word (``Benchmark.class_slug``)."""
    return f"{DEFAULT_OUT_DIR}/{benchmark.name}_{benchmark.class_slug(normal_class)}_adv.h5"


def _build_config(args: argparse.Namespace):
    from advbench.attacks.pipeline import GenerateConfig, attack_plan, check_adaptive
    from advbench.attacks.settings import load_settings
    from advbench.attacks.victim import VictimConfig
    from advbench.datasets import allclasses

    benchmark = registry.get(args.benchmark)
    spec = args.normal_class
    if spec is None:
        spec = allclasses.ALL if benchmark.default_normal_class is None else benchmark.default_normal_class
    normal_class = allclasses.parse_normal_class(str(spec), benchmark)
    if args.train_size is not None and normal_class != allclasses.ALL:
        raise AdvbenchError("--train-size: only with --normal-class all (one class trains on all its images)")
    if args.attack_train is not None and normal_class != allclasses.ALL:
        raise AdvbenchError(
            "--attack-train: only with --normal-class all (under one normal class every training image of the "
            "class is a detector's training image)"
        )
    if args.victim_from is not None and args.victim is not None:
        raise AdvbenchError("--victim-from: give either --victim (a checkpoint) or --victim-from (a benchmark file)")
    if args.train_victim and (args.victim_from is not None or args.victim is not None):
        raise AdvbenchError("--train-victim: not with --victim or --victim-from (they give the victim)")
    settings = load_settings(args.config, args.set or [])
    given = settings.pop("victim", {})
    if args.victim_epochs is not None:
        given["epochs"] = args.victim_epochs
    try:
        victim = VictimConfig.from_dict({**benchmark.victim, **given})
    except (TypeError, ValueError) as exc:
        raise AdvbenchError(f"victim settings (--config/--set): {exc}") from None
    if given and (args.victim_from or args.victim):
        _check_given_victim(args, given)
    families = sorted(set(benchmark.attack_params) | set(settings))
    params = {family: {**benchmark.attack_params.get(family, {}), **settings.get(family, {})} for family in families}
    config = GenerateConfig(
        benchmark=benchmark.name,
        normal_class=normal_class,
        train_size=args.train_size or allclasses.DEFAULT_TRAIN_SIZE,
        attack_train=args.attack_train or 0,
        attacks=(args.attacks,),
        sweeps=tuple(args.sweep or ()),
        params=params,
        victim=victim,
        victim_path=Path(args.victim) if args.victim else None,
        victim_from=Path(args.victim_from) if args.victim_from else None,
        train_victim=args.train_victim,
        seed=args.seed,
        limit=args.limit,
        device=args.device,
        adaptive=tuple(word.strip() for word in (args.adaptive or "").split(",") if word.strip()),
        adaptive_seeds=numbers(args.adaptive_seeds, "--adaptive-seeds", int),
        adaptive_lambdas=numbers(args.adaptive_lambdas, "--adaptive-lambdas", float),
        adaptive_restarts=args.adaptive_restarts,
        adaptive_objective=args.adaptive_objective,
    )
    try:
        planned = attack_plan(config)
    except (TypeError, ValueError) as exc:
        raise AdvbenchError(f"attack settings (--attacks/--sweep/--config/--set): {exc}") from None
    if args.adaptive is not None:
        check_adaptive(config, planned)
    return benchmark, config


def _victim_flags(args: argparse.Namespace) -> str:
    """The flags that gave victim settings."""
    from advbench.attacks.settings import load_settings

    flags = ["--config [victim]"] if args.config and "victim" in load_settings(args.config, []) else []
    flags += ["--set victim.*"] if any(item.strip().startswith("victim.") for item in args.set or []) else []
    return "/".join(flags + (["--victim-epochs"] if args.victim_epochs is not None else []))


def _check_given_victim(args: argparse.Namespace, given: dict) -> None:
    """AdvbenchError when victim settings differ from those the given victim (``--victim-from`` or
    ``--victim``) was trained with: it is not retrained, so they would be ignored."""
    from advbench.attacks.victim import VictimConfig, load_checkpoint
    from advbench.datasets.benchmark_file import read_victim

    if args.victim_from:
        flag, path = "--victim-from", args.victim_from
        trained = read_victim(path, flag)[1].get("config", {})
    else:
        flag, path = "--victim", args.victim
        trained = asdict(load_checkpoint(path)[1])
    wanted = asdict(VictimConfig.from_dict({**trained, **given}))
    differ = sorted(key for key in given if wanted[key] != trained.get(key))
    if differ:
        shown = ", ".join(f"{key}={given[key]} (trained with {trained.get(key)})" for key in differ)
        raise AdvbenchError(
            f"{_victim_flags(args)}: victim settings {shown} differ from the victim of {flag} {path}, which is "
            f"used as it is; drop them, or drop {flag} to train a victim with them"
        )


def check_out(out: Path, args: argparse.Namespace) -> None:
    """AdvbenchError unless ``out`` may be written (see the module docstring); with ``--force``, say on
    stderr which file that is not a benchmark file it replaces."""
    from advbench.attacks import resume
    from advbench.datasets.benchmark_file import is_benchmark_file

    inputs = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in ("--victim-from", "--victim", "--config")}
    inputs |= {"--root": args.root, "--gtsrb-root": args.gtsrb_root}
    outputs.check_apart("--out", out, inputs)
    outputs.check_file_out("--out", out)
    resume.check_partial(out)
    if not out.exists() or is_benchmark_file(out):
        return
    if not args.force:
        raise AdvbenchError(
            f"--out {out}: exists and is not an advbench benchmark file; not replaced (pass --force to replace it)"
        )
    print(
        f"advbench generate-attacks: --force: will replace {out} ({out.stat().st_size} bytes, not a benchmark file)",
        file=sys.stderr,
    )


def print_summary(written, seconds: float, file=None) -> None:
    """The closing table of the file ``written`` (a ``BenchmarkContents``; on ``file``, standard output by
    default): one row per attack with counts (fooled before rounding, kept after), kept rate, median
    distances, time."""
    from advbench.datasets.benchmark_file import attack_summary

    file = file or sys.stdout
    width = max([10, *map(len, written.attacks)])
    header = (
        f"{'attack':<{width}} {'attempted':>9} {'unrounded':>9} {'kept':>6} {'kept %':>8} {'median L2':>10} "
        f"{'median Linf':>11} {'seconds':>8}"
    )
    print(header, file=file)
    print("-" * len(header), file=file)
    for name, attack in written.attacks.items():
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
    attrs = written.attrs
    print(
        f"{written.benchmark}, normal class {attrs['normal_class']}; "
        f"victim test accuracy {attrs['victim_test_accuracy']:.4f}; normal train/test {len(written.normal_train)}/"
        f"{len(written.normal_test)}; device {attrs['device']}; total {seconds:.0f} s",
        file=file,
    )


def _handler(args: argparse.Namespace) -> int:
    from advbench.attacks.pipeline import generate
    from advbench.cli.options import data_from_args

    start = time.perf_counter()
    benchmark, config = _build_config(args)
    out = Path(args.out or default_out(benchmark, config.normal_class))
    check_out(out, args)
    device(config.device)
    data = data_from_args(benchmark, args)
    progress = not args.quiet and sys.stderr.isatty()
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    log(
        f"{benchmark.label}: {len(data.train.labels)} train / {len(data.test.labels)} test images "
        f"({time.perf_counter() - start:.1f} s)"
    )
    written = generate(data, out, config, progress=progress, log=log)
    print_summary(written, time.perf_counter() - start)
    print(f"wrote {out} (sha256 {written.sha256[:16]}...)")
    return 0


def register(sub) -> None:
    """Add the ``generate-attacks`` sub-command to the CLI."""
    parser = sub.add_parser(
        "generate-attacks",
        help="train the victim and build the adversarial HDF5 dataset",
        description=(
            "Train (or load) the benchmark's victim (a 43-class GTSRB CNN by default), attack the correctly "
            "classified normal test images (of one class, or of every class) with Boundary, FGSM, BIM and "
            "DeepFool (or --attacks), keep the 8-bit images that still fool it, and write them with the clean "
            "images, the victim and provenance to an HDF5 file."
        ),
    )
    add_flags(parser, GENERATE_FLAGS)
    parser.set_defaults(handler=_handler)
