"""Tests of the dual-adversarial detector and its Table 1 ablations on small synthetic images."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from synthetic_images import assert_detects, check_shortcuts_fail, structure_dataset

from advbench import detectors
from advbench.detectors.dual_adversarial import DualAdversarialDetector, losses
from advbench.detectors.dual_adversarial.detector import augment
from advbench.torch_utils import DivergenceError

VARIANTS = ("ablation-single-ae", "ablation-single-ae-d", "ablation-dual-ae-d", "dual-adversarial")
# Narrow networks and few images keep the whole file quick on two CPU cores.
SMALL = {
    "epochs": 10,
    "batch_size": 16,
    "channels": (8, 16, 32),
    "latent_dim": 16,
    "device": "cpu",
    "random_state": 0,
}
#: The AUC every variant must beat on ``structure_dataset(64, 40, seed=1)`` after SMALL's 10 epochs. Measured with
#: seeds 0-4 of the data: 0.962-1.000 (ablation-dual-ae-d 0.962, every other variant at least 0.990); after one
#: epoch every variant reaches only 0.365-0.413, the training-free shortcuts 0.498-0.533.
MIN_AUC = 0.9


def blobs(n: int, seed: int) -> np.ndarray:
    """Smooth images: one coloured Gaussian blob on a dark background, as float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32]
    centre = rng.uniform(10, 22, size=(n, 2))
    width = rng.uniform(5, 8, size=n)
    colour = rng.uniform(0.5, 1.0, size=(n, 3))
    d2 = (yy[None] - centre[:, 0, None, None]) ** 2 + (xx[None] - centre[:, 1, None, None]) ** 2
    blob = np.exp(-d2 / (2 * width[:, None, None] ** 2))
    return np.clip(0.1 + colour[:, :, None, None] * blob[:, None], 0, 1).astype(np.float32)


def noisy(X: np.ndarray, seed: int, sigma: float = 0.25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(X + rng.normal(0, sigma, X.shape), 0, 1).astype(np.float32)


#: The score variants of each preset (the module docstring of ``detector.py``): D' brings ``dprime-x``,
#: ``dprime-gx`` and ``latent``, D ``discriminator``.
SCORE_VARIANTS = {
    "ablation-single-ae": ["paper", "g"],
    "ablation-single-ae-d": ["paper", "g", "discriminator"],
    "ablation-dual-ae-d": ["paper", "g", "dprime-x", "dprime-gx", "latent", "discriminator"],
    "dual-adversarial": ["paper", "g", "dprime-x", "dprime-gx", "latent", "discriminator"],
}


@pytest.fixture(scope="module")
def data():
    return structure_dataset(n_train=64, n_test=40, seed=1)


@pytest.fixture(scope="module")
def fitted(data) -> dict[str, DualAdversarialDetector]:
    # One thread: float sums, and so the trained models, otherwise depend on the core count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {name: detectors.create(name, **SMALL).fit(data[0]) for name in VARIANTS}
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_learns_and_separates_anomalies_of_structure(fitted, data, name):
    det = fitted[name]
    history = det.history_
    assert len(history) == SMALL["epochs"]
    assert history[-1]["irec"] < 0.9 * history[0]["irec"]
    _, X_test, y_test = data
    scores = det.decision_function(X_test)
    assert scores.dtype == np.float64 and np.isfinite(scores).all()
    assert det.decision_scores_.shape == (64,)
    assert_detects(y_test, scores, MIN_AUC, name)


def test_shortcuts_and_one_epoch_of_training_fail_the_same_assertion(data):
    check_shortcuts_fail(*data, MIN_AUC)
    X_train, X_test, y_test = data
    untrained = detectors.create("dual-adversarial", **{**SMALL, "epochs": 1}).fit(X_train)
    with pytest.raises(AssertionError, match="^one epoch: AUC"):
        assert_detects(y_test, untrained.decision_function(X_test), MIN_AUC, "one epoch")


@pytest.mark.parametrize("name", VARIANTS)
def test_switched_off_parts_are_not_built_and_not_logged(fitted, name):
    det = fitted[name]
    assert (det.discriminator_ is not None) == det.use_discriminator
    assert (det.auxiliary_ is not None) == det.use_dual
    assert (det.mi_estimator_ is not None) == det.use_latent_regularizer
    assert (det.generator_.encoder.logvar is not None) == det.use_latent_regularizer
    last = det.history_[-1]
    parts = {"loss_d": "use_discriminator", "loss_dprime": "use_dual", "mi_estimate": "use_latent_regularizer"}
    for key, part in parts.items():
        assert math.isnan(last[key]) != getattr(det, part), key
    assert math.isfinite(last["loss_g"]) and math.isfinite(last["irec"])


def test_parameter_count_grows_with_each_part(fitted):
    counts = [sum(p.numel() for net in fitted[name]._networks() for p in net.parameters()) for name in VARIANTS]
    assert counts == sorted(counts) and len(set(counts)) == 4


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("ablation-single-ae", {"w_a": 50.0, "w_z": 7.0, "w_d": 3.0, "k": 0.9, "w_e": 2.0, "kl_gamma": 5.0}),
        ("ablation-dual-ae-d", {"w_e": 2.0, "mi_beta": 3.0, "kl_gamma": 5.0}),
    ],
)
def test_weights_of_switched_off_parts_have_no_effect(name, changes):
    train = blobs(24, seed=5)
    params = {**SMALL, "epochs": 1, "batch_size": 12}
    base = detectors.create(name, **params).fit(train)
    changed = detectors.create(name, **params, **changes).fit(train)
    np.testing.assert_array_equal(base.decision_scores_, changed.decision_scores_)


