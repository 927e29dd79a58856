"""Carlini-Wagner L2 (``cw``), an attack added as one registry entry: it runs, what it keeps fools
the victim after 8-bit rounding, and ``advbench list`` and ``--sweep`` know it."""

from __future__ import annotations

import pytest
import torch
from _attack_data import frozen_victim, synthetic_gtsrb

from advbench import cli
from advbench.attacks import DEFAULT_ATTACKS
from advbench.attacks.quantize import keep_adversarial
from advbench.attacks.runners import resolve_params, run_attack
from advbench.attacks.variants import parse_sweep, resolve_variants
from advbench.attacks.victim import predict, to_float

#: Few steps keep the test to seconds; the large initial constant finds adversarials at once.
FEW_STEPS = {"binary_search_steps": 3, "steps": 30, "stepsize": 0.05, "initial_const": 10.0, "batch_size": 4}


@pytest.fixture(scope="module")
def victim():
    return frozen_victim(synthetic_gtsrb())


@pytest.mark.parametrize("quantized", [True, False])
def test_cw_keeps_only_images_that_fool_the_victim_after_rounding(victim, quantized):
    model, clean, labels = victim
    x = to_float(clean)
    params = resolve_params("cw", {**FEW_STEPS, "quantized_decision": quantized})
    adversarial = run_attack("cw", model, x, torch.from_numpy(labels), params)
    outcome = keep_adversarial(model, clean, adversarial, labels)
    assert outcome.succeeded > 0
    kept = torch.from_numpy(outcome.images).float() / 255
    assert (predict(model, kept).numpy() != labels[outcome.rows]).all()
    assert (outcome.l2 > 0).all()


def test_an_image_cw_cannot_fool_comes_back_unchanged(victim):
    model, clean, labels = victim
    x = to_float(clean)
    hopeless = resolve_params("cw", {"binary_search_steps": 1, "steps": 1, "initial_const": 1e-6})
    adversarial = run_attack("cw", model, x, torch.from_numpy(labels), hopeless)
    assert torch.equal(adversarial, x)  # not foolbox's zeros, which the victim might misclassify
    assert keep_adversarial(model, clean, adversarial, labels).succeeded == 0


def test_cw_is_listed_sweeps_its_confidence_and_is_not_a_default(capsys):
    assert cli.main(["list"]) == 0
    assert any(line.split()[:1] == ["cw"] for line in capsys.readouterr().out.splitlines())
    assert "cw" not in DEFAULT_ATTACKS
    resolved = resolve_variants(parse_sweep("cw.confidence=5,0"), {"cw": {"steps": 100}})
    assert list(resolved) == ["cw@steps=100", "cw@confidence=5.0,steps=100"]
    with pytest.raises(ValueError, match="cw.confidence: must be at least 0"):
        resolve_params("cw", {"confidence": -1})
