"""Attack variants: parsing ``--attacks``/``--sweep``, canonical names, derived defaults."""

from __future__ import annotations

import pytest

from advbench.attacks.runners import resolve_params
from advbench.attacks.variants import format_value, parse_attacks, parse_sweep, resolve_variants, variant_name
from advbench.errors import AdvbenchError


def test_parse_attacks_with_parameters_and_fractions():
    variants = parse_attacks("fgsm@eps=4/255, bim@eps=32/255,alpha=4/255,deepfool,boundary@steps=1000")
    assert [(v.family, v.values) for v in variants] == [
        ("fgsm", {"eps": 4 / 255}),
        ("bim", {"eps": 32 / 255, "alpha": 4 / 255}),
        ("deepfool", {}),
        ("boundary", {"steps": 1000}),
    ]
    assert parse_attacks("DeepFool@overshoot=0.5,quantized_decision=false")[0].values == {
        "overshoot": 0.5,
        "quantized_decision": False,
    }


def test_names_are_canonical():
    resolved = resolve_variants(
        parse_attacks("fgsm@eps=16/255,fgsm@eps=12/255,fgsm@eps=0.0627450980392157,fgsm@eps=0.1"), {}
    )
    # 12/255 is the default (named "fgsm"); 0.0627... is 16/255 written as a decimal (one set); sorted by budget
    assert list(resolved) == ["fgsm", "fgsm@eps=16/255", "fgsm@eps=0.1"]
    assert format_value(0.5) == "0.5" and format_value(1000) == "1000" and format_value(True) == "true"
    assert (
        variant_name("boundary", resolve_params("boundary", {"steps": 1000, "batch_size": 10}))
        == "boundary@batch_size=10,steps=1000"
    )
    assert variant_name("fgsm", resolve_params("fgsm", {"batch_size": 10})) == "fgsm"  # does not change the images


def test_bim_step_size_follows_the_budget_unless_given():
    assert resolve_params("bim")["alpha"] == 2 / 255  # torchattacks' default at the default budget
    assert resolve_params("bim", {"eps": 32 / 255})["alpha"] == pytest.approx(8 / 255)
    resolved = resolve_variants(parse_attacks("bim@eps=32/255,bim@eps=32/255,alpha=2/255"), {})
    assert list(resolved) == ["bim@eps=32/255", "bim@alpha=2/255,eps=32/255"]


def test_settings_from_config_name_the_variant_too():
    resolved = resolve_variants(
        parse_sweep("fgsm.eps=2/255,4/255") + parse_attacks("deepfool"), {"deepfool": {"steps": 5}}
    )
    assert list(resolved) == ["fgsm@eps=2/255", "fgsm@eps=4/255", "deepfool@steps=5"]
    assert resolved["fgsm@eps=4/255"] == ("fgsm", resolve_params("fgsm", {"eps": 4 / 255}))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fgsm@eps=", "expected KEY=VALUE"),
        ("fgsm@eps=4/", "'4/' is not a number"),
        ("fgsm@eps=nan", "not a finite number"),
        ("", "no attack given"),
        ("nope", "unknown attack 'nope'"),
    ],
)
def test_bad_attack_lists_are_one_line_errors(text, message):
    with pytest.raises(AdvbenchError, match=message):
        parse_attacks(text)


def test_bad_values_are_named():
    with pytest.raises(ValueError, match="bim.steps: must be positive"):
        resolve_variants(parse_attacks("bim@steps=0"), {})
    with pytest.raises(ValueError, match="deepfool.overshoot: must be at least 0"):
        resolve_variants(parse_attacks("deepfool@overshoot=-0.1"), {})


def test_pgd_names_its_batch_size_and_takes_words():
    # PGD's random start is drawn per batch, so its batch size changes the images and is named
    names = list(resolve_variants(parse_attacks("pgd@eps=16/255,pgd@eps=16/255,batch_size=8,pgd@norm=l2,eps=0.5"), {}))
    assert names == ["pgd@eps=16/255", "pgd@batch_size=8,eps=16/255", "pgd@eps=0.5,norm=l2"]  # by budget
    assert resolve_params("pgd")["alpha"] == 2 / 255 and resolve_params("pgd")["random_start"] is True
    assert variant_name("fgsm", resolve_params("fgsm", {"backend": "torchattacks"})) == "fgsm@backend=torchattacks"
    with pytest.raises(ValueError, match="pgd.norm: expected one of linf, l2, got 'l1'"):
        resolve_params("pgd", {"norm": "l1"})
