"""The tables of an ``evaluate-adaptive`` folder: the verdict rule, and a flagged cell never shown as a plain number."""

from __future__ import annotations

import json

import pytest

from advbench.reports.adaptive_verdicts import render, verdict


def _cell(detector: str, seed: int, dara: float, flags=(), eps: float = 8 / 255) -> dict:
    figures = {"fooled": 262, "auroc": 0.543, "tpr@5%": 0.2, "dara@5%": dara, "dara@1%": dara}
    worst = figures | {"dara@5% interval": [dara - 0.05, dara + 0.05], "dara@1% interval": [0.0, 1.0]}
    checks = {"gradient": {"flagged": "gradient" in flags, "share": 0.0, "limit": 0.1}}
    checks["unbounded"] = {"flagged": "unbounded" in flags, "dara@5%": 0.3 if "unbounded" in flags else 0.0}
    return {
        "detector": detector,
        "seed": seed,
        "eps": eps,
        "norm": "linf",
        "attacked": 270,
        "figures": {"plain": figures | {"auroc": 0.998}, "worst": worst},
        "members": {"feature-space": {"fooled": 262, "auroc": 0.543, "dara@5%": dara, "seconds": 12.0}},
        "wins": {"feature-space": 262},
        "checks": checks,
        "transfer": {},
        "flags": list(flags),
    }


@pytest.mark.parametrize(
    ("values", "flags", "expected"),
    [
        ([0.6, 0.5, 0.9], (), "holds"),
        ([0.2, 0.1, 0.49], (), "falls"),
        ([0.2, 0.6, 0.3], (), "unknown"),
        ([0.9, 0.9, 0.9], ("unbounded",), "unknown"),
    ],
)
def test_the_verdict_rule(values, flags, expected):
    cells = [_cell("kd", seed, value, flags if seed == 1 else ()) for seed, value in enumerate(values)]
    assert verdict(cells) == expected


def test_a_flagged_cell_shows_its_flag_beside_every_figure(tmp_path):
    cells = [_cell("victim-mahalanobis", 0, 0.237), _cell("feature-squeezing", 0, 0.9, ("unbounded",))]
    (tmp_path / "cells.jsonl").write_text("".join(json.dumps(cell) + "\n" for cell in cells))
    text = render(tmp_path)
    rows = [line for line in text.splitlines() if line.startswith("| feature-squeezing |")]
    assert rows and all("flagged" in row for row in rows[:2])  # the summary row and the cell row
    summary = next(line for line in text.splitlines() if line.startswith("| victim-mahalanobis | linf 8/255 |"))
    assert "| 99.8 | - | 54.3 | 23.7 (23.7-23.7) | feature-space 262 | falls |" in summary and "flagged" not in summary
    assert "| feature-squeezing | 0 | linf 8/255 | 0.0% | not run | 30.0% **flagged** |" in text
