"""What deep Mahalanobis, supervised, chose on each training attack set: its input-noise magnitude.

``mahalanobis-supervised`` chooses the magnitude of its input preprocessing by cross-validated AUC on
the training attack set (``advbench.detectors.mahalanobis_supervised``); a run's lines do not record
the choice. This script fits the detector again as a pair of ``advbench run --protocol supervised``
fits it (the file's normal training images, its victim and carried reference sample, one training
attack set, the seed) and prints, per training attack set and seed, each candidate's
cross-validated AUC and the magnitude chosen. It reads only the training attack sets.

Usage: python analysis/supervised_choices.py FILE [--seeds 0,1,2] [--fit-attacks all]
"""

from __future__ import annotations

import argparse

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--fit-attacks", default="all")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from advbench import detectors
    from advbench.datasets import protocols
    from advbench.detectors.mahalanobis_supervised import MAGNITUDES
    from advbench.runs import sources, victim_inputs

    source = sources.AttackFile(args.file)
    bench = source.bench
    wanted = detectors.needs(detectors.create("mahalanobis-supervised"))
    inputs = victim_inputs.resolve(None, None, source, bench.normal_train.shape[1:], {"mahalanobis-supervised": wanted})
    given = victim_inputs.given(inputs, wanted)  # the victim and the reference sample, as a run's pair gets them
    names = list(bench.training.sets) if args.fit_attacks == "all" else args.fit_attacks.split(";")
    print("| fitted on | seed | magnitude chosen | cross-validated AUC per magnitude |")
    print("| --- | ---: | ---: | --- |")
    for name in names:
        fit_attack = protocols.fit_attack(bench, name, args.file)
        for seed in (int(word) for word in args.seeds.split(",")):
            detector = detectors.create("mahalanobis-supervised", random_state=seed)
            detector.fit(bench.normal_train, adversarial=fit_attack, **given)
            grid = detector.magnitudes or MAGNITUDES
            aucs = ", ".join(f"{m:g}: {100 * auc:.2f}" for m, auc in zip(grid, detector.cv_auc_, strict=True))
            print(f"| {name} | {seed} | {detector.magnitude_:g} | {aucs} |", flush=True)


if __name__ == "__main__":
    main()
