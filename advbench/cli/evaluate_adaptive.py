"""``advbench evaluate-adaptive FILE --detectors ...``: detectors under the strongest attacks, worst
case per image, detection-aware robust accuracy and the attack's checks (``runs.evaluate_adaptive``)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from advbench.cli.options import device, numbers, positive_int
from advbench.errors import AdvbenchError


def _budgets(text: str, norm: str) -> tuple[float, ...]:
    """``8/255,16/255`` -> budgets; AdvbenchError naming ``--eps``."""
    from advbench.attacks.variants import parse_value

    values = tuple(parse_value(word, "--eps") for word in text.split(",") if word.strip())
    for value in values:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise AdvbenchError(f"--eps {text!r}: budgets must be numbers > 0")
        if norm == "linf" and value > 1:
            raise AdvbenchError(
                f"--eps {value:g}: an L-inf budget above 1 on images in [0, 1]; did you mean {value:g}/255?"
            )
    if not values:
        raise AdvbenchError("--eps: no budget given")
    return tuple(float(value) for value in values)


def _choices(text: str, flag: str, known: tuple[str, ...]) -> tuple[str, ...]:
    names = known if text == "all" else tuple(word.strip() for word in text.split(",") if word.strip())
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise AdvbenchError(f"{flag}: unknown {', '.join(unknown) or 'empty list'}; known: {', '.join(known)}, or all")
    return names


def _known(text: str, flag: str = "--score-only") -> tuple[str, ...]:
    """The detector names of a comma list; AdvbenchError naming ``flag`` for an unknown one."""
    from advbench import detectors

    names = tuple(word.strip() for word in text.split(",") if word.strip())
    for name in names:
        if name not in detectors.names():
            raise AdvbenchError(f"{flag}: unknown detector {name!r} (see `advbench list`)")
    return names


def _detectors(text: str) -> tuple[str, ...]:
    from advbench import detectors

    names = _known(text, "--detectors")
    for name in names:
        if not detectors.create(name).differentiable:
            raise AdvbenchError(
                f"--detectors: {name} has no differentiable score, so no gradient attack reaches it; name it in "
                "--score-only to score the worst cases made against the others (transfer)"
            )
    if not names:
        raise AdvbenchError("--detectors: no detector given")
    return names


def _evaluate(args) -> int:
    from advbench.attacks.strongest import MEMBERS
    from advbench.fileio import write_text_atomic
    from advbench.reports.adaptive_verdicts import render
    from advbench.runs.adaptive_eval import CHECKS, AdaptiveConfig
    from advbench.runs.evaluate_adaptive import evaluate

    if not Path(args.file).is_file():
        raise AdvbenchError(f"{args.file}: no such benchmark file")
    config = AdaptiveConfig(
        data=str(args.file),
        detectors=_detectors(args.detectors),
        score_only=_known(args.score_only) if args.score_only else (),
        seeds=numbers(args.seeds, "--seeds", int),
        budgets=_budgets(args.eps, args.norm),
        norm=args.norm,
        members=_choices(args.members, "--members", tuple(MEMBERS)),
        steps=args.steps,
        restarts=args.restarts,
        checks=() if args.checks == "none" else _choices(args.checks, "--checks", CHECKS),
        images=args.images,
        gtsrb_root=args.gtsrb_root,
        device=device(args.device),
    )
    from advbench.runs.devices import configure_process

    configure_process(args.threads, config.device)
    out = Path(args.out)
    command = (
        shlex.join(["advbench", *sys.argv[1:]])
        if sys.argv[1:2] == ["evaluate-adaptive"]
        else "advbench evaluate-adaptive"
    )
    evaluate(
        config,
        out,
        command or "advbench evaluate-adaptive",
        args.victim,
        log=lambda message: print(message, file=sys.stderr),
    )
    write_text_atomic(out / "verdicts.md", render(out))
    print(f"advbench evaluate-adaptive: wrote {out / 'verdicts.md'}", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add the ``evaluate-adaptive`` sub-command."""
    parser = sub.add_parser(
        "evaluate-adaptive",
        help="attack detectors with the strongest known adaptive attacks and report robust accuracy",
        description="Fit each detector as `advbench run` fits it, attack the file's normal test images with "
        "every member of the ensemble (fool-first PGD, Orthogonal and Selective PGD, APGD with CE and DLR, the "
        "feature-space attack), keep the worst case per image, and report AUC, TPR and detection-aware robust "
        "accuracy at 5%% and 1%% FPR, with the attack's checks (gradients, more effort, unbounded budget) and a "
        "transfer table.",
    )
    parser.add_argument(
        "file", metavar="FILE", help="benchmark file of `advbench generate-attacks` (its victim is attacked)"
    )
    parser.add_argument("--detectors", required=True, help="comma list of detectors with a differentiable score")
    parser.add_argument(
        "--score-only", help="detectors not attacked, each scoring every worst case (transfer); any detector"
    )
    parser.add_argument("--seeds", default="0", help="detector seeds, comma list (default 0)")
    parser.add_argument("--eps", default="8/255", help="budgets, comma list such as 8/255,16/255 (default 8/255)")
    parser.add_argument("--norm", choices=("linf", "l2"), default="linf", help="the budget's norm (default linf)")
    parser.add_argument("--members", default="all", help="ensemble members, comma list, or all (default all)")
    parser.add_argument("--steps", type=positive_int, default=200, help="steps of each member (default 200)")
    parser.add_argument("--restarts", type=positive_int, default=1, help="random starts of each member (default 1)")
    parser.add_argument("--checks", default="all", help="gradient,convergence,unbounded, all or none (default all)")
    parser.add_argument("--images", type=positive_int, help="attack the first N normal test images (default all)")
    parser.add_argument("--victim", help="victim checkpoint (default: the victim the file stores)")
    parser.add_argument("--gtsrb-root", help="GTSRB copy for the reference sample of a one-class GTSRB file")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="CPU threads of the attacks and detectors (default 1, as `advbench run`: fixed so that the "
        "numbers do not depend on the machine, and several evaluations at once do not compete for cores)",
    )
    parser.add_argument(
        "--out", required=True, help="folder to write (new, empty, or an earlier evaluation's: resumed)"
    )
    parser.set_defaults(handler=_evaluate)
