"""The detection metrics (``advbench.runs.detection_metrics``): cases of known answer, the
threshold's handling of ties, AUROC as the tables' AUC bit for bit, the bootstrap's weighted form
against the plain one, ``parse``, and a cross-check against torchmetrics on random scores with ties."""

from __future__ import annotations

import numpy as np
import pytest

from advbench.runs import detection_metrics
from advbench.runs.detection_metrics import NAMES, compute, parse, weighted
from advbench.runs.metrics import roc_auc

CLEAN = np.arange(100.0)


def _all(clean, adversarial) -> dict[str, float]:
    return {name: compute(name, np.asarray(clean, float), np.asarray(adversarial, float)) for name in NAMES}


def test_perfect_separation():
    assert _all(CLEAN, CLEAN + 1000) == {
        "auroc": 1.0,
        "aupr-out": 1.0,
        "aupr-in": 1.0,
        "fpr95": 0.0,
        "tpr@5%": 1.0,
        "tpr@1%": 1.0,
        "tpr@0.2%": 1.0,
    }


def test_reversed_scores():
    # every adversarial image below every clean one: adversarial [0], clean [1, 2]
    assert _all([1, 2], [0]) == pytest.approx(
        {
            "auroc": 0.0,
            "aupr-out": 1 / 3,  # the one positive comes last of three
            "aupr-in": (1 / 2 + 2 / 3) / 2,  # negated: the adversarial image first, then the two clean ones
            "fpr95": 1.0,  # flagging the adversarial image flags every clean one
            "tpr@5%": 0.0,
            "tpr@1%": 0.0,
            "tpr@0.2%": 0.0,
        },
        abs=1e-15,
    )


def test_all_ties_flag_together():
    assert _all([3.0] * 4, [3.0] * 2) == pytest.approx(
        {
            "auroc": 0.5,
            "aupr-out": 2 / 6,  # one threshold, which flags all six images
            "aupr-in": 4 / 6,
            "fpr95": 1.0,
            "tpr@5%": 0.0,  # no threshold flags an adversarial image without flagging every clean one
            "tpr@1%": 0.0,
            "tpr@0.2%": 0.0,
        },
        abs=1e-15,
    )


def test_a_single_adversarial_image():
    # 97.5 is below the clean 98 and 99 only
    found = _all(CLEAN, [97.5])
    assert found == pytest.approx(
        {
            "auroc": 0.98,
            "aupr-out": 1 / 3,
            "aupr-in": (98 + 99 / 100 + 100 / 101) / 100,  # the clean 98 and 99 come after it when negated
            "fpr95": 0.02,
            "tpr@5%": 1.0,  # five clean images may be flagged: the threshold is above the sixth highest, 94
            "tpr@1%": 0.0,  # one may: above 98
            "tpr@0.2%": 0.0,  # none may: above 99
        },
        abs=1e-15,
    )


def test_the_threshold_comes_from_the_clean_scores_and_ties_with_it_are_not_split():
    # 20 clean images: at 5% one may be flagged, so an image must score above the second highest, 18;
    # 18 itself ties with a clean image that must stay unflagged, 19 with the one that may be flagged
    assert compute("tpr@5%", np.arange(20.0), np.array([18.0, 19.0, 19.5])) == pytest.approx(2 / 3, abs=1e-15)
    # clean images one higher move the threshold to 19: only 19.5 is above it
    assert compute("tpr@5%", np.arange(20.0) + 1, np.array([18.0, 19.0, 19.5])) == pytest.approx(1 / 3, abs=1e-15)


def test_auroc_is_the_tables_auc_bit_for_bit():
    rng = np.random.default_rng(3)
    for _ in range(20):
        clean, adversarial = rng.normal(size=rng.integers(1, 300)), rng.normal(0.5, size=rng.integers(1, 300))
        assert compute("auroc", clean, adversarial) == roc_auc(clean, adversarial)


