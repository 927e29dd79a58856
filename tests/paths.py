"""Where the repository and the shared real data are, for tests at any depth of ``tests/``, how a
test loads a script of ``benchmarks/``, which is not a package, and how it runs a script of
``analysis/``."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

#: The repository root.
REPO = Path(__file__).resolve().parents[1]
#: The shared real data beside the clone (absent on machines without it: those tests skip).
SHARED_DATA = REPO.parent / "shared" / "data"


def benchmark_script(name: str) -> ModuleType:
    """The script ``benchmarks/<name>.py``, loaded as a module."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_analysis_script(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``analysis/<name>.py`` with ``args`` in a fresh interpreter; output captured as text."""
    return subprocess.run(
        [sys.executable, str(REPO / "analysis" / f"{name}.py"), *map(str, args)], capture_output=True, text=True
    )
