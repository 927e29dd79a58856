"""Fixtures of the run-folder tests: the synthetic benchmark file and the fast detector configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_fixtures import write_config, write_synthetic_benchmark


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The synthetic benchmark file, once per test module."""
    return write_synthetic_benchmark(tmp_path_factory.mktemp("data") / "bench.h5")


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    """The fast detector configuration, once per test module."""
    return write_config(tmp_path_factory.mktemp("config") / "fast.toml")
