"""Time each victim-aware detector's fit and score on the real GTSRB stop signs (one seed, as a run's pair).

A pair of ``advbench run --detectors victim`` fits the detector on the 780 training stop signs with
the victim and the reference data (10,000 GTSRB training images, ``advbench/datasets/reference.py``)
and scores the clean test stop signs and every anomaly set. This script does the same for each
detector of ``--detectors`` (default: the group ``victim``) and prints the fit seconds, the seconds
to score the clean test images plus every anomaly set, their sum, the process CPU seconds and each
set's AUC against the clean test images (reported, never used to choose anything). Loading the
victim and drawing the reference sample (once per run and worker process, for every detector) is
timed apart, as ``setup``. The goal: at most 30 s of fit plus scoring per detector on one thread
(``--threads 1``, as ``advbench run`` uses), MagNet's near the DCAE's (``bench_detectors.py``).

Anomalies: the attacks of ``--data`` (a benchmark file of ``advbench generate-attacks``) or, without
it, Gaussian-noise copies of the clean test stop signs (see ``bench_detectors.py``).

Usage: python benchmarks/bench_victim_detectors.py --victim datasets/victim-KEY.pt [--data FILE]
       [--gtsrb-root DIR] [--detectors a,b] [--seed N] [--profile default|reference] [--threads N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench_detectors import build_parser, load_sets, timed  # the sibling script; its folder is on sys.path

from advbench import detectors
from advbench.attacks.victim import load_checkpoint
from advbench.datasets.gtsrb import load_gtsrb
from advbench.datasets.reference import stratified_sample
from advbench.detectors.victim_access import Victim
from advbench.errors import AdvbenchError
from advbench.fileio import sha256_file
from advbench.runs.devices import configure_process


def main(argv=None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "victim")
    parser.add_argument("--victim", required=True, help="victim checkpoint (victim-<key>.pt of generate-attacks)")
    args = parser.parse_args(argv)
    if args.threads:
        configure_process(args.threads, args.device)
    try:
        names = detectors.expand(args.detectors)
        train, test, anomalies = load_sets(args)
        start = time.perf_counter()
        model, _, _, _ = load_checkpoint(args.victim)
        victim = Victim(model, sha256_file(args.victim), Path(args.victim).name)
        data = load_gtsrb(args.gtsrb_root, cache_dir=args.cache_dir)
        reference = stratified_sample(data.train.images, data.train.labels, source="GTSRB training split")
        setup = time.perf_counter() - start
    except (AdvbenchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    given = {"victim": victim, "reference": reference}
    print(
        f"train {len(train)}, clean test {len(test)}, anomalies "
        + ", ".join(f"{name} {len(images)}" for name, images in anomalies.items())
        + f"; reference {len(reference)} ({reference.sha256[:12]}); seed {args.seed}; profile {args.profile}; "
        f"setup (victim, GTSRB, reference) {setup:.1f} s"
    )
    columns = "".join(f"{name:>16}" for name in anomalies)
    print(f"{'detector':<20}{'fit s':>8}{'score s':>9}{'total s':>9}{'cpu s':>8}{columns}")
    for name in names:
        defaults = detectors.create(name).get_params()
        run_set = {key: value for key, value in (("device", args.device), ("profile", args.profile)) if key in defaults}
        detector = detectors.create(name, random_state=args.seed, **run_set)
        uses = {key: given[key] for key in detectors.needs(detector)}
        print(timed(name, detector, train, test, anomalies, 20, **uses), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
