"""``benchmarks/mutation_check.py`` still fits the code: every mutant's snippet occurs exactly once.

A change to ``advbench/`` that rewrites a mutant's snippet would make the check stop before its
first mutant; this test says so when the change is made, not when the check is next run.
"""

from __future__ import annotations

from paths import benchmark_script


def test_every_mutant_snippet_occurs_once():
    module = benchmark_script("mutation_check")
    assert module._misplaced(module.MUTANTS) == []
    assert set(module.EQUIVALENT) <= {mutant.name for mutant in module.MUTANTS}
