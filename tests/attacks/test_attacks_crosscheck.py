"""Cross-checks of the attack backends on the same tiny victim.

FGSM, BIM and DeepFool run on foolbox by default and on torchattacks (an optional extra) when
asked; the two must agree where the algorithms are the same (FGSM, BIM: to 1e-6, and to the
bit once stored as 8-bit images) and come close where they differ in detail (DeepFool). Our
batched-Jacobian DeepFool must equal torchattacks' class-by-class one. The tests that need
torchattacks skip when it is not installed; the missing-library error is tested without it.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch
from _attack_data import frozen_victim, synthetic_gtsrb

from advbench.attacks.backends import deepfool_class
from advbench.attacks.runners import resolve_params, run_attack
from advbench.attacks.victim import to_float
from advbench.errors import AdvbenchError


@pytest.fixture(scope="module")
def victim():
    data = synthetic_gtsrb()
    model, stop_signs, _ = frozen_victim(data)
    return model, to_float(stop_signs), torch.full((len(stop_signs),), 14)


def _both_backends(victim, name: str, overrides: dict | None = None):
    pytest.importorskip("torchattacks")
    model, x, y = victim
    ours = run_attack(name, model, x, y, resolve_params(name, overrides))
    theirs = run_attack(name, model, x, y, resolve_params(name, {**(overrides or {}), "backend": "torchattacks"}))
    return x, ours, theirs


def _eight_bit(images: torch.Tensor) -> torch.Tensor:
    return torch.round(images * 255).to(torch.uint8)


def test_fgsm_backends_agree(victim):
    x, ours, theirs = _both_backends(victim, "fgsm")
    assert torch.allclose(ours, theirs, atol=1e-6)
    assert torch.equal(_eight_bit(ours), _eight_bit(theirs))
    assert (ours - x).abs().max() == pytest.approx(resolve_params("fgsm")["eps"], abs=1e-6)


def test_bim_backends_agree_and_stay_in_budget(victim):
    x, ours, theirs = _both_backends(victim, "bim", {"batch_size": 2})  # batches must not change the result
    eps = resolve_params("bim")["eps"]
    assert torch.allclose(ours, theirs, atol=1e-6)
    assert torch.equal(_eight_bit(ours), _eight_bit(theirs))
    assert eps / 2 < (ours - x).abs().max() <= eps + 1e-6 and ours.min() >= 0 and ours.max() <= 1


def test_deepfool_backends_come_close(victim):
    model, _, y = victim
    x, ours, theirs = _both_backends(victim, "deepfool", {"batch_size": 3})
    with torch.no_grad():
        assert (model(ours).argmax(1) != y).all() and (model(theirs).argmax(1) != y).all()
    l2_ours, l2_theirs = (ours - x).flatten(1).norm(dim=1), (theirs - x).flatten(1).norm(dim=1)
    # Both stop at the first 8-bit image past the same linearized boundary: the distances differ
    # by the overshoot's placement and the rounding, a few 8-bit levels, not by a factor.
    assert torch.allclose(l2_ours, l2_theirs, rtol=0.25, atol=3 / 255)


def test_batched_jacobian_deepfool_equals_torchattacks(victim):
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = victim
    stock = torchattacks.DeepFool(model, steps=10, overshoot=0.02)(x[:3], y[:3])
    batched = deepfool_class()(model, steps=10, overshoot=0.02)(x[:3], y[:3])
    assert torch.allclose(stock, batched, atol=1e-5)
    assert model.training is False


def test_missing_backend_is_a_one_line_error(victim, monkeypatch):
    model, x, y = victim
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torchattacks" else real(name, *a)
    )
    with pytest.raises(
        AdvbenchError, match=r"fgsm.backend=torchattacks: torchattacks is not installed; pip install"
    ) as info:
        run_attack("fgsm", model, x, y, resolve_params("fgsm", {"backend": "torchattacks"}))
    assert "\n" not in str(info.value)
