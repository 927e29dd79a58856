"""``analysis/within_radius.py``: the share of test images fooled within a radius, per attack and in union."""

import numpy as np
from paths import run_analysis_script

from advbench.datasets.benchmark_file import AttackSet, BenchmarkContents, write_benchmark


def _attack(source_index, l2, linf) -> AttackSet:
    n = len(source_index)
    images = np.zeros((n, 1, 4, 4), dtype=np.uint8)
    return AttackSet(images, np.array(source_index), np.ones(n), np.array(l2), np.array(linf), {"attempted": 10})


def test_each_image_counts_once_and_a_radius_of_levels_keeps_its_boundary(tmp_path):
    clean = np.zeros((10, 1, 4, 4), dtype=np.uint8)
    attacks = {
        # sources 0 and 1 within L2 0.2; source 2 at L-inf 4/255 as a float32 distance, a hair above 4/255
        "a": _attack([0, 1, 2, 3], [0.1, 0.2, 0.5, 0.9], [0.01, 0.02, float(np.float32(4 / 255)), 0.5]),
        # source 1 again (counted once in the union), source 5 new
        "b": _attack([1, 5, 6], [0.15, 0.19, 0.3], [0.5, 0.5, 0.5]),
    }
    path = tmp_path / "b.h5"
    write_benchmark(path, BenchmarkContents(clean, clean, attacks, {"normal_class": 0, "seed": 0}))
    result = run_analysis_script("within_radius", path, "--l2", "0.2", "--linf", "4/255")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    rows = [line for line in out.splitlines() if line.startswith("| L")]
    assert rows == ["| L2 | 0.2 | 20.0 | 20.0 | 30.0 |", "| L-inf | 0.01569 | 20.0 | 0.0 | 20.0 |"]


def test_a_radius_that_is_not_a_number_is_a_one_line_error(tmp_path):
    result = run_analysis_script("within_radius", tmp_path / "x.h5", "--l2", "abc")
    assert result.returncode == 2
    assert "'abc' is not a number or a fraction" in result.stderr
