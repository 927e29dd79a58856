"""The package's shape: no import cycle, ``runs`` independent of ``reports``, argument parsing in
``cli``, benchmark names compared only by the benchmark registry, short module docstrings, and
short functions with few arguments."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

import advbench
from advbench.datasets import registry

PACKAGE = Path(advbench.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``name`` imports anywhere in its body (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    modules = _modules()
    out = nx.DiGraph()
    for name, path in modules.items():
        out.add_node(name)
        out.add_edges_from((name, target) for target in _imports(name, path, modules))
    return out


def test_walker_sees_imports_inside_functions(graph):
    assert graph.has_edge("advbench.cli.run", "advbench.reports.report")  # imported in the handler
    assert graph.has_edge("advbench.runs.runner", "advbench.runs.pair")


def test_no_import_cycle(graph):
    assert list(nx.simple_cycles(graph)) == []


def test_runs_import_nothing_from_reports(graph):
    edges = [(a, b) for a, b in graph.edges if a.startswith("advbench.runs") and b.startswith("advbench.reports")]
    assert edges == []


def test_argument_parsing_lives_in_cli():
    users = [
        name
        for name, path in _modules().items()
        if "argparse" in path.read_text(encoding="utf-8") and not name.startswith("advbench.cli")
    ]
    assert users == []


def _compared_names(tree: ast.AST) -> list[str]:
    """Benchmark names compared in ``tree`` (``x == "gtsrb"``, ``x in ("mnist", ...)``)."""
    known = set(registry.names())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                items = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
                found += [item.value for item in items if isinstance(item, ast.Constant) and item.value in known]
    return found


def test_the_check_finds_a_comparison():
    assert _compared_names(ast.parse('if benchmark != "gtsrb" or name in ("mnist", "x"):\n    pass')) == [
        "gtsrb",
        "mnist",
    ]


def test_no_module_outside_the_registry_compares_benchmark_names():
    offenders = {
        name: compared
        for name, path in _modules().items()
        if name != "advbench.datasets.registry"
        and (compared := _compared_names(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}


#: The detector defaults each benchmark sets, and where they come from (``datasets.registry``).
EXPECTED_DEFAULTS = {
    "gtsrb": {},
    "mnist": {
        "ocsvm": {"gcn": False},
        "kde": {"gcn": False},
        "iforest": {"gcn": True, "pca": 0.95},
        "dcae": {"gcn": True},
        "deep-svdd": {"gcn": True},
        "deep-svdd-soft": {"gcn": True},
        "rcae": {"gcn": True},
    },
}
EXPECTED_DEFAULTS["fashion-mnist"] = EXPECTED_DEFAULTS["mnist"]


@pytest.mark.parametrize("name", registry.names())
def test_detector_defaults_per_benchmark_and_their_sources(name):
    benchmark = registry.get(name)
    assert benchmark.detector_defaults == EXPECTED_DEFAULTS[name]
    for detector in benchmark.detector_defaults:
        assert "Deep-SVDD" in benchmark.detector_sources[detector]
    if not benchmark.detector_defaults:
        assert "--gcn 0" in benchmark.detector_sources["*"]


def test_registry_entries_are_consistent():
    from advbench.datasets.gtsrb import NUM_CLASSES

    assert registry.get("gtsrb").num_classes == NUM_CLASSES
    assert registry.get("gtsrb").class_names[14] == "stop"
    for name in registry.names():
        benchmark = registry.get(name)
        assert (
            benchmark.name == name and benchmark.protocols and len(set(benchmark.class_names)) == benchmark.num_classes
        )
        assert benchmark.run_source in (registry.ATTACK_FILE, registry.LABELLED_IMAGES)


#: Module docstrings say what the code does and where its defaults come from; measurements and
#: history live in ``docs/`` and the reports, so none grows this long.
MAX_MODULE_DOCSTRING_LINES = 60


def _docstring_lines(path: Path) -> int:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
    return len(docstring.splitlines()) if docstring else 0


def test_module_docstrings_are_short():
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := _docstring_lines(path)) >= MAX_MODULE_DOCSTRING_LINES
    }
    assert long == {}, f"module docstrings of {MAX_MODULE_DOCSTRING_LINES} lines or more: {long}"


#: How a timing records the machine it was measured on: such figures belong in ``docs/``, the reports or
#: ``benchmarks/``, never in the package's docstrings and comments.
MACHINE_LOAD = re.compile(
    r"shared with (?:other|another) jobs?|cores shared|load average|\(load \d|quiet machine|busy machine"
)


def _machine_loads(text: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), 1) if MACHINE_LOAD.search(line)]


def test_the_load_check_finds_a_timing_with_its_machine():
    assert _machine_loads('x = 1\n"""On 2 CPU cores shared with other jobs, 4.1 s per image."""\n') == [2]
    assert _machine_loads('"""Seconds per image grow with the steps."""\n') == []


def test_no_docstring_or_comment_records_the_load_of_a_machine():
    found = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := _machine_loads(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"timings with the machine's load (move them to docs/ or a report): {found}"


#: Functions stay short and take few arguments: an option that travels far travels in an object.
MAX_FUNCTION_LINES = 80
MAX_PARAMETERS = 7
#: Where more are allowed: constructors (hyperparameters are keyword arguments, as in scikit-learn)
#: and the public API, whose keyword arguments are the run's flags.
MANY_PARAMETERS_ALLOWED = frozenset({"__init__", "advbench/api/evaluation.py:evaluate"})


def _oversized(source: str, where: str) -> list[str]:
    """The functions of ``source`` longer than ``MAX_FUNCTION_LINES`` or taking more than
    ``MAX_PARAMETERS`` arguments (``self`` and ``cls`` not counted), as ``where:name (what)``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        lines = node.end_lineno - node.lineno + 1
        args = node.args
        named = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        count = len(named) - (1 if named and named[0].arg in ("self", "cls") else 0)
        if lines > MAX_FUNCTION_LINES:
            found.append(f"{where}:{node.name} ({lines} lines)")
        if count > MAX_PARAMETERS and not {node.name, f"{where}:{node.name}"} & MANY_PARAMETERS_ALLOWED:
            found.append(f"{where}:{node.name} ({count} parameters)")
    return found


