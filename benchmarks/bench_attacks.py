"""Time the stages of ``advbench generate-attacks`` and the overhead of advbench's attack wrapper.

Stages: GTSRB load (parsed cache), one victim training epoch on the full training set, each
attack on the first N correctly classified stop signs (images per second), quantize-and-keep.
Attack times are medians of ``--repeat`` calls after one untimed warm-up call.
Wrapper overhead: ``advbench.attacks.runners.run_attack`` against a bare library call with the
same parameters on the same inputs (FGSM/BIM/DeepFool on ``--backend``, foolbox by default or
torchattacks when installed; foolbox BoundaryAttack with the same starting points), as a ratio
measured in the same run.

    python benchmarks/bench_attacks.py --gtsrb-root ../shared/data/gtsrb \
        [--victim datasets/victim-KEY.pt] [--images 64] [--boundary-steps 200] [--backend foolbox]

Without ``--victim`` the one-epoch victim trained for the timing is attacked.
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
import torch


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _timed_median(fn, repeat: int):
    """One untimed warm-up call (lazy initialisation), then the median of ``repeat`` timed calls."""
    fn()
    runs = [_timed(fn) for _ in range(repeat)]
    return runs[0][0], float(np.median([seconds for _, seconds in runs]))


def _seeded_bare(name: str, model, x, y, params: dict):
    """``_bare`` after seeding as ``run_attack`` seeds."""
    from advbench.torch_utils import seed_everything

    seed_everything(0)
    return _bare(name, model, x, y, params)


def _bare(name: str, model, x, y, params: dict):
    """The library call the wrapper makes, written out directly (one batch, no final rounding)."""
    import foolbox

    from advbench.attacks.backends import deepfool_class
    from advbench.attacks.runners import Quantize8Bit

    decision = torch.nn.Sequential(Quantize8Bit(), model).eval() if params.get("quantized_decision") else model
    if params.get("backend") == "torchattacks":
        import torchattacks

        if name == "fgsm":
            return torchattacks.FGSM(model, eps=params["eps"])(x, y)
        if name == "bim":
            return torchattacks.BIM(model, eps=params["eps"], alpha=params["alpha"], steps=params["steps"])(x, y)
        return deepfool_class()(decision, steps=params["steps"], overshoot=params["overshoot"])(x, y)
    fmodel = foolbox.PyTorchModel(decision, bounds=(0, 1))
    criterion = foolbox.criteria.Misclassification(y)
    if name == "fgsm":
        return foolbox.attacks.FGSM(random_start=False)(fmodel, x, criterion, epsilons=params["eps"])[1]
    if name == "bim":
        attack = foolbox.attacks.LinfBasicIterativeAttack(
            abs_stepsize=params["alpha"], steps=params["steps"], random_start=False
        )
        return attack(fmodel, x, criterion, epsilons=params["eps"])[1]
    if name == "deepfool":
        attack = foolbox.attacks.L2DeepFoolAttack(steps=params["steps"], candidates=None, overshoot=params["overshoot"])
        return attack(fmodel, x, criterion, epsilons=None)[1]
    starts = foolbox.attacks.LinearSearchBlendedUniformNoiseAttack(
        directions=params["init_directions"], steps=params["init_steps"]
    ).run(fmodel, x, criterion)
    attack = foolbox.attacks.BoundaryAttack(steps=params["steps"])
    return attack(fmodel, x, criterion, epsilons=None, starting_points=starts)[1]


def main() -> None:
    from advbench.attacks.quantize import keep_adversarial
    from advbench.attacks.runners import resolve_params, run_attack
    from advbench.attacks.victim import VictimConfig, load_checkpoint, predict, to_float, train_victim
    from advbench.datasets.gtsrb import load_gtsrb, normal_split

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gtsrb-root", required=True)
    parser.add_argument("--data-dir", default="datasets")
    parser.add_argument("--victim", help="victim checkpoint to attack (default: the one-epoch victim)")
    parser.add_argument("--images", type=int, default=64, help="stop signs per attack (default 64)")
    parser.add_argument("--boundary-steps", type=int, default=200, help="Boundary steps for the timing (default 200)")
    parser.add_argument("--skip-epoch", action="store_true", help="do not time a victim epoch (needs --victim)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed calls per attack after a warm-up; median (default 3)"
    )
    parser.add_argument(
        "--backend", choices=("foolbox", "torchattacks"), default="foolbox", help="library of FGSM, BIM, DeepFool"
    )
    args = parser.parse_args()
    torch.set_grad_enabled(True)

    data, t_load = _timed(lambda: load_gtsrb(args.gtsrb_root, cache_dir=f"{args.data_dir}/cache"))
    print(f"load (parsed cache)     {t_load:8.2f} s   {len(data.train.labels) + len(data.test.labels)} images")
    model = None
    if not args.skip_epoch:
        (model, history), t_epoch = _timed(lambda: train_victim(data.train, VictimConfig(epochs=1), device="cpu"))
        print(f"victim epoch            {t_epoch:8.2f} s   {len(data.train.labels) / t_epoch:8.1f} images/s")
    if args.victim:
        model, *_ = load_checkpoint(args.victim)
    if model is None:
        parser.error("--skip-epoch needs --victim")
    for param in model.parameters():
        param.requires_grad_(False)

    split = normal_split(data, 14)
    clean = to_float(split.test)
    eligible = np.flatnonzero(predict(model, clean).numpy() == 14)[: args.images]
    x, y = clean[torch.from_numpy(eligible)], torch.full((len(eligible),), 14)
    print(f"attacking {len(eligible)} stop signs\n")
    print(f"{'attack':<10} {'wrapper s':>10} {'bare s':>8} {'ratio':>6} {'images/s':>9} {'keep s':>7} {'kept':>5}")
    for name in ("fgsm", "bim", "deepfool", "boundary"):
        overrides = {"batch_size": len(eligible)}
        if name == "boundary":
            overrides["steps"] = args.boundary_steps
        else:
            overrides["backend"] = args.backend
        params = resolve_params(name, overrides)
        adv, t_wrap = _timed_median(functools.partial(run_attack, name, model, x, y, params, seed=0), args.repeat)
        _, t_bare = _timed_median(functools.partial(_seeded_bare, name, model, x, y, params), args.repeat)
        outcome, t_keep = _timed(functools.partial(keep_adversarial, model, split.test[eligible], adv, y.numpy()))
        print(
            f"{name:<10} {t_wrap:10.2f} {t_bare:8.2f} {t_wrap / t_bare:6.3f} {len(eligible) / t_wrap:9.1f} "
            f"{t_keep:7.3f} {outcome.kept:5d}"
        )


if __name__ == "__main__":
    main()
