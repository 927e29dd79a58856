"""Checks of the parameters that the classic detectors share: their feature map and seed.

``PixelFeatures`` takes ``gcn`` (a bool), ``scaling`` (``"minmax"``, ``"standard"`` or None) and
``pca`` (None or false, no PCA: TOML has no null; a number of components >= 1; or a fraction of the
variance in (0, 1)); the seed
``random_state`` is None or an integer >= 0. Each check raises ValueError naming the parameter.
"""

from __future__ import annotations

from numbers import Integral, Real

from advbench.detectors.checks import check_choice, check_random_state
from advbench.detectors.preprocessing import SCALINGS


def check_pca(value) -> None:
    """None or False (no PCA), an integer >= 1 (components kept) or a float in (0, 1) (fraction of the
    variance kept)."""
    if value is None or value is False:
        return
    if isinstance(value, bool) or not isinstance(value, Real):
        ok = False
    elif isinstance(value, Integral):
        ok = value >= 1
    else:
        ok = 0.0 < value < 1.0
    if not ok:
        raise ValueError(
            f"pca must be None or false, a number of components >= 1 or a variance fraction in (0, 1); got {value!r}"
        )


def check_feature_params(detector) -> None:
    """Check ``gcn``, ``scaling``, ``pca`` and ``random_state`` of a classic detector."""
    if not isinstance(detector.gcn, bool):
        raise ValueError(f"gcn must be true or false; got {detector.gcn!r}")
    check_choice("scaling", detector.scaling, SCALINGS)
    check_pca(detector.pca)
    check_random_state(detector.random_state)
