"""Smoke test of an installed advbench (`make check-install`): run with the Python of the venv the wheel
went into. Everything runs from a temporary folder outside the repository, so the installed package is
imported, not the checkout: `advbench --version` and `list`, the shipped victims (present, sha256 as
indexed), then generate-attacks, run and report on tiny MNIST-format data (ten classes of 4 x 4 grey
patterns upsampled to 28 x 28, plus noise) with a tiny victim. Standard library only: the tests'
helpers are not installed."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `advbench --version` must print the version pyproject.toml sets.
EXPECTED_VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
# The venv's own paths, absolute (the Makefile may name the venv relatively) but not resolved: a
# resolved python would be the base interpreter, outside the venv.
PYTHON = Path(os.path.abspath(sys.executable))
ADVBENCH = PYTHON.parent / "advbench"
PREFIX = Path(os.path.abspath(sys.prefix))
# The official MNIST file names, as `advbench --benchmark mnist --root DIR` reads them.
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
VICTIM_TOML = """\
[victim]
epochs = 6
batch_size = 30
lr = 0.01
width = 4
augment = false
"""


def idx(shape: tuple[int, ...], values: list[int]) -> bytes:
    """A gzip-compressed IDX file of unsigned bytes (magic 2051 for images, 2049 for labels)."""
    magic = 2051 if len(shape) == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in shape)
    return gzip.compress(header + bytes(values))


def write_mnist(folder: Path, n_train: int = 200, n_test: int = 50) -> None:
    """Class c (labels cycle 0-9) is its own random 4 x 4 grey pattern, each cell 7 x 7 pixels, plus noise."""
    rng = random.Random(0)
    patterns = [[rng.randint(30, 225) for _ in range(16)] for _ in range(10)]
    arrays = []
    for n in (n_train, n_test):
        labels = [i % 10 for i in range(n)]
        pixels = [
            min(255, max(0, round(patterns[label][(row // 7) * 4 + col // 7] + rng.gauss(0, 12))))
            for label in labels
            for row in range(28)
            for col in range(28)
        ]
        arrays += [idx((n, 28, 28), pixels), idx((n,), labels)]
    folder.mkdir(parents=True)
    for name, data in zip(FILES, arrays, strict=True):
        (folder / name).write_bytes(data)


def advbench(*args: str, cwd: Path) -> str:
    """Run the installed `advbench` in ``cwd``; fail with its output unless it exits with 0."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADVBENCH_")}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(ADVBENCH), *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"smoke: advbench {' '.join(args)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="advbench-smoke-") as name:
        tmp = Path(name)
        assert not tmp.is_relative_to(REPO), f"{tmp} is inside the repository"
        located = subprocess.run(
            [str(PYTHON), "-c", "import advbench; print(advbench.__file__)"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert Path(located).is_relative_to(PREFIX), f"advbench imported from {located}, not from the venv {PREFIX}"
        version = advbench("--version", cwd=tmp).strip()
        assert version == f"advbench {EXPECTED_VERSION}", f"{version!r}, expected advbench {EXPECTED_VERSION}"
        assert "ocsvm" in advbench("list", cwd=tmp)
        shipped = subprocess.run(
            [
                str(PYTHON),
                "-c",
                "from advbench.attacks import shipped; print(*(v.checked_path().name for v in "
                "shipped.index().values()))",
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert sorted(shipped) == ["fashion-mnist.pt", "gtsrb.pt", "mnist.pt"], shipped

        write_mnist(tmp / "mnist")
        (tmp / "victim.toml").write_text(VICTIM_TOML, encoding="utf-8")
        data, run = tmp / "f.h5", tmp / "run"
        advbench(
            "generate-attacks",
            *("--benchmark", "mnist", "--root", str(tmp / "mnist"), "--normal-class", "all"),
            *("--train-size", "60", "--limit", "20", "--attacks", "fgsm", "--config", str(tmp / "victim.toml")),
            *("--device", "cpu", "--quiet", "--out", str(data)),
            cwd=tmp,
        )
        advbench("run", "--data", str(data), "--detectors", "ocsvm", "--seeds", "1", "--out", str(run), cwd=tmp)
        advbench("report", str(run), cwd=tmp)
        assert (run / "auc_table.md").is_file(), sorted(p.name for p in run.iterdir())
        print(f"smoke: {version} from {located}: version, list, generate-attacks, run and report passed")


if __name__ == "__main__":
    main()
