"""The feature-space attack (``attacks.feature_space``) and EOT over BU's sampled dropout masks (``attacks.eot``).

The synthetic classes of ``_attack_data`` are random colour patterns far apart: there, even at L-inf 0.5, the
attack left the stop signs' median deep Mahalanobis score at 741, against at most 334 for clean ones. Here class
13 is the stop sign's pattern shifted by 24 levels per block (with its own pixel noise): a near class, as the red
signs are on GTSRB. Deep Mahalanobis is fitted with the Ledoit-Wolf covariance: the 180 reference images are
fewer than the victim's 256 features, so the empirical covariance is singular (rank 157) and its pseudo-inverse
has eigenvalues up to 1e6; with it the attack fooled the victim on 18 of 20 stop signs here but left a robust
accuracy of 0.65 (the Ledoit-Wolf option exists for few reference images per feature).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _attack_data import TINY_VICTIM, synthetic_gtsrb

from advbench import detectors
from advbench.attacks.detector_attack import DetectorAttack, project
from advbench.attacks.eot import ExpectedScore, differentiable_score
from advbench.attacks.feature_space import FeatureSpaceAttack
from advbench.attacks.victim import train_victim
from advbench.datasets.reference import Reference
from advbench.datasets.splits import ImageSet
from advbench.detectors.victim_access import Victim
from advbench.detectors.victim_mahalanobis import VictimMahalanobisDetector
from advbench.runs.robust_accuracy import robust_accuracy

pytestmark = pytest.mark.usefixtures("one_thread")

#: Levels by which class 13's pattern differs from the stop sign's, per 8x8 block and channel.
SHIFT = 24
EPS = 0.05


def with_near_class(images: ImageSet, offset: np.ndarray, rng: np.random.Generator) -> ImageSet:
    """``images`` with class 13 replaced by the stop signs (class 14) shifted by ``offset``, plus fresh noise."""
    stop = images.images[images.labels == 14].astype(np.float64)
    changed = images.images.copy()
    changed[images.labels == 13] = np.clip(stop + offset + rng.normal(0, 12, stop.shape), 0, 255).astype(np.uint8)
    return ImageSet(changed, images.labels)


@pytest.fixture(scope="module")
def setup(one_thread):
    """The near-class data, the tiny victim trained on it (frozen), and the test stop signs as float tensors."""
    rng = np.random.default_rng(1)
    offset = np.repeat(np.repeat(rng.choice([-SHIFT, SHIFT], size=(3, 4, 4)), 8, axis=1), 8, axis=2)
    data = synthetic_gtsrb(n_test=20)
    train, test = (with_near_class(split, offset, rng) for split in (data.train, data.test))
    model, _ = train_victim(train, TINY_VICTIM)
    for param in model.parameters():
        param.requires_grad_(False)
    stop = test.images[test.labels == 14]
    x = torch.from_numpy(stop.astype(np.float32) / 255)
    return SimpleNamespace(train=train, test=test, model=model, stop=stop, x=x, y=torch.full((len(x),), 14))


def fit(detector, setup):
    """``detector`` fitted on the training stop signs with what it needs of the victim and the reference."""
    given = {"victim": Victim(setup.model, "tiny"), "reference": Reference(setup.train.images, setup.train.labels)}
    return detector.fit(
        setup.train.images[setup.train.labels == 14], **{k: given[k] for k in detectors.needs(detector)}
    )


def outcome(attack, detector, setup) -> tuple[np.ndarray, float]:
    """Which stop signs the attack's candidates fool the victim on, and the robust accuracy at 5 % FPR."""
    found = attack(setup.x, setup.y)
    with torch.no_grad():
        fooled = (setup.model(found).argmax(1) != setup.y).numpy()
    scores = detector.decision_function((found.numpy() * 255).round().astype(np.uint8))
    return fooled, robust_accuracy(detector.decision_function(setup.stop), scores, fooled, 0.05)


class CrossEntropyPGD(FeatureSpaceAttack):
    """Plain PGD on the true class's cross-entropy (the same start, steps and kept iterate)."""

    def _loss(self, x, index):
        return -F.cross_entropy(self.victim.logits(x), torch.full((len(x),), 14), reduction="none")


