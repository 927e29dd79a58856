"""analysis/seen_unseen.py: a row per (supervised detector, training attack set), the seen attack marked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "analysis" / "seen_unseen.py"


def _module():
    spec = importlib.util.spec_from_file_location("seen_unseen", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _line(detector, fit, attack, seed, auc, error=None):
    return {"detector": detector, "fit_attack": fit, "attack": attack, "seed": seed, "auc": auc, "error": error}


def test_rows_are_fits_columns_test_attacks_and_the_seen_cell_is_marked():
    module = _module()
    records = [
        _line("kd-bu", "fgsm@eps=0.3", "fgsm@eps=0.3", 0, 0.90),
        _line("kd-bu", "fgsm@eps=0.3", "fgsm@eps=0.3", 1, 0.92),
        _line("kd-bu", "fgsm@eps=0.3", "deepfool", 0, 0.70),
        _line("kd-bu", "fgsm@eps=0.3", "deepfool", 1, 0.60, error="ValueError"),  # failed: left out
        _line("kd-bu", "deepfool", "deepfool", 0, 0.99),
        _line("kd", "deepfool", "deepfool", 0, 0.5),  # not supervised: no row
        {**_line("kd-bu", None, "deepfool", 0, 0.1), "fit_attack": None},  # another protocol: left out
    ]
    lines = module.table(module.cells(records), ["kd-bu"])
    assert lines[0] == "| detector | fitted on | fgsm@eps=0.3 | deepfool |"
    assert lines[2] == "| kd-bu | fgsm@eps=0.3 | 91.0 ± 1.4 (seen) | 70.0 |"
    assert lines[3] == "| kd-bu | deepfool |  | 99.0 (seen) |"
    assert len(lines) == 4
