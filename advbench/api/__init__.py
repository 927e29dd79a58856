"""The Python API: ``load`` a benchmark file, ``evaluate`` any detector on it as ``advbench run`` does.

``advbench.load`` and ``advbench.evaluate`` are these (the package imports this module on first use,
so ``import advbench`` stays light). The manual's page on the Python API documents every argument.
"""

from advbench.api.evaluation import evaluate
from advbench.api.loading import BenchmarkFile, load

__all__ = ["BenchmarkFile", "evaluate", "load"]
