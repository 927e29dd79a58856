"""Cross-checks of the attack wrappers against second implementations on the same tiny victim.

FGSM and BIM (torchattacks, through our batching) against foolbox's; our batched-Jacobian
DeepFool against torchattacks' class-by-class one.
"""

from __future__ import annotations

import foolbox
import pytest
import torch
import torchattacks

from _attack_data import TINY_VICTIM, synthetic_gtsrb
from advbench.attacks.runners import _deepfool_class, resolve_params, run_attack
from advbench.attacks.victim import to_float, train_victim


@pytest.fixture(scope="module")
def victim():
    data = synthetic_gtsrb()
    model, _ = train_victim(data.train.images, data.train.labels, TINY_VICTIM)
    for param in model.parameters():
        param.requires_grad_(False)
    stop = data.test.labels == 14
    return model, to_float(data.test.images[stop]), torch.full((int(stop.sum()),), 14)


def test_fgsm_matches_foolbox(victim):
    model, x, y = victim
    params = resolve_params("fgsm")
    ours = run_attack("fgsm", model, x, y, params)
    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1))
    attack = foolbox.attacks.FGSM(random_start=False)
    _, theirs, _ = attack(fmodel, x, foolbox.criteria.Misclassification(y), epsilons=params["eps"])
    assert torch.allclose(ours, theirs, atol=1e-6)
    assert (ours - x).abs().max() == pytest.approx(params["eps"], abs=1e-6)


def test_bim_matches_foolbox_and_stays_in_budget(victim):
    model, x, y = victim
    params = resolve_params("bim", {"batch_size": 2})  # batches must not change the result
    ours = run_attack("bim", model, x, y, params)
    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1))
    attack = foolbox.attacks.LinfBasicIterativeAttack(
        abs_stepsize=params["alpha"], steps=params["steps"], random_start=False
    )
    _, theirs, _ = attack(fmodel, x, foolbox.criteria.Misclassification(y), epsilons=params["eps"])
    assert torch.allclose(ours, theirs, atol=1e-6)
    assert params["eps"] / 2 < (ours - x).abs().max() <= params["eps"] + 1e-6 and 0 <= ours.min() and ours.max() <= 1


def test_batched_jacobian_deepfool_equals_torchattacks(victim):
    model, x, y = victim
    stock = torchattacks.DeepFool(model, steps=10, overshoot=0.02)(x[:3], y[:3])
    batched = _deepfool_class()(model, steps=10, overshoot=0.02)(x[:3], y[:3])
    assert torch.allclose(stock, batched, atol=1e-5)
    assert model.training is False
