"""Deep detectors trained on the 780 real GTSRB training stop signs (skipped when ../shared is absent).

Checks the properties that the fidelity fixes promise on the real data, from training images
only: RCAE's sparse part stays sparse, and every active term of the dual-adversarial loss (eq. 1
of the paper) sends a measurable share of G's gradient with the paper's weights. The crops are
cached in the repository's ``datasets/cache/`` as ``advbench`` caches them.
"""

from __future__ import annotations

import numpy as np
import pytest
from paths import REPO, SHARED_DATA

from advbench import detectors

REAL_ROOT = SHARED_DATA / "gtsrb"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REAL_ROOT.is_dir(), reason="real GTSRB copy (../shared/data/gtsrb) not present"),
]
#: Epochs of the dual detector in the gradient test: enough for D and D' to start acting.
DUAL_EPOCHS = 6
TERMS = ("irec", "adv", "zrec", "dual", "e")


@pytest.fixture(scope="module")
def stop_signs() -> np.ndarray:
    from advbench.datasets.gtsrb import load_gtsrb, normal_split

    return normal_split(load_gtsrb(REAL_ROOT, cache_dir=REPO / "datasets" / "cache"), 14).train


def _shares(history: list[dict]) -> dict[str, float]:
    """Each term's gradient norm into G over the total, averaged over the epochs (NaN when off)."""
    return {term: float(np.mean([row[f"grad_{term}"] / row["grad_total"] for row in history])) for term in TERMS}


def test_rcae_sparse_part_is_sparse_on_real_stop_signs(stop_signs):
    rcae = detectors.create("rcae", random_state=0).fit(stop_signs)
    fractions = rcae.history_["sparse_fraction"]
    assert len(fractions) == 3
    assert all(0.0 < f < 0.10 for f in fractions), fractions
    assert rcae.lam_ > 0


@pytest.fixture(scope="module")
def dual_history(stop_signs) -> list[dict]:
    """Seed 0 on one CPU thread, as ``advbench run`` trains it, so the shares are those of the published seed 0.

    The switched-off MI regularizer (``ablation-dual-ae-d``: no gradient from the term, a positive
    total) is data-independent; ``test_dual_adversarial.py`` checks it on small images."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        detector = detectors.create("dual-adversarial", random_state=0, device="cpu", epochs=DUAL_EPOCHS)
        return detector.fit(stop_signs).history_
    finally:
        torch.set_num_threads(threads)


def test_every_term_of_eq1_gets_a_measurable_share_of_gs_gradient(dual_history):
    shares = _shares(dual_history)
    assert all(share >= 0.01 for share in shares.values()), shares