def test_the_size_check_finds_long_functions_and_long_argument_lists():
    body = "\n".join(["    x = 1"] * MAX_FUNCTION_LINES)
    source = f"def long():\n{body}\n\ndef many(a, b, c, d, e, f, g, h):\n    pass\n\nclass A:\n"
    source += (
        "    def __init__(self, a, b, c, d, e, f, g, h):\n        pass\n\n    def fine(self, a, b, c, d, e, f, g):\n"
    )
    source += "        pass\n"
    assert _oversized(source, "m.py") == ["m.py:long (81 lines)", "m.py:many (8 parameters)"]


def test_functions_are_short_and_take_few_arguments():
    found = [
        problem
        for path in sorted(PACKAGE.rglob("*.py"))
        for problem in _oversized(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE.parent).as_posix())
    ]
    assert found == [], f"over {MAX_FUNCTION_LINES} lines or {MAX_PARAMETERS} parameters: {found}"


#: The modules that may name a detector: its registry and the tables of published figures.
NAMING_DETECTORS = {"detectors/registry.py", "reports/paper.py", "reports/published.py"}


def _named_strings(tree: ast.AST, wanted: set[str]) -> list[str]:
    """The string constants of ``tree`` that are in ``wanted``, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in wanted and id(node) not in docstrings
    ]


def test_the_check_finds_a_named_detector():
    source = '"""Uses "dcae" in a docstring."""\nDEFAULT = "dcae"\n'
    assert _named_strings(ast.parse(source), {"dcae", "rcae"}) == ["dcae"]


def test_only_the_detector_registry_names_detectors():
    from advbench.detectors.registry import ENTRIES

    found = {
        str(path.relative_to(PACKAGE)): named
        for path in sorted(PACKAGE.rglob("*.py"))
        if str(path.relative_to(PACKAGE)) not in NAMING_DETECTORS
        and (named := _named_strings(ast.parse(path.read_text(encoding="utf-8")), set(ENTRIES)))
    }
    assert found == {}, f"detector names outside the registry: {found}"
