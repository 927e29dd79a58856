"""``benchmarks/mutation_check.py`` still fits the code: every mutant's snippet occurs exactly once.

A change to ``advbench/`` that rewrites a mutant's snippet would make the check stop before its
first mutant; this test says so when the change is made, not when the check is next run.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_mutant_snippet_occurs_once():
    spec = importlib.util.spec_from_file_location("mutation_check", REPO / "benchmarks" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._misplaced(module.MUTANTS) == []
    assert set(module.EQUIVALENT) <= {mutant.name for mutant in module.MUTANTS}
