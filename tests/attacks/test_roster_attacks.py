"""JSMA, Square and HopSkipJump, attacks added as registry entries: each fools a tiny victim, its
stored 8-bit images keep to its budget, ``advbench list`` names them and ``generate-attacks`` runs
them end to end.

The victim here is ``TINY_VICTIM`` trained on the six classes of the synthetic set only. JSMA aims
at a class drawn from the others, as Feinman et al. run it; the 43-class tiny victim of the other
tests has learned 6 of its 43 outputs, so most targets are classes it never predicts (JSMA fooled 2
of its 6 stop signs at ``gamma`` 0.1, 3 at 0.3), while GTSRB's and MNIST's victims know every class.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from _attack_data import CLASSES, TINY_TOML, TINY_VICTIM, synthetic_gtsrb, write_official_layout

from advbench import cli
from advbench.attacks import DEFAULT_ATTACKS
from advbench.attacks.quantize import keep_adversarial
from advbench.attacks.registry import ATTACKS
from advbench.attacks.runners import resolve_params, run_attack
from advbench.attacks.variants import parse_attacks, resolve_variants
from advbench.attacks.victim import predict, to_float, train_victim
from advbench.datasets.benchmark_file import read_benchmark
from advbench.datasets.splits import ImageSet
from advbench.errors import AdvbenchError

pytestmark = pytest.mark.usefixtures("one_thread")

NEEDS_TORCHATTACKS = pytest.mark.skipif(
    importlib.util.find_spec("torchattacks") is None, reason="torchattacks (an optional extra) is not installed"
)

#: Shortened settings. The synthetic classes are far apart, so the budgets are larger than on GTSRB
#: (as FGSM's 0.3 in ``TINY_PARAMS``): JSMA fools 3 of the 6 stop signs at ``gamma`` 0.1 and all 6 at
#: 0.2; Square all 6 at 64/255 within 200 queries and 2 at 32/255.
SHORT = {
    "jsma": {"gamma": 0.2},
    "square": {"eps": 64 / 255, "n_queries": 200},
    "hopskipjump": {"steps": 10, "init_directions": 100, "batch_size": 8},
    "hopskipjump-linf": {"steps": 10, "init_directions": 100, "batch_size": 8, "norm": "linf"},
}
#: "Most" of the 6 stop signs: all 6 were fooled when the settings were chosen; one may be lost to
#: another platform's float rounding, no more.
MOST = 5


@pytest.fixture(scope="module")
def victim():
    """The six-class tiny victim (frozen) and the test stop signs with their labels (0..5)."""
    data = synthetic_gtsrb()
    index = {label: i for i, label in enumerate(CLASSES)}
    remap = np.vectorize(index.__getitem__)
    model, _ = train_victim(
        ImageSet(data.train.images, remap(data.train.labels)), TINY_VICTIM, num_classes=len(CLASSES)
    )
    for param in model.parameters():
        param.requires_grad_(False)
    stop = data.test.labels == 14
    return model, data.test.images[stop], remap(data.test.labels[stop])


def _attack(victim, name: str, values: dict, seed: int = 0):
    """(raw output, outcome) of attack ``name`` with ``values`` over its defaults."""
    model, clean, labels = victim
    params = resolve_params(name, values)
    adversarial = run_attack(name, model, to_float(clean), torch.from_numpy(labels), params, seed=seed)
    return adversarial, keep_adversarial(model, clean, adversarial, labels)


@pytest.mark.parametrize(
    "case", [pytest.param("jsma", marks=NEEDS_TORCHATTACKS), pytest.param("square", marks=NEEDS_TORCHATTACKS)]
)
def test_torchattacks_entries_fool_the_victim_within_their_budget(victim, case):
    model, clean, labels = victim
    adversarial, outcome = _attack(victim, case, SHORT[case])
    assert outcome.kept >= MOST, outcome
    changed = outcome.images.astype(int) - clean[outcome.rows].astype(int)
    if case == "square":
        assert np.abs(changed).max() <= 64  # eps 64/255, in 8-bit levels after rounding
        # every pixel is clean +- eps or clipped: on the 8-bit grid already, so rounding changes nothing
        torch.testing.assert_close(adversarial, torch.round(adversarial * 255) / 255, atol=1e-6, rtol=0)
    else:
        # L0: at most gamma of the features (pixel channels) changed, each set to 1.0 (theta 1)
        share = (changed != 0).reshape(len(changed), -1).mean(axis=1)
        assert (share > 0).all() and (share <= 0.2).all()
        assert (outcome.images[changed != 0] == 255).all()
    assert (predict(model, torch.from_numpy(outcome.images).float() / 255).numpy() != labels[outcome.rows]).all()


@pytest.mark.parametrize("case", ["hopskipjump", "hopskipjump-linf"])
def test_hopskipjump_returns_8_bit_images_that_fool_the_victim(victim, case):
    """A minimal-perturbation attack with no budget: with ``past_rounding`` its raw outputs are 8-bit
    images, and every one it moved fools the victim as the stored file holds it."""
    model, clean, labels = victim
    adversarial, outcome = _attack(victim, "hopskipjump", SHORT[case])
    assert torch.equal(adversarial, torch.round(adversarial * 255) / 255)
    assert outcome.kept >= MOST and outcome.fooled_before_rounding == outcome.kept, outcome
    moved = (adversarial != to_float(clean)).flatten(1).any(dim=1).numpy()
    assert (predict(model, adversarial).numpy() != labels)[moved].all()
    assert outcome.images.dtype == np.uint8 and (outcome.l2 > 0).all()


def test_hopskipjump_without_past_rounding_loses_images_to_rounding(victim):
    """The float results sit on the boundary; rounding undid 2 of the 6 when this was written."""
    _, outcome = _attack(victim, "hopskipjump", {**SHORT["hopskipjump"], "past_rounding": False})
    assert outcome.fooled_before_rounding > outcome.kept


@NEEDS_TORCHATTACKS
def test_jsma_changes_at_most_gamma_of_the_features_and_ignores_the_batch_size(victim):
    """With a budget too small to fool the victim every image spends all of it: 4 pairs at gamma
    0.003 on 3 x 32 x 32 (floor(9.2 / 2); torchattacks' own rounding up would change 10 features)."""
    runs = [_attack(victim, "jsma", {"gamma": 0.003, "batch_size": size}) for size in (6, 1)]
    (adversarial, outcome), (again, _) = runs
    clean = to_float(victim[1])
    changed = (adversarial != clean).flatten(1).sum(dim=1)
    assert outcome.kept == 0 and changed.max() <= 9 and changed.min() >= 7  # 8, less where a pair hit a 1.0
    assert torch.equal(adversarial, again)  # one image at a time, each with its own target


@NEEDS_TORCHATTACKS
def test_jsma_saliency_map_picks_the_pair_torchattacks_picks():
    import torchattacks

    from advbench.attacks.backends import jsma_class

    features = 3 * 32 * 32
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(features, 43))
    ours, theirs = jsma_class()(net, theta=1.0, gamma=0.1), torchattacks.JSMA(net)
    generator = torch.Generator().manual_seed(0)
    for case in range(5):
        jacobian = torch.randn(43, features, generator=generator)
        if case == 1:
            jacobian = torch.randint(-2, 3, (43, features), generator=generator).float()  # many ties
        if case == 2:
            jacobian = jacobian.abs()  # every pair raises the other classes: none passes, pair (0, 0)
        domain = (torch.rand(features, generator=generator) < 0.9).float()
        picks = [
            tuple(int(i) for i in attack.saliency_map(jacobian, torch.tensor([5]), True, domain.clone(), features))
            for attack in (ours, theirs)
        ]
        assert picks[0] == picks[1], case


