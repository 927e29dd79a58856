"""``--protocol heldout-train``, the paired and matched AUCs, and the budget report, on data built
so that every number is known in advance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from run_fixtures import mann_whitney_auc

from advbench.cli import main
from advbench.datasets.benchmark_file import AttackSet, BenchmarkContents, write_benchmark
from advbench.datasets.protocols import HELDOUT_TEST, gtsrb_split
from advbench.runs import metrics
from advbench.runs.results import read_results, read_scores, scores_path

N_TEST = 20
#: Clean test image i is uniformly grey at level 20 + 10 i; the attacks move it by +5 or -5 levels.
LEVELS = 20 + 10 * np.arange(N_TEST)
BRIGHTER = np.arange(0, N_TEST, 2)  # the "attack" succeeded on every other image
DARKER = np.arange(1, N_TEST, 2)


def _grey(levels) -> np.ndarray:
    return np.repeat(np.asarray(levels, dtype=np.uint8), 3 * 8 * 8).reshape(-1, 3, 8, 8)


def _attack(rows: np.ndarray, shift: int, family: str, eps: float) -> AttackSet:
    images = _grey(LEVELS[rows] + shift)
    return AttackSet(
        images,
        rows,
        np.ones(len(rows)),
        np.full(len(rows), 1.0),
        np.full(len(rows), abs(shift) / 255),
        {"family": family, "params": {"eps": eps}, "attempted": N_TEST, "succeeded": len(rows)},
    )


@pytest.fixture(scope="module")
def known(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    train = _grey(rng.integers(0, 256, size=HELDOUT_TEST + 30))
    attacks = {
        "fgsm@eps=4/255": _attack(DARKER, -5, "fgsm", 4 / 255),
        "fgsm@eps=8/255": _attack(BRIGHTER, 5, "fgsm", 8 / 255),
    }
    path = tmp_path_factory.mktemp("known") / "known.h5"
    write_benchmark(path, BenchmarkContents(train, _grey(LEVELS), attacks, {"normal_class": 14}))
    return path


def _records(out: Path) -> dict[str, dict]:
    return {record["attack"]: record for record in read_results(out)}


def test_metrics_by_hand():
    assert metrics.paired_auc(np.array([2.0, 1.0, 3.0]), np.array([1.0, 1.0, 4.0])) == pytest.approx(0.5)  # 1 + 1/2 + 0
    assert metrics.roc_auc(np.array([0.0, 1.0]), np.array([0.5])) == pytest.approx(0.5)
    # positives 2 and 4 against negatives 1, 2, 3: (1 + 1/2 + 0) + 3 = 4.5 of 6 pairs
    negatives, positives = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0])
    assert metrics.roc_auc(negatives, positives) == mann_whitney_auc(negatives, positives) == pytest.approx(0.75)


def test_paired_and_matched_auc_have_the_known_values(known, tmp_path, mean_intensity):
    out = tmp_path / "run"
    assert main(["run", "--data", str(known), "--out", str(out), "--detectors", "mean-intensity", "--seeds", "1"]) == 0
    lines = _records(out)
    brighter, darker = lines["fgsm@eps=8/255"], lines["fgsm@eps=4/255"]
    # each brighter image outscores its own source; each darker one scores below it
    assert brighter["paired_auc"] == 1.0 and darker["paired_auc"] == 0.0
    # brighter image of source k (level s_k + 5) beats source j exactly when j <= k: over its own
    # ten sources that is 55 of 100 pairs; over all twenty clean images 10 x 20 - 45 - ... counted here
    n = len(BRIGHTER)
    assert brighter["matched_auc"] == pytest.approx((n + 1) / (2 * n))
    wins = sum(int((LEVELS[k] + 5 > LEVELS).sum()) for k in BRIGHTER)
    assert brighter["auc"] == pytest.approx(wins / (n * N_TEST))
    assert darker["matched_auc"] == pytest.approx((n - 1) / (2 * n))  # source k - 5 beats own sources j < k
    assert brighter["protocol"] == "official" and brighter["n_normal"] == N_TEST


def test_heldout_train_split_is_decided_by_the_seed_and_disjoint(known):
    from advbench.datasets.benchmark_file import read_benchmark

    bench = read_benchmark(known)
    first, again, other = (gtsrb_split(bench, "heldout-train", seed, list(bench.attacks)) for seed in (3, 3, 4))
    assert len(first.test) == HELDOUT_TEST and len(first.train) == len(bench.normal_train) - HELDOUT_TEST
    rows, train_rows = first.rows["test_rows"], first.rows["train_rows"]
    np.testing.assert_array_equal(rows, again.rows["test_rows"])
    assert not np.array_equal(rows, other.rows["test_rows"])
    assert not set(rows) & set(train_rows)
    assert set(rows) | set(train_rows) == set(range(len(bench.normal_train)))
    np.testing.assert_array_equal(first.test, bench.normal_train[rows])
    np.testing.assert_array_equal(first.anomalies["clean-test"].images, bench.normal_test)


def test_heldout_train_run_records_the_split_and_the_clean_test_column(known, tmp_path, mean_intensity, capsys):
    out = tmp_path / "heldout"
    argv = ["run", "--data", str(known), "--out", str(out), "--detectors", "mean-intensity", "--seeds", "2"]
    assert main([*argv, "--protocol", "heldout-train"]) == 0
    records = read_results(out)
    assert {r["attack"] for r in records} == {"fgsm@eps=4/255", "fgsm@eps=8/255", "clean-test"}
    assert all(r["n_normal"] == HELDOUT_TEST and r["protocol"] == "heldout-train" for r in records)
    for seed in (0, 1):
        stored = read_scores(scores_path(out, "mean-intensity", seed))
        assert not set(stored["test_rows"]) & set(stored["train_rows"]) and len(stored["test_rows"]) == HELDOUT_TEST
        clean_test = next(r for r in records if r["seed"] == seed and r["attack"] == "clean-test")
        assert clean_test["auc"] == pytest.approx(
            mann_whitney_auc(stored["normal_test"], stored["attacks"]["clean-test"]), abs=1e-12
        )
        assert clean_test["paired_auc"] is None
        brighter = next(r for r in records if r["seed"] == seed and r["attack"] == "fgsm@eps=8/255")
        assert brighter["paired_auc"] == 1.0  # the sources are the official test images under either protocol
        # the unpaired AUC: the held-out training images are the negatives, not the official test images
        held_out = mann_whitney_auc(stored["normal_test"], stored["attacks"]["fgsm@eps=8/255"])
        assert brighter["auc"] == pytest.approx(held_out, abs=1e-12)
    assert (
        "clean-test" in (out / "auc_table.md").read_text() and "clean-test" not in (out / "paired_table.md").read_text()
    )
    # two protocols never mix in one folder
    capsys.readouterr()
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"advbench run: error: --out {out}: holds results computed with --protocol heldout-train (mean-intensity), "
        "not official; use another --out, or --force to discard them and start over\n"
    )


def test_budget_table_and_figure_follow_the_variants(known, tmp_path, mean_intensity):
    out = tmp_path / "budget"
    assert main(["run", "--data", str(known), "--out", str(out), "--detectors", "mean-intensity", "--seeds", "2"]) == 0
    table = (out / "budget_table.md").read_text()
    assert "| Detector | eps 4/255 | eps 8/255 |" in table and "paired AUC" in table and "matched AUC" in table
    assert "| mean-intensity | 0.0 ± 0.0 | 100.0 ± 0.0 |" in table  # the paired AUC row
    assert (out / "figures" / "budget_fgsm.png").read_bytes()[:4] == b"\x89PNG"
    # a family with a budget curve gets ROC curves for its largest budget only (no variant at the defaults)
    assert [path.name for path in (out / "figures").glob("roc_*.png")] == ["roc_fgsm@eps=8-255.png"]
    assert (out / "budget_table.tex").read_text().count(r"\begin{table}") == 4  # three AUCs and the attack sets
    info = json.loads((out / "run.json").read_text())["runs"][0]
    assert info["attack_sets"]["fgsm@eps=4/255"]["family"] == "fgsm"


def test_one_variant_of_a_family_makes_no_budget_table(known, tmp_path, mean_intensity):
    out = tmp_path / "one"
    argv = ["run", "--data", str(known), "--out", str(out), "--detectors", "mean-intensity", "--seeds", "1"]
    assert main([*argv, "--attacks", "fgsm@eps=8/255"]) == 0
    assert not (out / "budget_table.md").exists() and not (out / "budget_table.tex").exists()
    assert [path.name for path in (out / "figures").glob("*fgsm*.png")] == ["roc_fgsm@eps=8-255.png"]


def test_lines_without_paired_aucs_get_them_from_their_scores(known, tmp_path, mean_intensity):
    out = tmp_path / "legacy"
    argv = ["run", "--data", str(known), "--out", str(out), "--detectors", "mean-intensity", "--seeds", "1"]
    assert main(argv) == 0
    path = out / "results.jsonl"
    fresh = path.read_text().splitlines()
    stripped = [json.loads(line) for line in fresh]
    for record in stripped:  # as an older version wrote them
        for key in ("paired_auc", "matched_auc", "protocol"):
            record.pop(key)
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in stripped))
    assert main(argv) == 0
    assert json.loads((out / "run.json").read_text())["runs"][-1]["pairs"]["computed"] == 0
    assert [json.loads(line) for line in path.read_text().splitlines()] == [json.loads(line) for line in fresh]


def test_old_lines_whose_auc_disagrees_with_their_scores_are_refused(known, tmp_path, mean_intensity, capsys):
    out = tmp_path / "inconsistent"
    argv = ["run", "--data", str(known), "--out", str(out), "--detectors", "mean-intensity", "--seeds", "1"]
    assert main(argv) == 0
    path = out / "results.jsonl"
    stripped = [json.loads(line) for line in path.read_text().splitlines()]
    for record in stripped:  # as an older version wrote them, one AUC not from these scores
        for key in ("paired_auc", "matched_auc", "protocol"):
            record.pop(key)
        if record["attack"] == "fgsm@eps=8/255":
            true_auc, record["auc"] = record["auc"], 0.25
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in stripped))
    before = path.read_bytes()
    capsys.readouterr()
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"advbench run: error: {scores_path(out, 'mean-intensity', 0)}: its scores give AUC {true_auc:.6f} for "
        "fgsm@eps=8/255, the results line 0.250000; the folder is inconsistent\n"
    )
    assert path.read_bytes() == before  # nothing upgraded, nothing computed
    assert len(json.loads((out / "run.json").read_text())["runs"]) == 1


def test_run_attacks_accepts_variant_names_with_several_parameters(tmp_path):
    from advbench.runs.config import resolve_attacks

    available = ["fgsm", "bim@alpha=2/255,eps=32/255", "bim@eps=32/255"]
    assert resolve_attacks("bim@alpha=2/255,eps=32/255,fgsm", available, tmp_path) == [
        "fgsm",
        "bim@alpha=2/255,eps=32/255",
    ]