def test_weighted_counts_an_image_as_often_as_its_weight():
    """The bootstrap's form: each row of weights gives the figure of the images repeated that often
    (weight 0 leaves an image out), and unit weights the plain figure."""
    rng = np.random.default_rng(5)
    for _ in range(40):
        n, m = rng.integers(1, 30, size=2)
        clean, adversarial = rng.integers(0, 6, n).astype(float), rng.integers(0, 8, m).astype(float)
        clean_weights, adversarial_weights = rng.integers(0, 3, (4, n)), rng.integers(0, 3, (4, m))
        clean_weights[:, 0] = adversarial_weights[:, 0] = 1  # every row draws an image of each set
        found = weighted(clean, adversarial, clean_weights, adversarial_weights)
        unit = weighted(clean, adversarial, np.ones((1, n)), np.ones((1, m)))
        for name in NAMES:
            expected = [
                compute(name, np.repeat(clean, clean_weights[b]), np.repeat(adversarial, adversarial_weights[b]))
                for b in range(4)
            ]
            np.testing.assert_allclose(found[name], expected, rtol=0, atol=1e-12, err_msg=name)
            assert unit[name][0] == pytest.approx(compute(name, clean, adversarial), abs=1e-12), name


def test_weighted_in_blocks_equals_weighted_at_once(monkeypatch):
    rng = np.random.default_rng(6)
    clean, adversarial = rng.normal(size=50), rng.normal(size=30)
    clean_weights, adversarial_weights = rng.integers(0, 3, (7, 50)), rng.integers(1, 3, (7, 30))
    whole = weighted(clean, adversarial, clean_weights, adversarial_weights)
    monkeypatch.setattr(detection_metrics, "BLOCK", 160)  # two replicates per block
    blocks = weighted(clean, adversarial, clean_weights, adversarial_weights, ["fpr95", "aupr-in"])
    assert list(blocks) == ["fpr95", "aupr-in"]
    for name, found in blocks.items():
        np.testing.assert_allclose(found, whole[name], rtol=0, atol=1e-12, err_msg=name)


def test_parse():
    assert parse("all") == list(NAMES)
    assert parse(" fpr95,auroc ,fpr95") == ["fpr95", "auroc"]
    assert parse("tpr@5%,all") == ["tpr@5%", *[name for name in NAMES if name != "tpr@5%"]]
    with pytest.raises(ValueError, match=r"unknown metric\(s\): aupr, fpr90; valid: auroc, aupr-out, .*, or all"):
        parse("auroc,aupr,fpr90")
    with pytest.raises(ValueError, match="no metric given; valid: auroc"):
        parse(" , ")


def test_cross_check_against_torchmetrics():
    """An independent implementation of every figure, on random scores with many ties."""
    torch = pytest.importorskip("torch")
    from torchmetrics.functional.classification import (
        binary_auroc,
        binary_average_precision,
        binary_sensitivity_at_specificity,
        binary_specificity_at_sensitivity,
    )

    rng = np.random.default_rng(11)
    for _ in range(100):
        n, m = rng.integers(1, 80, size=2)
        clean, adversarial = rng.integers(0, 10, n) / 10, rng.integers(2, 11, m) / 10  # in [0, 1]: no sigmoid
        preds = torch.tensor(np.r_[clean, adversarial], dtype=torch.float64)
        target = torch.tensor(np.r_[np.zeros(n), np.ones(m)], dtype=torch.long)
        expected = {
            "auroc": binary_auroc(preds, target).item(),
            "aupr-out": binary_average_precision(preds, target).item(),
            "aupr-in": binary_average_precision(1 - preds, 1 - target).item(),
            "fpr95": 1 - binary_specificity_at_sensitivity(preds, target, min_sensitivity=0.95)[0].item(),
            **{
                name: binary_sensitivity_at_specificity(preds, target, min_specificity=1 - rate)[0].item()
                for name, rate in detection_metrics.FPR.items()
            },
        }
        assert set(expected) == set(NAMES)
        assert _all(clean, adversarial) == pytest.approx(expected, abs=1e-6)
