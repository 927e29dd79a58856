"""Names of score variants (``advbench.score_variants``): ``<detector>[<variant>]`` and back."""

from __future__ import annotations

import pytest

from advbench.score_variants import DEFAULT_VARIANT, split_variant, variant_name, without_variants


@pytest.mark.parametrize(
    ("detector", "variant", "name"),
    [
        ("dual-adversarial", "g", "dual-adversarial[g]"),
        ("dual-adversarial", "dprime-gx", "dual-adversarial[dprime-gx]"),
        ("pyod:ECOD", "v2", "pyod:ECOD[v2]"),
        ("ocsvm", DEFAULT_VARIANT, "ocsvm"),
    ],
)
def test_variant_names_round_trip(detector, variant, name):
    assert variant_name(detector, variant) == name
    assert split_variant(name) == (detector, variant)


@pytest.mark.parametrize("name", ["ocsvm", "odd[", "odd]", "[g]", "odd[G]", "odd[a--b]", "odd[]", "pyod:ECOD"])
def test_names_that_are_no_variant_are_a_detector(name):
    assert split_variant(name) == (name, DEFAULT_VARIANT)


def test_without_variants_keeps_the_detectors_in_order():
    names = ["dcae", "dual-adversarial", "dual-adversarial[g]", "my-plugin", "dual-adversarial[latent]"]
    assert without_variants(names) == ["dcae", "dual-adversarial", "my-plugin"]