@NEEDS_TORCHATTACKS
def test_square_follows_the_run_seed(victim):
    first, second, other = (_attack(victim, "square", SHORT["square"], seed)[0] for seed in (0, 0, 1))
    assert torch.equal(first, second) and not torch.equal(first, other)


def test_listed_in_registry_order_not_defaults_and_checked(capsys):
    assert list(ATTACKS)[-3:] == ["jsma", "square", "hopskipjump"]
    assert cli.main(["list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert {"jsma", "square", "hopskipjump"} <= set(listed)
    assert not {"jsma", "square", "hopskipjump"} & set(DEFAULT_ATTACKS)
    assert [ATTACKS[name].budget for name in ("jsma", "square", "hopskipjump")] == ["gamma", "eps", "steps"]
    resolved = resolve_variants(parse_attacks("square@eps=16/255,square,jsma@gamma=0.05,hopskipjump@norm=linf"), {})
    assert list(resolved) == ["jsma@gamma=0.05", "square", "square@eps=16/255", "hopskipjump@norm=linf"]
    with pytest.raises(AdvbenchError, match="square@eps=8: an L-inf budget above 1.*did you mean eps=8/255"):
        resolve_variants(parse_attacks("square@eps=8"), {})
    for name, values, message in [
        ("jsma", {"gamma": 0}, "jsma.gamma: must be in"),
        ("jsma", {"theta": -1.0}, "jsma.theta: must be positive"),
        ("square", {"backend": "foolbox"}, "square.backend: expected one of torchattacks"),
        ("hopskipjump", {"norm": "l1"}, "hopskipjump.norm: expected one of l2, linf"),
    ]:
        with pytest.raises(ValueError, match=message):
            resolve_params(name, values)


@NEEDS_TORCHATTACKS
def test_generate_attacks_runs_them_end_to_end(tmp_path):
    root = write_official_layout(tmp_path / "gtsrb", synthetic_gtsrb())
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_TOML)
    out = tmp_path / "out" / "bench.h5"
    argv = ["generate-attacks", "--gtsrb-root", str(root), "--data-dir", str(tmp_path / "data"), "--out", str(out)]
    argv += ["--config", str(config), "--device", "cpu", "--quiet", "--attacks", "square@eps=64/255,jsma,hopskipjump"]
    for setting in ("square.n_queries=200", "jsma.gamma=0.01", "hopskipjump.steps=5"):
        argv += ["--set", setting]
    assert cli.main(argv) == 0
    bench = read_benchmark(out)
    assert list(bench.attacks) == [
        "jsma@gamma=0.01",
        "square@eps=64/255,n_queries=200",
        "hopskipjump@steps=5",
    ]
    for name, attack in bench.attacks.items():
        attrs = attack.attrs
        assert attrs["attempted"] == len(bench.normal_test) and attrs["kept"] == len(attack), name
        assert attrs["library"] == ("foolbox" if name.startswith("hopskipjump") else "torchattacks"), name
        assert attack.images.dtype == np.uint8
    square = bench.attacks["square@eps=64/255,n_queries=200"]
    assert len(square) >= MOST and square.linf.max() <= 64 / 255 + 1e-12
    assert len(bench.attacks["hopskipjump@steps=5"]) >= MOST
