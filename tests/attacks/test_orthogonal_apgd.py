"""Orthogonal PGD, Selective PGD (``attacks.orthogonal_pgd``) and detector-aware APGD (``attacks.apgd_detector``)
against planted differentiable detectors, on the tiny synthetic GTSRB and its tiny victim.

An evadable detector (the distance of one 8x8 block to its training mean: the victim can be fooled
through the other pixels) is evaded by each attack, where PGD on the cross-entropy alone leaves it
flagging nearly every image; a detector that flags every change to a test image (its distance to
the nearest clean test image) cannot be evaded: every candidate that fools the victim is flagged.
The candidates lie on the 8-bit grid inside the budget, and one seed gives one output.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _attack_data import frozen_victim, synthetic_gtsrb
from torch.nn import functional as F

from advbench.attacks.apgd_detector import DetectorAPGD, checkpoints
from advbench.attacks.detector_attack import DetectorAttack, project
from advbench.attacks.orthogonal_pgd import OrthogonalPGD, SelectivePGD, without
from advbench.detectors.base import BaseDetector
from advbench.runs.robust_accuracy import robust_accuracy, threshold

ATTACKS = {"orthogonal-pgd": OrthogonalPGD, "selective-pgd": SelectivePGD, "apgd-detector": DetectorAPGD}
FPR = 0.05


class _TorchScored(BaseDetector):
    """A planted detector whose numpy score is its torch score."""

    differentiable = True

    def _score(self, X):
        with torch.no_grad():
            return self._score_tensor(torch.from_numpy(X)).numpy()


class BlockDetector(_TorchScored):
    """The L2 distance of the 8x8 block at (8, 8), all channels, to its training mean: evadable."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit(self, X):
        self.mean_ = torch.from_numpy(X[:, :, 8:16, 8:16].mean(axis=0))

    def _score_tensor(self, x):
        return (x[:, :, 8:16, 8:16] - self.mean_).flatten(1).norm(dim=1)


class BankDetector(_TorchScored):
    """The L2 distance to the nearest image of ``bank`` (uint8): zero on it, above zero on any change to it."""

    def __init__(self, bank=None, random_state=None):
        self.bank = bank
        self.random_state = random_state

    def _fit(self, X):
        self.bank_ = torch.from_numpy(self.bank.astype(np.float32) / 255).flatten(1)

    def _score_tensor(self, x):
        squares = ((x.flatten(1)[:, None] - self.bank_[None]) ** 2).sum(2)
        return squares.min(1).values.clamp_min(1e-12).sqrt()  # clamped: a finite gradient at a bank image


class PlainPGD(DetectorAttack):
    """PGD on the victim's cross-entropy alone, steps of eps / 10: what the detector's term is measured against."""

    def _run(self, images, labels, generator):
        x = self._start(images, generator)
        yield x
        for _ in range(self.steps):
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(F.cross_entropy(self.model(x), labels, reduction="sum"), x)
            x = project(self._step(x.detach(), grad, self.eps / 10), images, self.eps, self.norm)
            yield x


@pytest.fixture(scope="module")
def victim(one_thread):
    """The tiny victim, the clean stop-sign training images (uint8), and the 20 test stop signs (float) and labels."""
    data = synthetic_gtsrb(n_test=20)
    model, stop_signs, labels = frozen_victim(data)
    x = torch.from_numpy(stop_signs.astype(np.float32) / 255)
    return model, data.train.images[data.train.labels == 14], x, torch.from_numpy(labels)


def outcome(model, detector, clean, adversarial, labels) -> tuple[float, float]:
    """The share of ``adversarial`` that fools the victim, and the robust accuracy at 5 % FPR on ``clean``'s scores."""
    with torch.no_grad():
        fooled = (model(adversarial).argmax(1) != labels).numpy()
    scores = detector.decision_function(adversarial.numpy())
    return float(fooled.mean()), robust_accuracy(detector.decision_function(clean.numpy()), scores, fooled, FPR)


@pytest.mark.parametrize("name", ATTACKS)
def test_each_attack_evades_an_evadable_detector_that_plain_pgd_does_not(victim, name):
    model, train, x, y = victim
    detector = BlockDetector().fit(train)
    assert (model(x).argmax(1) == y).all()
    plain = outcome(model, detector, x, PlainPGD(model, detector, eps=0.1, steps=20)(x, y), y)
    assert plain[0] >= 0.8 and plain[1] >= 0.8  # fooled, and flagged
    fooled, accuracy = outcome(model, detector, x, ATTACKS[name](model, detector, eps=0.1, steps=20)(x, y), y)
    assert fooled >= 0.8 and accuracy <= 0.2


@pytest.mark.parametrize("name", ATTACKS)
def test_no_attack_evades_a_detector_that_flags_every_change(victim, name):
    model, train, x, y = victim
    detector = BankDetector(bank=np.round(x.numpy() * 255).astype(np.uint8)).fit(train)
    assert threshold(detector.decision_function(x.numpy()), FPR) < 1e-5
    fooled, accuracy = outcome(model, detector, x, ATTACKS[name](model, detector, eps=0.1, steps=20)(x, y), y)
    assert fooled >= 0.8 and accuracy == 1.0


@pytest.mark.parametrize("norm, eps", [("linf", 0.05), ("l2", 1.0)])
@pytest.mark.parametrize("name", ATTACKS)
def test_candidates_are_8_bit_inside_the_budget_and_seeded(victim, name, norm, eps):
    model, train, x, y = victim
    detector = BlockDetector().fit(train)
    x, y = x[:6], y[:6]
    runs = [ATTACKS[name](model, detector, eps=eps, norm=norm, steps=5, seed=seed)(x, y) for seed in (0, 0, 1)]
    first = runs[0]
    assert torch.equal(first, runs[1]) and not torch.equal(first, runs[2])
    assert torch.allclose(first * 255, torch.round(first * 255), atol=1e-4) and first.min() >= 0 and first.max() <= 1
    delta = (first - x).flatten(1)
    size = delta.abs().amax(1) if norm == "linf" else delta.norm(dim=1)
    assert (size <= eps + 1e-6).all()


def test_apgd_checkpoints_follow_the_paper():
    assert sorted(checkpoints(100)) == [22, 41, 57, 70, 80, 87, 93, 99]


def test_the_projection_leaves_no_component_along_the_other_gradient():
    g, h = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0)).double().unbind(0)
    g, h = g[None].repeat(2, 1, 1, 1), torch.stack([h, torch.zeros_like(h)])
    projected = without(g, h)
    assert abs(float((projected[0] * h[0]).sum())) < 1e-12 and torch.equal(projected[1], g[1])
