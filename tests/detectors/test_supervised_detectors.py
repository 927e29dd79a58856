"""The supervised detectors (KD+BU, LID, deep Mahalanobis) on a planted case: fitted on images with one
kind of noise as the training attack set, they must flag new images with that noise, and learn it
from the training attack set (with its labels swapped, the order of the scores turns over)."""

from __future__ import annotations

import numpy as np
import pytest
from _attack_data import frozen_victim, synthetic_gtsrb
from sklearn.metrics import roc_auc_score

from advbench import detectors
from advbench.datasets.reference import Reference
from advbench.datasets.splits import FitAttack
from advbench.detectors.victim_access import Victim

SETTINGS = {
    "kd-bu": {"passes": 5, "regression_cv": 3},
    "lid-supervised": {"k": 5, "batch_size": 20, "batches": 2, "regression_cv": 3},
    "mahalanobis-supervised": {"magnitudes": [0.0, 0.002, 0.01], "regression_cv": 3},
}


@pytest.fixture(scope="module")
def case():
    data = synthetic_gtsrb(n_train=30, n_test=12)
    model, _, _ = frozen_victim(data)
    rng = np.random.default_rng(1)

    def noisy(images):
        return np.clip(images + rng.choice([-90, 90], images.shape), 0, 255).astype(np.uint8)

    clean = data.train.images[1::2]
    given = {"victim": Victim(model, "tiny"), "reference": Reference(data.train.images, data.train.labels)}
    return data, given, FitAttack("planted", clean, noisy(clean), np.arange(len(clean))), noisy(data.test.images)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_the_planted_attack_is_learned_from_the_training_attack_set(case, name):
    data, given, fit_attack, attacked = case
    normal = data.train.images[::2]
    detector = detectors.create(name, random_state=0, **SETTINGS[name])
    detector.fit(normal, adversarial=fit_attack, **given)
    labels = np.r_[np.zeros(len(data.test.images)), np.ones(len(attacked))]
    scores = np.r_[detector.decision_function(data.test.images), detector.decision_function(attacked)]
    assert roc_auc_score(labels, scores) > 0.9
    assert detector.fit_attack_ == "planted"
    swapped = FitAttack("swapped", fit_attack.adversarial, fit_attack.clean, fit_attack.source_index)
    turned = detectors.create(name, random_state=0, **SETTINGS[name]).fit(normal, adversarial=swapped, **given)
    turned_scores = np.r_[turned.decision_function(data.test.images), turned.decision_function(attacked)]
    assert roc_auc_score(labels, turned_scores) < 0.1


def test_deep_mahalanobis_chooses_its_input_noise_on_the_training_attack_set(case):
    data, given, fit_attack, _ = case
    detector = detectors.create("mahalanobis-supervised", random_state=0, **SETTINGS["mahalanobis-supervised"])
    detector.fit(data.train.images[::2], adversarial=fit_attack, **given)
    assert len(detector.cv_auc_) == 3 and detector.magnitude_ == [0.0, 0.002, 0.01][int(np.argmax(detector.cv_auc_))]


def test_a_supervised_detector_without_a_training_attack_set_is_refused(case):
    data, given, _, _ = case
    with pytest.raises(ValueError, match=r"KDBUDetector is supervised: fit\(X, adversarial=\.\.\.\) needs it"):
        detectors.create("kd-bu").fit(data.train.images, **given)
