"""Tests of the dual-adversarial detector's readings of the paper (the "Readings" parameters of ``detector.py``)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from detectors.test_dual_adversarial import SMALL, blobs

from advbench import detectors
from advbench.detectors.dual_adversarial import DualAdversarialDetector
from advbench.detectors.dual_adversarial.networks import AutoEncoder
from advbench.detectors.dual_adversarial.training import began_balance

FAST = {**SMALL, "epochs": 4}


def fit(**params) -> DualAdversarialDetector:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return detectors.create("dual-adversarial", **{**FAST, **params}).fit(blobs(40, seed=3))
    finally:
        torch.set_num_threads(threads)


def first_norm_input(det: DualAdversarialDetector, images: torch.Tensor) -> torch.Tensor:
    """What the first batch-norm layer of D''s encoder sees for ``images`` (standardized)."""
    with torch.no_grad():
        return det.auxiliary_.encoder.to_middle[1][0](det.auxiliary_.encoder.to_middle[0](images))


@pytest.mark.parametrize(
    ("k", "real", "fake", "reduction", "expected"),
    [
        (0.4, 2.0, 0.5, "mean", 0.4 + 0.001 * (0.5 * 2.0 - 0.5)),  # gamma L(x) > L(G(x)): k grows
        (0.4, 1.0, 0.9, "mean", 0.4 + 0.001 * (0.5 * 1.0 - 0.9)),  # and shrinks the other way
        (0.4, 3072 * 2.0, 3072 * 0.5, "sum", 0.4 + 0.001 * (0.5 * 2.0 - 0.5)),  # per pixel whatever the reduction
        (0.9999, 1000.0, 0.0, "mean", 1.0),  # clipped to [0, 1]
        (0.0, 0.0, 5.0, "mean", 0.0),
    ],
)
def test_began_balance_is_beganss_proportional_control(k, real, fake, reduction, expected):
    det = SimpleNamespace(reduction=reduction, began_gamma=0.5, began_lambda=0.001)
    assert began_balance(k, real, fake, det, pixels=3072) == pytest.approx(expected, abs=1e-12)


def test_began_k_moves_from_its_start_and_fixed_k_does_not():
    fixed = fit()
    assert all(row["k"] == 0.4 for row in fixed.history_)
    adapted = fit(k_update="began", k=0.0, began_lambda=0.01)
    ks = [row["k"] for row in adapted.history_]
    assert ks[0] > 0.0 and len(set(ks)) == len(ks) and all(0.0 <= k <= 1.0 for k in ks)
    assert not np.array_equal(adapted.decision_function(blobs(4, 5)), fixed.decision_function(blobs(4, 5)))


@pytest.mark.parametrize(
    ("schedule", "factor"),
    [
        ("constant", lambda e, n: 1.0),
        ("linear", lambda e, n: 1.0 - e / n),
        ("cosine", lambda e, n: 0.5 * (1.0 + math.cos(math.pi * e / n))),
    ],
)
def test_learning_rate_schedule_reaches_every_optimizer(schedule, factor):
    det = fit(lr_schedule=schedule)
    n = FAST["epochs"]
    expected = [0.002 * factor(epoch, n) for epoch in range(n)]
    assert [row["lr"] for row in det.history_] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_dprime_batch_norm_statistics_come_from_the_named_images():
    train = blobs(40, seed=3)
    by_source = {source: fit(dprime_bn=source) for source in ("x", "gx", "training")}
    det = by_source["gx"]
    x = torch.from_numpy(det.preprocessor_.transform(train))
    with torch.no_grad():
        gx = det.generator_(x)[0]
    running = det.auxiliary_.encoder.to_middle[1][1].running_mean
    torch.testing.assert_close(running, first_norm_input(det, gx).mean(dim=(0, 2, 3)), rtol=1e-3, atol=1e-4)
    assert not torch.allclose(running, first_norm_input(det, x).mean(dim=(0, 2, 3)), atol=1e-3)
    # Same training, different statistics: x and gx and the training batches' mix all differ.
    means = [by_source[s].auxiliary_.encoder.to_middle[1][1].running_mean for s in ("x", "gx", "training")]
    assert not torch.allclose(means[0], means[1]) and not torch.allclose(means[0], means[2])
    assert torch.equal(by_source["x"].generator_.decoder.up[0][0].weight, det.generator_.decoder.up[0][0].weight)


@pytest.mark.parametrize("sampling", [True, False])
def test_latent_sampling_switch_decides_what_the_generator_decodes(monkeypatch, sampling):
    seen = []
    forward = AutoEncoder.forward

    def spy(self, x, noise=None):
        if self.training and self.encoder.logvar is not None:
            seen.append(noise is not None)
        return forward(self, x, noise)

    monkeypatch.setattr(AutoEncoder, "forward", spy)
    fit(epochs=1, latent_sampling=sampling)
    assert seen and set(seen) == {sampling}


def test_gcn_minmax_inputs_train_in_their_own_space():
    det = fit(input_scaling="gcn-minmax")
    assert det.preprocessor_.gcn and det.preprocessor_.scaling == "minmax"
    assert torch.count_nonzero(det.generator_.decoder.pixel_mean) == 0
    assert torch.all(det.generator_.decoder.pixel_std == 1)
    x = torch.from_numpy(blobs(6, seed=4))
    np.testing.assert_allclose(det.score_tensor(x).detach().numpy(), det.decision_function(x.numpy()), rtol=1e-5)
    # GCN makes the score blind to a brightness and contrast change that the literal reading sees.
    shifted = np.clip(0.5 * blobs(6, seed=4) + 0.2, 0, 1).astype(np.float32)
    gcn_change = np.abs(det.decision_function(shifted) - det.decision_function(x.numpy())).max()
    assert gcn_change < 1e-3 * det.decision_function(x.numpy()).max()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"input_scaling": "zca"}, "input_scaling must be one of"),
        ({"dprime_bn": "test"}, "dprime_bn must be one of"),
        ({"latent_sampling": "no"}, "latent_sampling must be one of"),
        ({"k_update": "adaptive"}, "k_update must be one of"),
        ({"k_update": "began", "k": 1.5}, "k must be a finite number"),
        ({"began_lambda": -0.1}, "began_lambda must be"),
        ({"lr_schedule": "step"}, "lr_schedule must be one of"),
    ],
)
def test_bad_readings_raise_before_training(params, message):
    with pytest.raises(ValueError, match=message):
        DualAdversarialDetector(device="cpu", **params).fit(blobs(4, seed=0))
