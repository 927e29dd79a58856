"""``analysis/towards_mean.py``: contrast and distance to the mean training image, attacks against sources."""

import numpy as np
from paths import run_analysis_script

from advbench.datasets.benchmark_file import AttackSet, BenchmarkContents, write_benchmark


def test_an_attack_that_pulls_images_to_the_mean_is_closer_and_flatter(tmp_path):
    train = np.stack([np.full((1, 2, 2), 0, np.uint8), np.full((1, 2, 2), 200, np.uint8)])  # mean image: 100
    clean = np.array([[[[0, 200], [0, 200]]], [[[50, 150], [50, 150]]]], dtype=np.uint8)
    towards = np.full((2, 1, 2, 2), 100, np.uint8)  # the mean image itself: no contrast, distance 0
    away = np.array([[[[0, 255], [0, 255]]]], dtype=np.uint8)  # source 1 pushed out
    attacks = {
        "towards": AttackSet(towards, np.array([0, 1]), np.ones(2), np.ones(2), np.ones(2), {"attempted": 2}),
        "away": AttackSet(away, np.array([1]), np.ones(1), np.ones(1), np.ones(1), {"attempted": 2}),
    }
    path = tmp_path / "b.h5"
    write_benchmark(path, BenchmarkContents(train, clean, attacks, {"normal_class": 0, "seed": 0}))
    result = run_analysis_script("towards_mean", path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    rows = {
        line.split(" | ")[0][2:]: line.split(" | ")[1:]
        for line in out.splitlines()
        if line.startswith("| t") or line.startswith("| a")
    }
    # towards: contrast 0 against the sources' (100/255 + 50/255) / 2; distance 0 against (200/255 + 100/255) / 2
    assert rows["towards"] == ["2", "0.0000", "0.2941", "0.000", "0.588", "100.0 |"]
    assert rows["away"] == ["1", "0.5000", "0.1961", "1.023", "0.392", "0.0 |"]
