"""The victim-aware detectors' scores against their papers' formulas on planted cases.

The victim here is a linear classifier of 1 x 2 x 2 (or 3 x 4 x 4) images: its logits are
``W x`` and its penultimate features (the input of its last linear layer) the pixels themselves,
so every score can be computed independently with NumPy and SciPy from the formula alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.special import logsumexp, softmax
from scipy.stats import multivariate_normal
from torch import nn

from advbench import detectors
from advbench.datasets.reference import Reference, stratified_sample
from advbench.detectors.feature_squeezing import bit_depth, non_local_means
from advbench.detectors.magnet import jensen_shannon
from advbench.detectors.victim_access import Victim

W = np.array([[3.0, -1.0, 0.5, 0.0], [0.0, 2.0, -2.0, 1.0], [-1.0, 0.0, 1.0, 2.5]])


def linear_victim(weights: np.ndarray = W, dropout: float = 0.0) -> Victim:
    """Logits ``W x`` of the flattened image; with ``dropout``, a dropout layer before the linear one."""
    layer = nn.Linear(weights.shape[1], weights.shape[0], bias=False)
    layer.weight.data = torch.tensor(weights, dtype=torch.float32)
    return Victim(nn.Sequential(nn.Flatten(), nn.Dropout(dropout), layer), "planted")


def images(n: int, seed: int, shape=(1, 2, 2)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *shape)).astype(np.uint8)


def logits_of(X: np.ndarray, weights: np.ndarray = W) -> np.ndarray:
    return (X.reshape(len(X), -1).astype(np.float64) / 255.0) @ weights.T


def labelled(seed: int) -> Reference:
    """Three classes of 1 x 2 x 2 images around different means."""
    rng = np.random.default_rng(seed)
    centres = np.array([[40, 200, 60, 120], [200, 40, 180, 60], [120, 120, 30, 220]])
    labels = np.repeat(np.arange(3), 20)
    found = centres[labels] + rng.normal(0, 15, (60, 4))
    return Reference(np.clip(found, 0, 255).astype(np.uint8).reshape(60, 1, 2, 2), labels)


def test_msp_and_energy_on_known_logits():
    X, test = images(10, 0), images(12, 1)
    victim = linear_victim()
    logits = logits_of(test)
    msp = detectors.create("msp").fit(X, victim=victim).decision_function(test)
    np.testing.assert_allclose(msp, -softmax(logits, axis=1).max(axis=1), rtol=1e-6)
    energy = detectors.create("energy").fit(X, victim=victim).decision_function(test)
    np.testing.assert_allclose(energy, -logsumexp(logits, axis=1), rtol=1e-6)
    cold = detectors.create("energy", temperature=4.0).fit(X, victim=victim).decision_function(test)
    np.testing.assert_allclose(cold, -4.0 * logsumexp(logits / 4.0, axis=1), rtol=1e-6)


def test_bu_is_zero_without_dropout_and_the_mc_variance_with_it():
    X, test = images(10, 0), images(12, 1)
    plain = detectors.create("bu", passes=20, random_state=0).fit(X, victim=linear_victim())
    assert not plain.has_dropout_
    np.testing.assert_array_equal(plain.decision_function(test), np.zeros(len(test)))
    sampled = detectors.create("bu", passes=20, random_state=3, masks="sampled").fit(
        X, victim=linear_victim(dropout=0.5)
    )
    assert sampled.has_dropout_
    scores = sampled.decision_function(test)
    assert not sampled.victim_.model.training  # mc_logits put the victim back into eval mode
    torch.manual_seed(3)  # the passes' dropout masks, as the detector draws them
    model = sampled.victim_.model.train()
    x = torch.from_numpy(test.astype(np.float32) / 255.0)
    with torch.no_grad():
        probs = np.stack([torch.softmax(model(x), dim=1).numpy() for _ in range(20)]).astype(np.float64)
    expected = (probs**2).sum(axis=2).mean(axis=0) - (probs.mean(axis=0) ** 2).sum(axis=1)
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-9)
    assert (scores > 0).all()


def test_mc_passes_through_the_classifier_alone_are_the_whole_passes():
    from advbench.attacks.victim import VictimNet

    torch.manual_seed(0)
    net = VictimNet(width=4, dropout=0.5)
    x = torch.rand(6, 3, 32, 32)
    torch.manual_seed(1)
    split = Victim(net).mc_logits(x, 4)  # the trunk once, the classifier four times
    torch.manual_seed(1)
    whole = Victim(nn.Sequential(net)).mc_logits(x, 4)  # no trunk to split at: four whole passes
    torch.testing.assert_close(split, whole, rtol=0, atol=1e-6)
    assert split.shape == (4, 6, 43) and (split[0] != split[1]).any()


def test_bit_depth_has_fixed_points_and_an_8_bit_image_is_one_of_8_bits():
    x = np.random.default_rng(0).random((4, 3, 5, 5)).astype(np.float32)
    for bits in (1, 5):
        once = bit_depth(x, bits)
        np.testing.assert_array_equal(bit_depth(once, bits), once)
        assert len(np.unique(once)) <= 2**bits
    eight = images(4, 2, (3, 5, 5)).astype(np.float32) / 255.0
    np.testing.assert_array_equal(bit_depth(eight, 8), eight)
    values = np.array([0.2, 0.49, 0.51, 0.8, 100 / 255], dtype=np.float32)  # rounded to the nearest level
    np.testing.assert_array_equal(bit_depth(values, 1), [0, 0, 1, 1, 0])
    np.testing.assert_allclose(bit_depth(values, 5), np.array([6, 15, 16, 25, 12]) / 31)


def test_non_local_means_keeps_a_flat_image():
    flat = np.full((2, 3, 8, 8), 77 / 255.0, dtype=np.float32)
    np.testing.assert_array_equal(non_local_means(flat, 13, 3, 2.0), flat)
    grey = np.full((1, 1, 8, 8), 200 / 255.0, dtype=np.float32)
    np.testing.assert_array_equal(non_local_means(grey, 13, 3, 2.0), grey)


def test_feature_squeezing_is_the_largest_l1_softmax_change():
    X, test = images(10, 0), images(12, 1)
    detector = detectors.create("feature-squeezing").fit(X, victim=linear_victim())
    assert detector.squeezers_ == ("bit-depth-1", "median-2x2", "median-3x3")  # the paper's, for one channel
    x = test.astype(np.float64) / 255.0
    from scipy.ndimage import median_filter

    squeezed = [
        np.rint(x),
        median_filter(x, size=(1, 1, 2, 2), mode="reflect"),
        median_filter(x, size=(1, 1, 3, 3), mode="reflect"),
    ]
    clean = softmax(logits_of(test), axis=1)
    changes = [np.abs(clean - softmax(logits_of(s * 255.0), axis=1)).sum(axis=1) for s in squeezed]
    np.testing.assert_allclose(detector.decision_function(test), np.max(changes, axis=0), rtol=1e-5, atol=1e-7)
    fixed = np.full((1, 1, 2, 2), 255, dtype=np.uint8)  # a fixed point of every squeezer: no change at all
    np.testing.assert_array_equal(detector.decision_function(fixed), [0.0])


def test_feature_squeezing_passes_the_gradient_straight_through_the_squeezer():
    X, test = images(10, 0), images(12, 1)
    detector = detectors.create("feature-squeezing", squeezers=["bit-depth-1"]).fit(X, victim=linear_victim())
    x = torch.from_numpy(test.astype(np.float32) / 255.0).requires_grad_(True)
    detector.score_tensor(x).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad.abs().sum(dim=(1, 2, 3)) > 0).all()
    # the straight-through gradient: that of the score with the squeezer's change held constant
    y = x.detach().clone().requires_grad_(True)
    shift = torch.round(y.detach()) - y.detach()
    model = detector.victim_.model
    score = (torch.softmax(model(y), dim=1) - torch.softmax(model(y + shift), dim=1)).abs().sum(dim=1)
    score.sum().backward()
    torch.testing.assert_close(x.grad, y.grad)


def test_victim_mahalanobis_is_the_smallest_tied_covariance_distance():
    reference, test = labelled(0), images(9, 1)
    detector = detectors.create("victim-mahalanobis").fit(images(5, 2), victim=linear_victim(), reference=reference)
    f = reference.images.reshape(60, 4) / 255.0
    means = np.stack([f[reference.labels == c].mean(axis=0) for c in range(3)])
    centred = f - means[reference.labels]
    precision = np.linalg.pinv(centred.T @ centred / len(f))
    q = test.reshape(9, 4) / 255.0
    expected = np.min([np.einsum("nd,de,ne->n", q - m, precision, q - m) for m in means], axis=0)
    np.testing.assert_allclose(detector.decision_function(test), expected, rtol=1e-5)
    shrunk = detectors.create("victim-mahalanobis", covariance="ledoit-wolf")
    assert not np.allclose(
        shrunk.fit(images(5, 2), victim=linear_victim(), reference=reference).decision_function(test), expected
    )


def test_kd_is_the_negative_log_density_of_the_predicted_class():
    reference, test = labelled(0), images(9, 1)
    h = 0.2
    detector = detectors.create("kd", bandwidths=[h]).fit(images(5, 2), victim=linear_victim(), reference=reference)
    f = reference.images.reshape(60, 4) / 255.0
    q = test.reshape(9, 4) / 255.0
    predicted = logits_of(test).argmax(axis=1)
    expected = [
        -logsumexp([multivariate_normal(z, h**2 * np.eye(4)).logpdf(point) for z in f[reference.labels == c]])
        + np.log(20)
        for point, c in zip(q, predicted, strict=True)
    ]
    np.testing.assert_allclose(detector.decision_function(test), expected, rtol=1e-6)


def test_kd_picks_the_bandwidth_of_the_best_cross_validated_likelihood():
    reference = labelled(0)
    grid = [0.001, 0.05, 5.0]
    detector = detectors.create("kd", bandwidths=grid, cv=4, random_state=0)
    detector.fit(images(5, 2), victim=linear_victim(), reference=reference)
    assert detector.bandwidth_ == grid[int(np.argmax(detector.cv_log_likelihood_))] == 0.05


def test_lid_is_the_mean_mle_over_shuffled_reference_minibatches():
    reference, test = labelled(0), images(9, 1)
    detector = detectors.create("lid", k=5, batch_size=25, random_state=3)
    detector.fit(images(5, 2), victim=linear_victim(), reference=reference)
    f = reference.images.reshape(60, 4) / 255.0
    q = test.reshape(9, 4) / 255.0
    order = np.random.default_rng(3).permutation(60)[:50].reshape(2, 25)  # the last 10 images make no batch
    expected = np.zeros(9)
    for rows in order:
        r = np.sort(np.linalg.norm(q[:, None, :] - f[rows][None, :, :], axis=2), axis=1)[:, :5]
        expected += -1.0 / np.log(r / r[:, -1:]).mean(axis=1) / len(order)
    np.testing.assert_allclose(detector.decision_function(test), expected, rtol=1e-6)


@pytest.mark.parametrize("dimension", [2, 8])
def test_lid_mle_recovers_the_dimension_of_uniform_data(dimension):
    from advbench.detectors.lid import lid_mle

    rng = np.random.default_rng(0)
    points = torch.from_numpy(np.hstack([rng.uniform(-1, 1, (20_000, dimension)), np.zeros((20_000, 10 - dimension))]))
    nearest = torch.cdist(torch.zeros(1, 10, dtype=torch.float64), points).topk(100, largest=False).values
    assert float(lid_mle(nearest)) == pytest.approx(dimension, rel=0.25)


def test_magnet_parts_and_their_combination():
    reference = Reference(images(64, 0, (3, 4, 4)), np.arange(64) % 3)
    weights = np.random.default_rng(1).normal(0, 1, (3, 48))
    X, test = images(16, 2, (3, 4, 4)), images(7, 3, (3, 4, 4))
    detector = detectors.create("magnet", epochs=2, batch_size=16, random_state=0)
    detector.fit(X, victim=linear_victim(weights), reference=reference)
    assert detector.variant_names() == ("paper", "reconstruction", "jsd-t10", "jsd-t40")
    found = detector.score_variants(test)
    x = torch.from_numpy(test.astype(np.float32) / 255.0)
    with torch.no_grad():
        rebuilt = detector.autoencoder_(x).numpy().astype(np.float64)
    np.testing.assert_allclose(found["reconstruction"], np.abs(x.numpy() - rebuilt).mean(axis=(1, 2, 3)), rtol=1e-5)
    for t in (10, 40):
        p = softmax(logits_of(test, weights) / t, axis=1)
        q = softmax(rebuilt.reshape(7, -1) @ weights.T / t, axis=1)
        np.testing.assert_allclose(found[f"jsd-t{t}"], jensenshannon(p, q, axis=1) ** 2, rtol=1e-4)
    standardized = [(found[k] - detector.part_mean_[k]) / detector.part_std_[k] for k in detector.part_mean_]
    np.testing.assert_allclose(found["paper"], np.max(standardized, axis=0), rtol=1e-9)
    train = detector.variant_scores_  # the combination's constants come from the clean training images
    for key in detector.part_mean_:
        assert detector.part_mean_[key] == pytest.approx(train[key].mean())


def test_jensen_shannon_is_scipys():
    rng = np.random.default_rng(0)
    p, q = softmax(rng.normal(size=(5, 7)), axis=1), softmax(rng.normal(size=(5, 7)), axis=1)
    np.testing.assert_allclose(
        jensen_shannon(torch.from_numpy(p), torch.from_numpy(q)).numpy(), jensenshannon(p, q, axis=1) ** 2
    )


def test_fit_asks_for_what_a_detector_needs_and_refuses_the_rest():
    X = images(10, 0)
    with pytest.raises(ValueError, match=r"looks through the victim: fit\(X, victim=\.\.\.\) needs it"):
        detectors.create("msp").fit(X)
    with pytest.raises(ValueError, match=r"fit\(X, reference=\.\.\.\) needs it"):
        detectors.create("kd").fit(X, victim=linear_victim())
    with pytest.raises(TypeError, match="does not use the victim"):
        detectors.create("ocsvm").fit(X, victim=linear_victim())
    with pytest.raises(TypeError, match="does not use the reference"):
        detectors.create("msp").fit(X, victim=linear_victim(), reference=labelled(0))
    with pytest.raises(ValueError, match=r"the victim does not take the training images of shape \(1, 3, 3\)"):
        detectors.create("energy").fit(images(4, 0, (1, 3, 3)), victim=linear_victim())
    assert detectors.needs(detectors.create("magnet")) == ("victim", "reference")
    assert detectors.needs(detectors.create("ocsvm")) == ()


def test_reference_sample_is_stratified_seeded_and_hashed():
    labels = np.repeat(np.arange(4), [100, 50, 30, 20])
    pictures = np.arange(200 * 3, dtype=np.uint8).reshape(200, 3, 1, 1)
    one = stratified_sample(pictures, labels, size=50, seed=0)
    assert len(one) == 50 and one.record()["per_class"] == {"0": 25, "1": 12, "2": 8, "3": 5}
    again = stratified_sample(pictures, labels, size=50, seed=0)
    assert one.sha256 == again.sha256 and one.sha256 != stratified_sample(pictures, labels, size=50, seed=1).sha256
    assert len(stratified_sample(pictures, labels, size=500)) == 200  # a small split is taken whole


def relu_victim() -> Victim:
    """Flatten, a seeded 4 -> 8 linear layer, ReLU, 8 -> 3 logits: one hidden layer for NIC to read."""
    torch.manual_seed(0)
    return Victim(nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).eval(), "planted")


def test_layer_outputs_are_each_relu_then_the_logits():
    victim, x = relu_victim(), torch.rand(5, 1, 2, 2)
    hidden, logits = victim.layer_outputs(x)
    first, _, second = victim.model[1], victim.model[2], victim.model[3]
    torch.testing.assert_close(hidden, torch.relu(first(x.flatten(1))))
    torch.testing.assert_close(logits, second(hidden))


def test_nic_flags_images_whose_layers_leave_the_clean_invariants():
    """Fitted on class 0 of the three planted clusters, NIC scores the other clusters' images above class 0's
    unseen ones: their hidden layer and the layer classifiers' provenance both differ."""
    from advbench.runs.metrics import roc_auc

    reference = labelled(0)
    normal = labelled(1).images[:20]  # class 0, unseen
    detector = detectors.create("nic", components=3, nu=0.1, random_state=0)
    detector.fit(reference.images[:20], victim=relu_victim(), reference=reference)
    scores = detector.decision_function(np.concatenate([normal, labelled(1).images[20:]]))
    assert roc_auc(scores[:20], scores[20:]) > 0.95
    assert len(detector.value_svms_) == 2 and len(detector.provenance_svms_) == 1


def test_nic_reads_the_victims_layers_of_the_images_it_is_given():
    """The images reach the victim as they reach ``fit`` and ``decision_function``, in [0, 1] (once scaled)."""
    reference = labelled(0)
    detector = detectors.create("nic", components=3, random_state=0)
    detector.fit(reference.images[:20], victim=relu_victim(), reference=reference)
    X = reference.images[20:30].astype(np.float32) / 255.0
    expected = relu_victim().logits(torch.from_numpy(X)).detach().double().numpy()
    np.testing.assert_allclose(detector._layers(X)[-1], expected, rtol=1e-6)