def test_switched_on_weights_do_have_an_effect():
    train = blobs(24, seed=5)
    params = {**SMALL, "epochs": 1, "batch_size": 12}
    base = detectors.create("dual-adversarial", **params).fit(train)
    for change in ({"w_a": 0.0}, {"w_z": 5.0}, {"w_e": 2.0}, {"k": 0.0}):
        other = detectors.create("dual-adversarial", **params, **change).fit(train)
        assert not np.array_equal(base.decision_scores_, other.decision_scores_), change


def test_same_seed_gives_identical_scores_on_cpu():
    train, test = blobs(24, seed=6), blobs(10, seed=7)
    params = {**SMALL, "epochs": 2, "batch_size": 12}
    first = DualAdversarialDetector(**params).fit(train)
    second = DualAdversarialDetector(**params).fit(train)
    np.testing.assert_array_equal(first.decision_function(test), second.decision_function(test))
    assert first.history_[-1]["loss_g"] == second.history_[-1]["loss_g"]
    other_seed = DualAdversarialDetector(**{**params, "random_state": 1}).fit(train)
    assert not np.array_equal(first.decision_function(test), other_seed.decision_function(test))


def test_mi_estimator_scores_matching_pairs_above_shuffled(fitted, data):
    det = fitted["dual-adversarial"]
    positive, negative = det.mutual_information_logits(data[1][data[2] == 0])
    assert positive.mean() > negative.mean()
    assert det.history_[-1]["mi_estimate"] > 0
    with pytest.raises(ValueError, match="use_latent_regularizer"):
        fitted["ablation-dual-ae-d"].mutual_information_logits(blobs(4, seed=8))


def test_registry_presets_and_clone():
    for name in VARIANTS:
        det = detectors.create(name, random_state=3)
        assert isinstance(det, DualAdversarialDetector)
        assert clone(det).get_params() == det.get_params()
    single = detectors.create("ablation-single-ae")
    assert not (single.use_discriminator or single.use_dual or single.use_latent_regularizer)
    full = detectors.create("dual-adversarial")
    assert full.use_discriminator and full.use_dual and full.use_latent_regularizer
    assert (full.w_i, full.w_a, full.w_z, full.w_e, full.w_d, full.k, full.lr) == (1, 5, 1, 0.05, 1, 0.4, 0.002)


@pytest.mark.parametrize(
    ("params", "X", "message"),
    [
        ({}, np.zeros((4, 3, 6, 6), np.float32), "at least 8 x 8 pixels"),
        ({"crop_padding": 8}, np.zeros((4, 1, 8, 8), np.float32), "crop_padding must be smaller"),
        ({"epochs": 0}, np.zeros((4, 3, 32, 32), np.float32), "epochs"),
        ({"batch_size": 1}, np.zeros((4, 3, 32, 32), np.float32), "batch_size"),
        ({"k": -1.0}, np.zeros((4, 3, 32, 32), np.float32), "k must"),
        ({}, np.zeros((1, 3, 32, 32), np.float32), "two training images"),
    ],
)
def test_bad_parameters_and_inputs_raise(params, X, message):
    with pytest.raises(ValueError, match=message):
        DualAdversarialDetector(device="cpu", **params).fit(X)


