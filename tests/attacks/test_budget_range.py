"""L-inf budgets and step sizes above 1 (images are in [0, 1]) are refused, naming the variant or
setting and suggesting ``k/255``, wherever they are given, before any data is read."""

from __future__ import annotations

import pytest

from advbench import cli
from advbench.attacks.variants import parse_attacks, parse_sweep, resolve_variants
from advbench.errors import AdvbenchError


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ("fgsm@eps=8", "fgsm@eps=8: an L-inf budget above 1 on images in [0, 1]; did you mean eps=8/255?"),
        ("fgsm@eps=2.5", "fgsm@eps=2.5: an L-inf budget above 1 on images in [0, 1]; did you mean eps=2.5/255?"),
        ("bim@eps=16/255,alpha=2", "bim@alpha=2: an L-inf step size above 1 on images in [0, 1]; did you mean"),
        ("pgd@eps=1.5", "pgd@eps=1.5: an L-inf budget above 1"),
        ("pgd@eps=300", "pgd@eps=300: an L-inf budget above 1 on images in [0, 1]"),  # no k/255 is below 1
    ],
)
def test_linf_distances_above_1_are_refused(variants, message):
    with pytest.raises(AdvbenchError) as caught:
        resolve_variants(parse_attacks(variants), {})
    assert str(caught.value).startswith(message)


def test_the_bound_is_1_and_l2_distances_have_none():
    with pytest.raises(AdvbenchError, match="fgsm@eps=1.0001: an L-inf budget above 1"):
        resolve_variants(parse_attacks("fgsm@eps=1.0001"), {})
    names = list(resolve_variants(parse_attacks("fgsm@eps=1,pgd@norm=l2,eps=3,alpha=1.5,deepfool@overshoot=2"), {}))
    assert names == ["fgsm@eps=1.0", "deepfool@overshoot=2.0", "pgd@alpha=1.5,eps=3.0,norm=l2"]
    given = r"--config/--set bim.alpha=4: .*did you mean bim.alpha=0.0156863 \(4/255\)"
    with pytest.raises(AdvbenchError, match=given):
        resolve_variants(parse_sweep("bim.eps=8/255,16/255"), {"bim": {"alpha": 4}})


def _generate(tmp_path, *extra: str) -> list[str]:
    return [
        "generate-attacks",
        "--benchmark",
        "mnist",
        "--root",
        str(tmp_path / "absent"),
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out.h5"),
        "--device",
        "cpu",
        *extra,
    ]


def test_every_way_of_giving_a_budget_is_checked_before_the_data_is_read(tmp_path, capsys):
    config = tmp_path / "budgets.toml"
    config.write_text("[bim]\nalpha = 2\n")
    eps_8 = "fgsm@eps=8: an L-inf budget above 1 on images in [0, 1]; did you mean eps=8/255?"
    cases = [
        (["--attacks", "fgsm@eps=8"], eps_8),
        (["--attacks", "fgsm", "--sweep", "fgsm.eps=4/255,8"], eps_8),
        (
            ["--attacks", "pgd", "--set", "pgd.eps=16"],
            "--config/--set pgd.eps=16: an L-inf budget above 1 on images in [0, 1]; "
            "did you mean pgd.eps=0.0627451 (16/255)?",
        ),
        (
            ["--attacks", "bim", "--config", str(config)],
            "--config/--set bim.alpha=2: an L-inf step size above 1 on images in [0, 1]; "
            "did you mean bim.alpha=0.00784314 (2/255)?",
        ),
        (
            ["--attacks", "fgsm@eps=0"],
            "attack settings (--attacks/--sweep/--config/--set): attack fgsm: fgsm.eps: must be positive, got 0.0",
        ),
    ]
    for extra, message in cases:
        assert cli.main(_generate(tmp_path, *extra)) == 2, extra
        assert capsys.readouterr().err == f"advbench generate-attacks: error: {message}\n", extra
    assert not (tmp_path / "out.h5").exists()
