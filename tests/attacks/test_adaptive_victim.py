"""Detector-aware PGD (``generate-attacks --adaptive``) against the detectors that look through the victim.

Each differentiable victim-aware detector is fitted with the attacked victim and the reference sample
of its training data, and the attack keeps, per image, its lowest-scoring successful candidate; the
``lambda = 0`` candidate is the plain PGD, so the attacked detector scores no adversarial image of
the adaptive set above the plain set's image of the same stop sign. And the detector's term of the
loss drives each detector's score down.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _attack_data import detector_aware_candidates, frozen_victim, synthetic_gtsrb, tiny_config

from advbench import detectors
from advbench.attacks.adaptive import Schedule, run_adaptive
from advbench.attacks.pipeline import GenerateConfig, attack_plan, generate
from advbench.datasets.benchmark_file import read_benchmark
from advbench.datasets.reference import Reference
from advbench.detectors.victim_access import Victim
from advbench.fileio import sha256_file

ATTACKED = ("feature-squeezing", "magnet", "victim-mahalanobis", "kd", "msp", "energy")


def test_adaptive_pgd_lowers_each_victim_aware_detectors_score(tmp_path):
    out = tmp_path / "bench.h5"
    config = tiny_config(attacks=("pgd@eps=0.3,alpha=0.05,steps=4",), adaptive=ATTACKED, adaptive_lambdas=(0.0, 10.0))
    generate(synthetic_gtsrb(), out, config, log=lambda message: None)
    bench = read_benchmark(out)
    victim_sha = sha256_file(next(tmp_path.glob("victim-*.pt")))
    plain = bench.attacks["pgd@alpha=0.05,eps=0.3,steps=4"]
    for name in ATTACKED:
        found = bench.attacks[f"pgd-adaptive-{name}@alpha=0.05,eps=0.3,steps=4"]
        record = found.attrs["adaptive"]
        assert record["uses"]["victim"] == victim_sha
        assert ("reference" in record["uses"]) == (name in ("magnet", "victim-mahalanobis", "kd"))
        detector = torch.load(tmp_path / record["detector_file"], weights_only=False)
        both, mine, theirs = np.intersect1d(found.source_index, plain.source_index, return_indices=True)
        assert len(both) > 0
        adaptive_scores = detector.decision_function(found.images[mine])
        assert (adaptive_scores <= detector.decision_function(plain.images[theirs]) + 1e-9).all(), name


@pytest.mark.parametrize("name", ATTACKED)
def test_the_detector_term_drives_each_score_down(name):
    """PGD on the detector-aware loss (lambda 10) against PGD on the cross-entropy alone, from one random start:
    the detector's gradient (``score_tensor``, straight through Feature Squeezing's squeezers) moves its score."""
    data = synthetic_gtsrb()
    model, stop_signs, _ = frozen_victim(data)
    detector = detectors.create(name, random_state=0)
    given = {"victim": Victim(model, "tiny"), "reference": Reference(data.train.images, data.train.labels)}
    detector.fit(data.train.images[data.train.labels == 14], **{key: given[key] for key in detectors.needs(detector)})
    _, candidates = detector_aware_candidates(model, detector, stop_signs, "pgd@eps=0.05,alpha=0.01")
    with torch.no_grad():
        means = [float(detector.score_tensor(adversarial).mean()) for adversarial in candidates]
    assert means[1] < means[0]


def test_fool_first_evades_where_the_joint_loss_pulls_back_to_the_true_class():
    """MSP and deep Mahalanobis score lowest where the victim is sure of the true class, so from the first step
    the joint loss pulls the images back there and no detector-aware candidate is kept; fool-first weighs the
    score only once an image fools the victim, so its candidates fool the victim and score below plain PGD's."""
    data = synthetic_gtsrb()
    model, stop_signs, _ = frozen_victim(data)
    given = {"victim": Victim(model, "tiny"), "reference": Reference(data.train.images, data.train.labels)}
    params = next(iter(attack_plan(GenerateConfig(attacks=("pgd@eps=0.1,alpha=0.02,steps=10",))).values()))[1]
    x = torch.from_numpy(stop_signs.astype(np.float32) / 255.0)
    y = torch.full((len(x),), 14)
    for name in ("msp", "victim-mahalanobis"):
        detector = detectors.create(name, random_state=0)
        needs = {key: given[key] for key in detectors.needs(detector)}
        detector.fit(data.train.images[data.train.labels == 14], **needs)
        found = {}
        for objective, lambdas in (("plain", (0.0,)), ("joint", (0.0, 10.0)), ("fool-first", (0.0, 10.0))):
            schedule = Schedule(lambdas, objective="joint" if objective == "plain" else objective)
            images, chosen = run_adaptive(model, detector, x, y, params, schedule)
            with torch.no_grad():
                fooled = (model(images).argmax(1) != y).numpy()
                found[objective] = (chosen, fooled, detector.score_tensor(images).numpy())
        (plain_fooled, plain_scores), (chosen, fooled, scores) = found["plain"][1:], found["fool-first"]
        assert not (found["joint"][0] == 10.0).any(), name
        assert fooled.sum() >= plain_fooled.sum() > 0 and (chosen == 10.0).any(), name
        assert scores[fooled].mean() < plain_scores[plain_fooled].mean(), name