class WithoutFeatureTerm(FeatureSpaceAttack):
    """The feature-space attack less its distance term: cross-entropy towards the same target alone."""

    def _feature_loss(self, features, index):
        return torch.zeros(len(features), dtype=torch.float64)


def test_the_feature_space_attack_evades_deep_mahalanobis(setup):
    """Every stop sign's target is the near class; the attack fools the victim and leaves deep Mahalanobis
    (threshold at 5 % FPR on the clean stop signs) almost nothing, where plain PGD and the attack less its
    feature term, which fool the victim as often, are all flagged (robust accuracy 0.0 against 1.0 when written)."""
    detector = fit(detectors.create("victim-mahalanobis", covariance="ledoit-wolf"), setup)
    attack = FeatureSpaceAttack(setup.model, detector, eps=EPS)
    with torch.no_grad():
        features, _ = attack.victim.features_and_logits(setup.x)
    assert (attack.statistics.classes[attack.statistics.nearest_other(features, setup.y)] == 13).all()
    fooled, accuracy = outcome(attack, detector, setup)
    assert fooled.mean() >= 0.9 and accuracy <= 0.2
    for weaker in (CrossEntropyPGD, WithoutFeatureTerm):
        fooled, baseline = outcome(weaker(setup.model, detector, eps=EPS), detector, setup)
        assert fooled.mean() >= 0.9 and baseline >= accuracy + 0.6, weaker.__name__


class BankDistance(VictimMahalanobisDetector):
    """Deep Mahalanobis's class Gaussians (so the attack picks its targets as against it), but the score is the
    L2 distance to the nearest image of a bank: the training images and ``bank``. It flags every change."""

    def __init__(self, bank=None, covariance="ledoit-wolf", random_state=None, device="cpu"):
        super().__init__(covariance, random_state, device)
        self.bank = bank

    def _fit_victim(self, X, reference):
        super()._fit_victim(X, reference)
        self.bank_ = torch.cat([torch.from_numpy(X), torch.from_numpy(self.bank.astype(np.float32) / 255)]).flatten(1)

    def _score_tensor(self, x):
        return torch.cdist(
            x.flatten(1).double(), self.bank_.double(), compute_mode="donot_use_mm_for_euclid_dist"
        ).amin(1)


def test_a_detector_of_every_change_keeps_every_image(setup):
    """A planted detector that no attack can evade: the attack fools the victim, and every candidate is flagged."""
    detector = fit(BankDistance(bank=setup.stop), setup)
    assert (detector.decision_function(setup.stop) == 0).all()
    fooled, accuracy = outcome(FeatureSpaceAttack(setup.model, detector, eps=EPS, steps=50), detector, setup)
    assert fooled.mean() >= 0.9 and accuracy == 1.0


def test_a_detector_without_the_victim_is_refused(setup):
    detector = detectors.create("ocsvm").fit(setup.stop)
    with pytest.raises(ValueError, match="does not read the victim"):
        FeatureSpaceAttack(setup.model, detector, eps=EPS)


@pytest.fixture(scope="module")
def sampled_bu(setup):
    """BU with masks sampled at each call (20 passes) on the tiny victim, which has dropout (0.3, two layers)."""
    detector = fit(detectors.create("bu", passes=20, masks="sampled", random_state=0), setup)
    assert detector.has_dropout_ and not detector.differentiable
    return detector


def uncertain(setup) -> np.ndarray:
    """Halfway between each test stop sign and a class-13 image: the victim hesitates, so BU's score is not ~0."""
    other = setup.test.images[setup.test.labels == 13].astype(np.float64)
    return ((setup.stop + other) / 2).round().astype(np.uint8)


