"""``make benchmark`` picks where GTSRB comes from: the command line, the environment, the shared
copy, else a download."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _generate_line(clone: Path, *args: str, env: dict | None = None) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "ADVBENCH_GTSRB_ROOT"} | (env or {})
    out = subprocess.run(
        ["make", "-n", "benchmark", *args], cwd=clone, env=environment, capture_output=True, text=True, check=True
    ).stdout
    return next(line for line in out.splitlines() if "generate-attacks" in line)


@pytest.fixture
def clone(tmp_path) -> Path:
    folder = tmp_path / "work" / "advbench"
    folder.mkdir(parents=True)
    shutil.copy(REPO / "Makefile", folder)
    (folder / "pyproject.toml").write_text("")
    return folder


def test_bare_clone_downloads(clone):
    assert "generate-attacks --download --out" in _generate_line(clone)


def test_shared_copy_when_present(clone):
    (clone.parent / "shared" / "data" / "gtsrb").mkdir(parents=True)
    assert "--gtsrb-root ../shared/data/gtsrb" in _generate_line(clone)


def test_command_line_and_environment_win(clone):
    (clone.parent / "shared" / "data" / "gtsrb").mkdir(parents=True)
    assert "--gtsrb-root /data/g1" in _generate_line(clone, "GTSRB_ROOT=/data/g1")
    assert "--gtsrb-root /data/g2" in _generate_line(clone, env={"ADVBENCH_GTSRB_ROOT": "/data/g2"})


def test_check_install_tests_the_built_wheel(clone):
    """``make check-install`` builds the sdist and wheel, installs the wheel (not the checkout) and
    runs the smoke test on it, in that order."""
    out = subprocess.run(
        ["make", "-n", "check-install"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    venv = ".venv-install-check"

    def step(text: str) -> int:
        return next(i for i, line in enumerate(out) if text in line)

    assert not [line for line in out if "install" in line and " -e " in line]
    assert (
        step(f"{venv}/bin/python -m build --outdir {venv}/dist .")
        < step("zipfile.ZipFile(whl)")
        < step(f"-m pip install --quiet {venv}/dist/advbench-*.whl")
        < step(f"{venv}/bin/python -m pip check")
        < step(f"{venv}/bin/python .ci/smoke.py")
    )
