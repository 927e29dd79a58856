"""BU's fixed dropout masks: drawn once at fit from the seed, applied where the victim's dropout layers are,
the one differentiable function behind both ``decision_function`` and ``score_tensor``.

The victims are tiny: a two-layer perceptron of 3 x 2 x 2 images with a dropout layer before each linear layer
(its passes are computed here with NumPy from the masks alone), and the benchmark's ``VictimNet`` at width 4.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import softmax
from torch import nn

from advbench import detectors
from advbench.attacks.victim import VictimNet
from advbench.detectors.bu import masks_sha256
from advbench.detectors.victim_access import Victim


def mlp(dropout: float = 0.5, kind=nn.Dropout) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), kind(dropout), nn.Linear(12, 6), nn.ReLU(), kind(dropout / 2), nn.Linear(6, 4)
    ).eval()


def images(n: int, seed: int, shape=(3, 2, 2)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *shape)).astype(np.uint8)


def fit(model: nn.Module, shape=(3, 2, 2), **params) -> detectors.BaseDetector:
    return detectors.create("bu", **{"passes": 16, "random_state": 3, **params}).fit(
        images(10, 0, shape), victim=Victim(model, "tiny")
    )


def uncertainty_from_masks(model: nn.Sequential, masks: dict, X: np.ndarray) -> np.ndarray:
    """The paper's ``U`` of each image, each pass a NumPy forward pass of ``mlp`` with that pass's masks."""
    w1, b1 = (p.detach().double().numpy() for p in (model[2].weight, model[2].bias))
    w2, b2 = (p.detach().double().numpy() for p in (model[5].weight, model[5].bias))
    x = X.reshape(len(X), -1).astype(np.float64) / 255.0
    passes = zip(masks["1"].double().numpy(), masks["4"].double().numpy(), strict=True)
    probs = np.stack([softmax(np.maximum((x * m1) @ w1.T + b1, 0) * m2 @ w2.T + b2, axis=1) for m1, m2 in passes])
    return (probs**2).sum(axis=2).mean(axis=0) - (probs.mean(axis=0) ** 2).sum(axis=1)


def test_fixed_masks_are_the_default_and_drop_units_as_the_layers_do():
    model = mlp()
    detector = fit(model, passes=400)
    assert detector.get_params()["masks"] == "fixed" and detector.differentiable
    assert sorted(detector.masks_) == ["1", "4"]  # the module names of the two dropout layers
    for name, rate in (("1", 0.5), ("4", 0.25)):
        mask = detector.masks_[name]
        assert mask.shape == (400, {"1": 12, "4": 6}[name])  # one per-image mask per pass: the layer's input
        assert set(mask.unique().tolist()) == {0.0, float(np.float32(1 / (1 - rate)))}  # kept units scaled up
        assert abs(float((mask > 0).float().mean()) - (1.0 - rate)) < 0.03
    assert detector.masks_sha256_ == masks_sha256(detector.masks_)


def test_the_score_is_the_variance_over_the_fixed_mask_passes():
    model, test = mlp(), images(12, 1)
    detector = fit(model)
    scores = detector.decision_function(test)
    np.testing.assert_allclose(scores, uncertainty_from_masks(model, detector.masks_, test), rtol=1e-4, atol=1e-9)
    assert (scores > 0).all() and not detector.victim_.model.training
    # every image shares the masks: its score does not depend on the images scored with it
    alone = np.concatenate([detector.decision_function(test[i : i + 1]) for i in range(len(test))])
    np.testing.assert_allclose(alone, scores, rtol=1e-6)


@pytest.mark.parametrize("victim", ["mlp", "victim-net"])
def test_score_tensor_equals_decision_function_and_carries_gradients(victim):
    shape = (3, 2, 2) if victim == "mlp" else (3, 32, 32)
    torch.manual_seed(0)
    model = mlp() if victim == "mlp" else VictimNet(width=4, dropout=0.5).eval()
    detector = fit(model, shape)
    test = images(6, 1, shape)
    x = torch.from_numpy(test.astype(np.float32) / 255.0).requires_grad_(True)
    scores = detector.score_tensor(x)
    np.testing.assert_allclose(scores.detach().numpy(), detector.decision_function(test), rtol=1e-5, atol=1e-12)
    scores.sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad.abs().sum(dim=(1, 2, 3)) > 0).all()


def test_the_masks_multiply_the_victim_nets_dropout_layers_where_they_are():
    """On the benchmark's victim, pass ``t`` is the classifier with each dropout layer's output times its mask."""
    torch.manual_seed(0)
    net = VictimNet(width=4, dropout=0.3, num_classes=5, in_channels=1, image_size=28).eval()
    detector = fit(net, (1, 28, 28), passes=4)
    assert {name: tuple(mask.shape) for name, mask in detector.masks_.items()} == {
        "classifier.1": (4, 4 * 4 * 3 * 3),
        "classifier.4": (4, 256),
    }
    x = torch.rand(3, 1, 28, 28)
    found = detector.victim_.masked_logits(x, detector.masks_, 4)
    head = net.classifier
    with torch.no_grad():
        for t in range(4):
            hidden = torch.relu(head[2](head[0](net.trunk(x)) * detector.masks_["classifier.1"][t]))
            torch.testing.assert_close(found[t], head[5](hidden * detector.masks_["classifier.4"][t]))
    # the trunk split changes nothing: the same network without a trunk to split at, the same scores
    whole = fit(nn.Sequential(net), (1, 28, 28), passes=4)
    test = images(5, 2, (1, 28, 28))
    np.testing.assert_allclose(whole.decision_function(test), detector.decision_function(test), rtol=1e-5)


def test_the_seed_names_the_masks():
    model, test = mlp(), images(12, 1)
    first = fit(model)
    torch.manual_seed(99)  # the global state does not matter: the masks come from random_state alone
    again, other = fit(model), fit(model, random_state=4)
    assert again.masks_sha256_ == first.masks_sha256_ != other.masks_sha256_
    for name in first.masks_:
        torch.testing.assert_close(again.masks_[name], first.masks_[name], rtol=0, atol=0)
    np.testing.assert_array_equal(again.decision_function(test), first.decision_function(test))
    assert not np.allclose(other.decision_function(test), first.decision_function(test))


def test_sampled_masks_are_the_score_of_before_and_have_no_score_tensor():
    """``masks="sampled"``: every call reseeds and samples each image's masks in training mode, as BU scored
    before ``masks`` existed (its published lines); an image's score then depends on its place in the call."""
    model, test = mlp(), images(12, 1)
    detector = fit(model, masks="sampled")
    assert detector.masks_ is None and detector.masks_sha256_ is None and not detector.differentiable
    scores = detector.decision_function(test)
    torch.manual_seed(3)
    sampling = model.train()
    x = torch.from_numpy(test.astype(np.float32) / 255.0)
    with torch.no_grad():
        probs = np.stack([torch.softmax(sampling(x), dim=1).numpy() for _ in range(16)]).astype(np.float64)
    model.eval()
    expected = (probs**2).sum(axis=2).mean(axis=0) - (probs.mean(axis=0) ** 2).sum(axis=1)
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-9)
    assert not np.allclose(detector.decision_function(test[::-1])[::-1], scores)
    with pytest.raises(TypeError, match="no differentiable score"):
        detector.score_tensor(x)
    with pytest.raises(ValueError, match="masks"):
        detectors.create("bu", masks="fresh").check_params()


def test_a_victim_without_dropout_scores_zero_with_a_zero_gradient():
    model, test = mlp(dropout=0.0), images(12, 1)
    detector = fit(model)
    assert not detector.has_dropout_ and detector.masks_ == {} and detector.differentiable
    np.testing.assert_array_equal(detector.decision_function(test), np.zeros(len(test)))
    x = torch.from_numpy(test.astype(np.float32) / 255.0).requires_grad_(True)
    scores = detector.score_tensor(x)
    scores.sum().backward()
    assert (scores == 0).all() and (x.grad == 0).all()


def test_fixed_masks_refuse_a_dropout_layer_that_is_not_element_wise():
    model = mlp(kind=nn.AlphaDropout)
    with pytest.raises(ValueError, match=r"nn\.Dropout layers only; the victim's layer '1' is AlphaDropout"):
        fit(model)
    assert fit(model, masks="sampled").has_dropout_
