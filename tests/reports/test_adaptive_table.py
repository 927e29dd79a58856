"""The adaptive-attack tables from result lines and attack-set records whose every number is known."""

from __future__ import annotations

from advbench.attacks import ADAPTIVE_FAMILY
from advbench.attacks.adaptive import set_name
from advbench.reports import adaptive
from advbench.reports.view import FolderView

PLAIN = "pgd@eps=16/255"
SETS = {seed: set_name(PLAIN, "dcae", seed) for seed in (0, 1)}
#: Plain PGD kept 8 of 10 images; the sets made against dcae with seeds 0 and 1 kept 5 and 7 of 10.
ATTACK_SETS = {PLAIN: {"family": "pgd", "count": 8, "attempted": 10}} | {
    name: {
        "family": ADAPTIVE_FAMILY,
        "count": kept,
        "attempted": 10,
        "adaptive": {"detector": "dcae", "plain": PLAIN, "detector_seed": seed},
    }
    for (seed, name), kept in zip(SETS.items(), (5, 7), strict=True)
}
#: (detector, seed, attack set) -> AUC: dcae drops from 0.9 / 0.8 on plain PGD to 0.6 / 0.6 on its own sets.
AUCS = {
    ("dcae", 0, PLAIN): 0.9,
    ("dcae", 1, PLAIN): 0.8,
    ("dcae", 0, SETS[0]): 0.6,
    ("dcae", 1, SETS[1]): 0.6,
    ("ocsvm", 0, SETS[0]): 0.5,
    ("ocsvm", 1, SETS[1]): 0.7,
}


def test_adaptive_table_holds_the_change_and_the_success_rates(tmp_path):
    records = [
        {"detector": detector, "seed": seed, "attack": attack, "auc": auc, "error": None}
        for (detector, seed, attack), auc in AUCS.items()
    ]
    attacks = [PLAIN, *SETS.values()]
    view = FolderView(tmp_path, records, ["dcae", "ocsvm"], attacks, [0, 1], None, "Where.")
    written = adaptive.render(view, ATTACK_SETS)
    assert [path.name for path in written] == ["adaptive_table.md", "adaptive_table.tex"]
    table = (tmp_path / "adaptive_table.md").read_text()
    # plain 85.0 ± 7.1, adaptive 60.0 ± 0.0, change -30 and -20 points, success 80 % plain, 50 and 70 % adaptive
    assert "| dcae | pgd@eps=16/255 | 0, 1 | 85.0 ± 7.1 | 60.0 ± 0.0 | -25.0 ± 7.1 | 80.0 | 60.0 ± 14.1 |" in table
    assert "| dcae | 60.0 ± 0.0 |" in table and "| ocsvm | 60.0 ± 14.1 |" in table  # white-box, then transfer