@pytest.mark.parametrize("name", ["dual-adversarial", "ablation-single-ae"])
def test_diverging_loss_raises(name):
    # A real divergence: after one Adam step of size ~1e30 the weights overflow float32 in the next batch.
    with pytest.raises(DivergenceError, match=r"^generator G loss became nan in epoch 1$"):
        detectors.create(name, **{**SMALL, "epochs": 1, "lr": 1e30}).fit(blobs(40, seed=9))


def test_augment_is_seeded_and_can_be_switched_off():
    x = torch.from_numpy(blobs(6, seed=10))
    same = [augment(x, 4, True, torch.Generator().manual_seed(0)) for _ in range(2)]
    assert same[0].shape == x.shape and torch.equal(same[0], same[1])
    assert not torch.equal(same[0], x)
    assert torch.equal(augment(x, 0, False, torch.Generator().manual_seed(0)), x)


GRAD_TERMS = {
    "grad_irec": True,
    "grad_adv": "use_discriminator",
    "grad_zrec": "use_dual",
    "grad_dual": "use_dual",
    "grad_e": "use_latent_regularizer",
}


@pytest.mark.parametrize("name", VARIANTS)
def test_history_holds_gradient_norm_of_each_active_term(fitted, name):
    det = fitted[name]
    for row in det.history_:
        assert row["grad_total"] > 0
        for key, switch in GRAD_TERMS.items():
            active = switch is True or getattr(det, switch)
            assert (row[key] > 0) if active else math.isnan(row[key]), (key, row[key])
    if name == "ablation-single-ae":  # one term: its gradient is the whole gradient
        row = det.history_[-1]
        assert row["grad_irec"] == pytest.approx(row["grad_total"], rel=1e-5)


def test_gradient_measurement_does_not_change_training():
    train = blobs(24, seed=5)
    measured = detectors.create("dual-adversarial", **{**SMALL, "epochs": 2}).fit(train)
    unmeasured = detectors.create("dual-adversarial", **{**SMALL, "epochs": 2, "grad_batches": 0}).fit(train)
    assert all(math.isnan(row["grad_total"]) for row in unmeasured.history_)
    X = blobs(8, seed=6)
    np.testing.assert_allclose(measured.decision_function(X), unmeasured.decision_function(X), rtol=1e-5)


def test_reduction_scales_the_loss_terms():
    a, b = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    assert float(losses.image_l1(a, b, "sum")) == 48.0 and float(losses.image_l1(a, b, "mean")) == 1.0
    z, z2 = torch.zeros(2, 4), torch.full((2, 4), 2.0)
    assert float(losses.latent_loss(z, z2, "sum")) == pytest.approx(4.0)
    assert float(losses.latent_loss(z, z2, "mean")) == pytest.approx(2.0)


def test_flattened_stopping_rule():
    from advbench.detectors.dual_adversarial.training import flattened

    falling = [100.0 * 0.9**i for i in range(20)]
    assert not flattened(falling, 5, 0.01)
    assert flattened([10.0] * 10, 5, 0.01)
    assert not flattened([10.0] * 9, 5, 0.01)  # fewer than two windows
    assert not flattened([10.0] * 10, 0, 0.01)  # window 0: never stops


def test_reference_profile_stops_when_losses_flatten(monkeypatch):
    from advbench.detectors.dual_adversarial import detector as module

    monkeypatch.setitem(
        module.SCHEDULES, "reference", {"epochs": 40, "batch_size": 16, "stop_window": 2, "stop_tolerance": 0.5}
    )
    det = detectors.create(
        "ablation-single-ae", **{**SMALL, "epochs": None, "batch_size": None}, profile="reference"
    ).fit(blobs(24, seed=7))
    assert 4 <= len(det.history_) < 40 and det.schedule_["stop_window"] == 2


