"""Detector-aware PGD (``generate-attacks --adaptive bu``) against BU through its fixed dropout masks.

BU's ``score_tensor`` is the variance of the victim's softmax over the fixed-mask passes, the ensemble of
fixed-mask copies of the network through which Carlini and Wagner (2017) attacked it; the tiny victim has
dropout (rate 0.3, before each dense layer), so the score and its gradient are not zero.
"""

from __future__ import annotations

import numpy as np
import torch
from _attack_data import detector_aware_candidates, frozen_victim, synthetic_gtsrb, tiny_config

from advbench import detectors
from advbench.attacks.adaptive import check_detectors
from advbench.attacks.pipeline import generate
from advbench.datasets.benchmark_file import read_benchmark
from advbench.detectors.victim_access import Victim
from advbench.fileio import sha256_file


def test_bu_can_be_named():
    assert check_detectors(["bu"]) == ["bu"]


def test_the_bu_term_drives_bus_score_down():
    """PGD on the detector-aware loss (lambda 10, fool-first) against PGD on the cross-entropy alone, from one
    random start: both fool the victim, and BU's gradient through its fixed masks lowers its score. BU, like MSP,
    is lowest where the victim is sure of the true class, so the budget is the fool-first test's of MSP."""
    data = synthetic_gtsrb()
    model, stop_signs, _ = frozen_victim(data)
    detector = detectors.create("bu", passes=20, random_state=0)
    detector.fit(data.train.images[data.train.labels == 14], victim=Victim(model, "tiny"))
    assert detector.has_dropout_
    y, candidates = detector_aware_candidates(model, detector, stop_signs, "pgd@eps=0.1,alpha=0.02,steps=10")
    means = []
    for lam, found in zip((0.0, 10.0), candidates, strict=True):
        adversarial = (found * 255).round() / 255
        with torch.no_grad():
            assert (model(adversarial).argmax(1) != y).all(), lam
        means.append(float(detector.decision_function((adversarial.numpy() * 255).round().astype(np.uint8)).mean()))
    assert means[1] < means[0] / 2


def test_generate_attacks_against_bu_keeps_its_lowest_scoring_candidates(tmp_path):
    """The run's BU (its parameters, seed 0, fixed masks) is the one attacked: its fitted masks are recorded in
    the cached detector, and it scores no adaptive image above the plain PGD image of the same stop sign."""
    out = tmp_path / "bench.h5"
    config = tiny_config(attacks=("pgd@eps=0.3,alpha=0.05,steps=4",), adaptive=("bu",), adaptive_lambdas=(0.0, 10.0))
    generate(synthetic_gtsrb(), out, config, log=lambda message: None)
    bench = read_benchmark(out)
    found = bench.attacks["pgd-adaptive-bu@alpha=0.05,eps=0.3,steps=4"]
    plain = bench.attacks["pgd@alpha=0.05,eps=0.3,steps=4"]
    record = found.attrs["adaptive"]
    assert record["detector_params"]["masks"] == "fixed" and record["detector_params"]["passes"] == 50
    assert record["uses"] == {"victim": sha256_file(next(tmp_path.glob("victim-*.pt")))}
    detector = torch.load(tmp_path / record["detector_file"], weights_only=False)
    assert detector.has_dropout_ and len(detector.masks_sha256_) == 64
    assert record["chosen_lambda_counts"].get("10.0", 0) > 0  # the detector's term made candidates that were kept
    both, mine, theirs = np.intersect1d(found.source_index, plain.source_index, return_indices=True)
    assert len(both) > 0
    adaptive_scores = detector.decision_function(found.images[mine])
    assert (adaptive_scores <= detector.decision_function(plain.images[theirs]) + 1e-9).all()
