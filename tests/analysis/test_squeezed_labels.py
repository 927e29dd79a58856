"""``analysis/squeezed_labels.py``: the share of clean test images whose victim label each default squeezer changes."""

import numpy as np
import torch
from _attack_data import TINY_VICTIM
from paths import run_analysis_script

from advbench.attacks.victim import Architecture, VictimNet, predict, to_float, victim_record
from advbench.datasets.benchmark_file import BenchmarkContents, write_benchmark
from advbench.detectors.feature_squeezing import DEFAULT_SQUEEZERS, squeezer


def test_one_row_per_default_squeezer_with_the_share_of_changed_labels(tmp_path):
    torch.manual_seed(0)
    model = VictimNet.build(TINY_VICTIM, Architecture.of((1, 28, 28), 10)).eval()
    images = np.random.default_rng(0).integers(0, 256, (20, 1, 28, 28)).astype(np.uint8)
    path = tmp_path / "grey.h5"
    victim = victim_record(model, TINY_VICTIM, [], 0.5)
    write_benchmark(path, BenchmarkContents(images, images, {}, {"benchmark": "mnist"}, victim=victim))
    result = run_analysis_script("squeezed_labels", path)
    assert result.returncode == 0, result.stderr
    rows = [line.split(" | ") for line in result.stdout.splitlines()[2:]]
    assert [row[3] for row in rows] == list(DEFAULT_SQUEEZERS[1])
    clean = to_float(images)
    for row in rows:
        squeezed = torch.from_numpy(squeezer(row[3])(clean.numpy())).to(clean.dtype)
        expected = 100 * (predict(model, squeezed) != predict(model, clean)).float().mean().item()
        assert row[4] == f"{expected:.1f} |"