def test_auxiliary_batch_norm_statistics_are_those_of_real_images(fitted, data):
    det = fitted["dual-adversarial"]
    train = torch.from_numpy(det.preprocessor_.transform(data[0].astype(np.float32) / 255))
    first = det.auxiliary_.encoder.to_middle[1][1]  # the first batch-norm layer of D''s encoder
    with torch.no_grad():
        features = det.auxiliary_.encoder.to_middle[0](train)
        expected = det.auxiliary_.encoder.to_middle[1][0](features)
    torch.testing.assert_close(first.running_mean, expected.mean(dim=(0, 2, 3)), rtol=1e-4, atol=1e-5)


def test_latent_loss_can_train_the_auxiliary_encoder():
    train = blobs(24, seed=8)
    base = detectors.create("dual-adversarial", **{**SMALL, "epochs": 1}).fit(train)
    other = detectors.create("dual-adversarial", **{**SMALL, "epochs": 1}, zrec_trains_auxiliary=True).fit(train)
    assert not torch.equal(base.auxiliary_.encoder.mean.weight, other.auxiliary_.encoder.mean.weight)


def _l1(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    return (a - b).abs().sum(dim=(1, 2, 3)).double().numpy()


@pytest.mark.parametrize("name", VARIANTS)
def test_score_variants_are_the_distances_they_name(fitted, name):
    """Each variant computed by hand from the fitted networks, in the space of the paper's score (the
    training standardization, eval mode, encoders on their means), against ``score_variants``."""
    det = fitted[name]
    images = np.concatenate([blobs(20, seed=9), noisy(blobs(20, seed=10), seed=11)])
    found = det.score_variants(images)
    assert list(found) == list(det.variant_names()) == SCORE_VARIANTS[name]
    assert all(values.dtype == np.float64 and values.shape == (40,) for values in found.values())
    G, Dp, D = det.generator_, det.auxiliary_, det.discriminator_
    assert not any(net.training for net in det._networks())
    with torch.no_grad():
        x = torch.from_numpy(det.preprocessor_.transform(images))
        z = G.encoder(x).mean
        gx = G.decoder(z)  # G(x)
        expected = {"g": _l1(x, gx)}  # ||x - G(x)||_1
        if Dp is None:
            expected["paper"] = expected["g"]  # a single autoencoder's own reconstruction error
        else:
            z_aux = Dp.encoder(gx).mean  # G'_e(G(x))
            dp_gx = Dp.decoder(z_aux)  # D'(G(x))
            expected["paper"] = _l1(x, dp_gx)  # ||x - D'(G(x))||_1
            expected["dprime-x"] = _l1(x, Dp.decoder(Dp.encoder(x).mean))  # ||x - D'(x)||_1
            expected["dprime-gx"] = _l1(gx, dp_gx)  # ||G(x) - D'(G(x))||_1
            expected["latent"] = torch.linalg.vector_norm(z - z_aux, dim=1).double().numpy()  # reduction "sum"
        if D is not None:
            expected["discriminator"] = -D(x).double().numpy()  # minus D's logit: "real" scores low
    assert set(expected) == set(found)
    for variant, values in expected.items():
        np.testing.assert_allclose(found[variant], values, rtol=1e-5, err_msg=variant)
    np.testing.assert_array_equal(found["paper"], det.decision_function(images))


def test_paper_variant_is_decision_function_bit_for_bit_across_batches(fitted):
    """600 images: two scoring batches of ``batched_apply`` (512 + 88)."""
    det = fitted["dual-adversarial"]
    images = blobs(600, seed=12)
    found = det.score_variants(images)
    np.testing.assert_array_equal(found["paper"], det.decision_function(images))
    np.testing.assert_array_equal(det.score_variants(images[:88])["g"], found["g"][:88])


def test_latent_variant_follows_the_reduction():
    z, z_aux = torch.tensor([[3.0, 4.0, 0.0, 0.0]]), torch.zeros(1, 4)
    assert float(losses.latent_distance(z, z_aux, "sum")) == pytest.approx(5.0)
    assert float(losses.latent_distance(z, z_aux, "mean")) == pytest.approx(2.5)  # the root mean square
    assert float(losses.latent_loss(z.repeat(2, 1), z_aux.repeat(2, 1), "sum")) == pytest.approx(5.0)


def test_variant_names_need_no_fit():
    for name, expected in SCORE_VARIANTS.items():
        assert list(detectors.create(name).variant_names()) == expected