def gradient(score: ExpectedScore, images: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """The scores of uint8 ``images`` and the gradient of their sum."""
    x = torch.from_numpy(images.astype(np.float32) / 255).requires_grad_(True)
    values = score.score_tensor(x)
    return values.detach(), torch.autograd.grad(values.sum(), x)[0]


def test_the_expected_score_is_reproducible_differentiable_and_bus_expectation(setup, sampled_bu):
    images = uncertain(setup)
    values, grad = gradient(ExpectedScore(sampled_bu, samples=4, seed=1), images)
    assert torch.isfinite(grad).all() and (grad.flatten(1).abs().sum(1) > 0).all()
    again = ExpectedScore(sampled_bu, samples=4, seed=1)
    assert all(torch.equal(a, b) for a, b in zip((values, grad), gradient(again, images), strict=True))
    assert not torch.equal(values, gradient(again, images)[0])  # the next call draws fresh masks
    assert not torch.equal(values, gradient(ExpectedScore(sampled_bu, samples=4, seed=2), images)[0])
    with torch.no_grad():
        mean = ExpectedScore(sampled_bu, samples=200, seed=3).score_tensor(torch.from_numpy(images / 255.0).float())
    calls = [sampled_bu.set_params(random_state=seed).decision_function(images) for seed in range(10)]
    sampled_bu.set_params(random_state=0)
    assert float(mean.mean()) == pytest.approx(np.mean(calls), rel=0.1)


class FoolFirstPGD(DetectorAttack):
    """PGD on the true class's cross-entropy minus ``lam`` times the standardized score of the images that
    already fool the victim (``adaptive.py``'s fool-first loss), step ``eps / 4``."""

    lam = 0.0

    def _run(self, images, labels, generator):
        x = self._start(images, generator)
        for _ in range(self.steps):
            x = x.detach().requires_grad_(True)
            logits = self.model(x)
            fooled = (logits.argmax(1) != labels).double()
            loss = F.cross_entropy(logits, labels, reduction="sum") - self.lam * (fooled * self.score(x)).sum()
            (grad,) = torch.autograd.grad(loss, x)
            x = project(self._step(x.detach(), grad, self.eps / 4), images, self.eps, self.norm)
            yield x


def test_pgd_on_the_expected_score_lowers_it(setup, sampled_bu):
    means = []
    for lam in (0.0, 10.0):
        attack = FoolFirstPGD(setup.model, ExpectedScore(sampled_bu, samples=4, seed=0), eps=0.1, steps=20)
        attack.lam = lam
        found = attack(setup.x, setup.y)
        with torch.no_grad():
            assert (setup.model(found).argmax(1) != setup.y).float().mean() >= 0.9, lam
            means.append(float(ExpectedScore(sampled_bu, samples=50, seed=9).score_tensor(found).mean()))
    assert means[1] < means[0] / 2


def test_differentiable_score_picks_what_an_attack_can_differentiate(setup, sampled_bu):
    assert isinstance(differentiable_score(sampled_bu, samples=3), ExpectedScore)
    fixed = fit(detectors.create("bu", passes=20, random_state=0), setup)
    assert differentiable_score(fixed) is fixed
    x = setup.x[:4]
    assert torch.equal(ExpectedScore(fixed, samples=5).score_tensor(x), fixed.score_tensor(x))
    with pytest.raises(TypeError, match="OCSVMDetector has no differentiable score"):
        differentiable_score(detectors.create("ocsvm"))


def test_other_victim_aware_detectors_take_class_means_of_a_reference(setup):
    """MSP keeps no class statistics: the reference's class means of the victim's features, Euclidean, stand in;
    the L2 and unbounded settings and the detector's own term (``lam``) run too."""
    detector = fit(detectors.create("msp"), setup)
    with pytest.raises(ValueError, match="pass reference="):
        FeatureSpaceAttack(setup.model, detector, eps=EPS)
    reference = Reference(setup.train.images, setup.train.labels)
    attack = FeatureSpaceAttack(
        setup.model, detector, eps=float("inf"), norm="l2", steps=20, reference=reference, lam=1
    )
    statistics = attack.statistics
    assert statistics.classes.tolist() == sorted(set(setup.train.labels.tolist()))
    assert torch.equal(statistics.precision, torch.eye(statistics.means.shape[1], dtype=torch.float64))
    with torch.no_grad():
        features, _ = attack.victim.features_and_logits(setup.x)
    assert (statistics.classes[statistics.nearest_other(features, setup.y)] == 13).all()
    with torch.no_grad():
        assert (setup.model(attack(setup.x, setup.y)).argmax(1) == 13).float().mean() >= 0.9
