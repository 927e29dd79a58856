"""Score variants through ``advbench run`` and ``advbench report``: one fit per pair, every variant's
scores in the pair's scores file and its lines named ``<detector>[<variant>]``, the detector's own
lines as without variants, resume, repair, the folder guard and the tables' row order.

The dual-adversarial detector and its single-autoencoder preset run with tiny networks for one
epoch on the synthetic benchmark file (``run_fixtures``), one seed: a run takes seconds.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from run_fixtures import NOISE

from advbench import detectors
from advbench.cli import main
from advbench.datasets.benchmark_file import read_benchmark
from advbench.detectors.dual_adversarial import DualAdversarialDetector
from advbench.errors import DataError
from advbench.runs import metrics, results
from advbench.score_variants import split_variant, variant_name

TINY = """
[detectors.dual-adversarial]
epochs = 1
batch_size = 32
channels = [4, 8, 8]
latent_dim = 8
grad_batches = 0
[detectors.ablation-single-ae]
epochs = 1
batch_size = 32
channels = [4, 8, 8]
latent_dim = 8
grad_batches = 0
"""
ATTACKS = list(NOISE)
DUAL = ["paper", "g", "dprime-x", "dprime-gx", "latent", "discriminator"]
SINGLE = ["paper", "g"]
#: Every row of the run, in table order: each detector, then its variants.
ROWS = [variant_name("dual-adversarial", v) for v in DUAL] + [variant_name("ablation-single-ae", v) for v in SINGLE]
AUCS = ("auc", "paired_auc", "matched_auc")
#: What may differ between two computations of the same line.
TIMINGS = ("fit_seconds", "score_seconds", "finished")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def argv(data: Path, config: Path, out: Path, detectors_: str = "dual-adversarial,ablation-single-ae") -> list[str]:
    return [
        "run",
        "--data",
        str(data),
        "--detectors",
        detectors_,
        "--seeds",
        "1",
        "--out",
        str(out),
        "--config",
        str(config),
        "--device",
        "cpu",
    ]


def run_counting_fits(arguments: list[str]) -> tuple[int, list[bool]]:
    """``main(arguments)`` with every fit of the dual family counted (``use_dual`` of each fitted detector)."""
    fits = []
    original = DualAdversarialDetector._fit

    def counting(self, X):
        fits.append(self.use_dual)
        return original(self, X)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DualAdversarialDetector, "_fit", counting)
        code = main(arguments)
    return code, fits


@pytest.fixture(scope="module")
def variant_run(data, tiny, tmp_path_factory) -> tuple[Path, list[bool]]:
    """One seed of ``dual-adversarial`` and ``ablation-single-ae``, with the fits it made."""
    out = tmp_path_factory.mktemp("variants") / "run"
    code, fits = run_counting_fits(argv(data, tiny, out))
    assert code == 0
    return out, fits


def lines_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def without(record: dict, keys) -> dict:
    return {key: value for key, value in record.items() if key not in keys}


def markdown_rows(path: Path) -> list[list[str]]:
    rows = [line.strip("|").split("|") for line in path.read_text().splitlines() if line.startswith("| ")]
    return [[cell.strip().strip("*") for cell in row] for row in rows[2:]]  # no header, no alignment row


def copy_of(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def test_one_fit_per_pair_gives_every_variant_its_lines(variant_run):
    out, fits = variant_run
    assert sorted(fits) == [False, True]  # ablation-single-ae once, dual-adversarial once
    assert Counter(record["detector"] for record in lines_of(out)) == dict.fromkeys(ROWS, len(ATTACKS))


def test_variant_lines_carry_the_pair_s_provenance_and_the_aucs_of_their_scores(variant_run, data):
    out, _ = variant_run
    records = lines_of(out)
    bench = read_benchmark(data)
    own = {
        (r["detector"], r["attack"]): r for r in records if r["detector"] in ("dual-adversarial", "ablation-single-ae")
    }
    for record in records:
        detector, variant = split_variant(record["detector"])
        assert without(record, ("detector", *AUCS)) == without(own[detector, record["attack"]], ("detector", *AUCS))
        stored = results.read_scores(results.scores_path(out, record["detector"], 0), variant)
        clean = stored["normal_test"]
        index = bench.attacks[record["attack"]].source_index
        expected = metrics.attack_metrics(clean, clean, stored["attacks"][record["attack"]], index)
        assert {key: record[key] for key in AUCS} == expected, record["detector"]
    path = results.scores_path(out, "dual-adversarial", 0)
    paper, g = results.read_scores(path), results.read_scores(path, "g")
    assert not np.array_equal(paper["normal_test"], g["normal_test"])  # a variant is not a copy of the default
    single = results.scores_path(out, "ablation-single-ae", 0)
    # without D' the paper's score is the generator's own error
    np.testing.assert_array_equal(
        results.read_scores(single)["normal_test"], results.read_scores(single, "g")["normal_test"]
    )


def test_stored_variants_are_those_of_the_detector_fitted_again_with_the_same_seed(variant_run, data):
    out, _ = variant_run
    bench = read_benchmark(data)
    path = results.scores_path(out, "dual-adversarial", 0)
    assert results.stored_variants(path) == DUAL
    (params,) = {json.dumps(r["params"], sort_keys=True) for r in lines_of(out) if r["detector"] == "dual-adversarial"}
    detector = detectors.create("dual-adversarial", **json.loads(params)).fit(bench.normal_train)
    train, test = detector.score_variants(bench.normal_train), detector.score_variants(bench.normal_test)
    attacks = {name: detector.score_variants(bench.attacks[name].images) for name in ATTACKS}
    for variant in DUAL:
        stored = results.read_scores(path, variant)
        np.testing.assert_array_equal(stored["normal_train"], train[variant])
        np.testing.assert_array_equal(stored["normal_test"], test[variant])
        assert set(stored["attacks"]) == set(ATTACKS)
        for name in ATTACKS:
            np.testing.assert_array_equal(stored["attacks"][name], attacks[name][variant])
    with pytest.raises(DataError, match="unreadable scores file"):
        results.read_scores(path, "nope")


def test_own_lines_and_scores_are_those_of_a_run_without_variants(variant_run, data, tiny, tmp_path, monkeypatch):
    out, _ = variant_run
    monkeypatch.setattr(DualAdversarialDetector, "_variant_names", lambda self: ("paper",))
    plain = tmp_path / "plain"
    assert main(argv(data, tiny, plain)) == 0
    text = [json.dumps(without(r, TIMINGS), sort_keys=True) for r in lines_of(plain)]
    own = [
        json.dumps(without(r, TIMINGS), sort_keys=True) for r in lines_of(out) if r["detector"] in ROWS[:1] + ROWS[6:7]
    ]
    assert text == own
    for detector in ("dual-adversarial", "ablation-single-ae"):
        with (
            np.load(results.scores_path(plain, detector, 0)) as alone,
            np.load(results.scores_path(out, detector, 0)) as both,
        ):
            assert [key for key in both.files if not key.startswith("variant:")] == alone.files
            for key in alone.files:
                if key == "history":  # the training losses, and each epoch's time
                    epochs = [[without(row, ("time_s",)) for row in json.loads(str(f[key]))] for f in (both, alone)]
                    assert epochs[0] == epochs[1]
                else:
                    np.testing.assert_array_equal(both[key], alone[key])


def test_tables_list_each_variant_right_after_its_detector(variant_run):
    out, _ = variant_run
    aucs = {(r["detector"], r["attack"]): r["auc"] for r in lines_of(out)}
    for stem in ("auc_table", "paired_table", "matched_table"):
        rows = markdown_rows(out / f"{stem}.md")
        assert [row[0] for row in rows] == ROWS, stem
    header = [cell.strip() for cell in (out / "auc_table.md").read_text().split("\n| ")[1].strip("| \n").split("|")]
    column = header.index("FGSM")
    for row in markdown_rows(out / "auc_table.md"):
        assert row[column] == f"{100 * aucs[row[0], 'fgsm']:.1f}"
    tex = (out / "auc_table.tex").read_text()
    assert tex.index("dual-adversarial[discriminator]") < tex.index("ablation-single-ae &")
    figures = {path.name for path in (out / "figures").iterdir()}
    assert {"scores_dual-adversarial.png", "scores_ablation-single-ae.png"} <= figures
    assert not any("[" in name for name in figures)  # score variants are rows of the tables only


def test_rerun_fits_nothing_and_report_rewrites_the_same_tables(variant_run, data, tiny, tmp_path, capsys):
    folder = copy_of(variant_run[0], tmp_path)
    before = (folder / "results.jsonl").read_bytes()
    tables = {path.name: path.read_bytes() for path in folder.glob("*.md")} | {
        path.name: path.read_bytes() for path in folder.glob("*.tex")
    }
    capsys.readouterr()
    code, fits = run_counting_fits(argv(data, tiny, folder))
    assert code == 0 and fits == [] and "0 computed" in capsys.readouterr().err
    assert (folder / "results.jsonl").read_bytes() == before
    for name in tables:
        (folder / name).unlink()
    assert main(["report", str(folder)]) == 0
    assert {name: (folder / name).read_bytes() for name in tables} == tables


def test_a_pair_s_own_lines_come_last_so_a_cut_write_drops_the_whole_pair(variant_run, tmp_path):
    records = lines_of(variant_run[0])
    dual = [r for r in records if split_variant(r["detector"])[0] == "dual-adversarial"]
    others = [r for r in records if r not in dual]
    assert len(dual) == len(DUAL) * len(ATTACKS)
    assert [r["detector"] for r in dual[-len(ATTACKS) :]] == ["dual-adversarial"] * len(ATTACKS)
    # Cut inside the own lines, just before them, inside the variants; a variant's line lost in the middle.
    cuts = {
        "own": dual[:-1],
        "boundary": dual[: -len(ATTACKS)],
        "variants": dual[:5],
        "hole": dual[:3] + dual[4:],
    }
    for name, kept in cuts.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in others + kept))
        assert results.repair(folder) == others, name
    folder = tmp_path / "whole"
    folder.mkdir()
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in others + dual))
    assert results.repair(folder) == others + dual


def test_recomputing_a_pair_replaces_its_variant_lines(variant_run, data, tiny, tmp_path, capsys):
    folder = copy_of(variant_run[0], tmp_path)
    results.scores_path(folder, "dual-adversarial", 0).unlink()
    capsys.readouterr()
    code, fits = run_counting_fits(argv(data, tiny, folder))
    assert code == 0 and fits == [True] and "1 computed" in capsys.readouterr().err
    records = lines_of(folder)
    assert Counter(record["detector"] for record in records) == dict.fromkeys(ROWS, len(ATTACKS))
    before = {(r["detector"], r["attack"]): without(r, TIMINGS) for r in lines_of(variant_run[0])}
    assert {(r["detector"], r["attack"]): without(r, TIMINGS) for r in records} == before  # same seed, same numbers


def test_a_failed_pair_is_recorded_for_each_variant(data, tiny, tmp_path, capsys, monkeypatch):
    def broken(self, X):
        raise RuntimeError("training diverged")

    monkeypatch.setattr(DualAdversarialDetector, "_fit", broken)
    out = tmp_path / "failed"
    assert main(argv(data, tiny, out, "dual-adversarial")) == 1
    assert "1 pair(s) failed" in capsys.readouterr().err
    records = lines_of(out)
    assert [r["detector"] for r in records[:: len(ATTACKS)]] == ROWS[1:6] + ROWS[:1]
    assert all(r["error"] == "RuntimeError: training diverged" and r["auc"] is None for r in records)
    assert not results.scores_path(out, "dual-adversarial", 0).exists()
    assert [row[1] for row in markdown_rows(out / "auc_table.md")] == ["failed (1/1 seeds)"] * len(DUAL)


def test_other_parameters_are_refused_naming_the_detector(variant_run, data, tmp_path, capsys):
    folder = copy_of(variant_run[0], tmp_path)
    changed = tmp_path / "changed.toml"
    changed.write_text(TINY.replace("epochs = 1", "epochs = 2", 1), encoding="utf-8")
    capsys.readouterr()
    assert main(argv(data, changed, folder)) == 2
    err = capsys.readouterr().err
    assert "holds results of dual-adversarial with other parameters" in err
