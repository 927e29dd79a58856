"""End-to-end tests of ``advbench run``: artifacts, table numbers, resume, failures, --jobs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from paths import REPO
from run_fixtures import NOISE, mann_whitney_auc, write_config, write_synthetic_benchmark

from advbench import detectors
from advbench.cli import main
from advbench.detectors import GROUPS
from advbench.runs import intervals, results
from advbench.runs.config import config_hash
from advbench.score_variants import split_variant, variant_name

ROOT = REPO
ATTACKS = list(NOISE)
ALL = [*GROUPS["all"], *[name for name in GROUPS["ablation"] if name not in GROUPS["all"]]]
#: The rows of a run of ``ALL`` in table order: each detector, then its score variants (the dual family's).
ROWS = [variant_name(name, variant) for name in ALL for variant in detectors.create(name).variant_names()]
REQUIRED_KEYS = {
    "detector",
    "seed",
    "attack",
    "auc",
    "n_normal",
    "n_adversarial",
    "fit_seconds",
    "score_seconds",
    "params",
    "data_sha256",
    "versions",
    "device",
    "threads",
    "profile",
    "error",
}


def lines_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def by_key(records: list[dict]) -> dict:
    return {(r["detector"], r["seed"], r["attack"]): r for r in records}


@pytest.fixture(scope="module")
def full_run(data, config, tmp_path_factory) -> Path:
    """``run --detectors all,ablation --seeds 2`` once, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("runs") / "full"
    code = main(
        [
            "run",
            "--data",
            str(data),
            "--detectors",
            "all,ablation",
            "--seeds",
            "2",
            "--out",
            str(out),
            "--config",
            str(config),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    return out


def test_run_writes_every_artifact(full_run, data):
    records = lines_of(full_run)
    assert len(ROWS) == len(ALL) + 5 + 1 + 2 + 5  # the variants of dual-adversarial and of the ablation presets
    assert len(records) == len(ROWS) * 2 * len(ATTACKS)
    assert {r["detector"] for r in records} == set(ROWS)
    assert len(by_key(records)) == len(records)  # no duplicates
    for record in records:
        assert set(record) >= REQUIRED_KEYS
        assert record["error"] is None and 0.0 <= record["auc"] <= 1.0
        assert record["n_normal"] == 30 and record["n_adversarial"] == 20
        assert record["params"]["random_state"] == record["seed"]
        assert record["device"] == "cpu" and record["threads"] == 1 and record["profile"] == "default"
        assert {"python", "torch", "scikit-learn", "numpy", "advbench", "torchattacks", "foolbox"} <= set(
            record["versions"]
        )
    for name in ("auc_table", "paper_comparison", "ablation_table"):
        assert (full_run / f"{name}.md").read_text().count("\n| ") >= 4
        assert (full_run / f"{name}.tex").is_file()
    for name in ALL:
        for seed in (0, 1):
            stored = results.read_scores(results.scores_path(full_run, name, seed))
            assert stored["normal_test"].shape == (30,) and set(stored["attacks"]) == set(ATTACKS)
    figures = {path.name for path in (full_run / "figures").iterdir()}
    expected = {f"roc_{a}.png" for a in ATTACKS} | {f"scores_{d}.png" for d in ALL}
    expected |= {"most_anomalous_dual-adversarial.png", "training_loss.png"}
    assert expected <= figures
    for name in expected:
        assert (full_run / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (info,) = json.loads((full_run / "run.json").read_text())["runs"]
    assert info["status"] == "finished" and info["config"]["seeds"] == [0, 1]
    assert info["command_line"][:2] == ["advbench", "run"] and info["pairs"]["failed"] == 0
    assert set(info["detector_params"]) == set(ALL) and info["environment"]["versions"]["torch"]
    # the data file's own sha256, and each detector's hash recomputed from the parameters in its result lines
    sha256 = hashlib.sha256(data.read_bytes()).hexdigest()
    own = [r for r in records if r["detector"] in ALL]
    hashes = {r["detector"]: config_hash(sha256, r["detector"], r["params"]) for r in own}
    assert {r["data_sha256"] for r in records} == {sha256} and len(set(hashes.values())) == len(ALL)
    assert {(r["detector"], r["config_hash"]) for r in own} == set(hashes.items())
    # a score variant's lines carry the hash of the detector whose fit they come from
    assert all(r["config_hash"] == hashes[split_variant(r["detector"])[0]] for r in records)
    assert info["data_sha256"] == sha256 and info["config_hashes"] == hashes
    assert info["settings"] == {
        "data_sha256": sha256,
        "config_hash": hashes,
        "device": "cpu",
        "threads": 1,
        "profile": "default",
        "protocol": "official",
    }


def test_auc_scores_match_stored_scores(full_run):
    record = by_key(lines_of(full_run))["dcae", 1, "fgsm"]
    stored = results.read_scores(results.scores_path(full_run, "dcae", 1))
    assert record["auc"] == pytest.approx(mann_whitney_auc(stored["normal_test"], stored["attacks"]["fgsm"]), abs=1e-12)


def _markdown_cells(path: Path) -> dict[tuple[str, str], str]:
    rows = [line.strip("|").split("|") for line in path.read_text().splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in rows[0]]
    return {(row[0].strip(), header[i]): cell.strip() for row in rows[1:] for i, cell in enumerate(row) if i}


def test_markdown_numbers_equal_results(full_run):
    records = lines_of(full_run)
    cells = _markdown_cells(full_run / "auc_table.md")
    labels = {"boundary": "Boundary", "fgsm": "FGSM", "bim": "BIM", "deepfool": "DeepFool"}
    best = {}
    assert [row for row, label in cells if label == "FGSM"][1:] == ROWS  # after the alignment row
    for detector in ROWS:
        for attack in ATTACKS:
            aucs = [100 * r["auc"] for r in records if r["detector"] == detector and r["attack"] == attack]
            text = cells[detector, labels[attack]]
            mean, std = map(float, re.fullmatch(r"\**(-?\d+\.\d) ± (\d+\.\d)\**", text).groups())
            # one decimal, rounded: within half a unit of the last digit (plus float slack)
            assert abs(mean - np.mean(aucs)) <= 0.05 + 1e-9 and abs(std - np.std(aucs, ddof=1)) <= 0.05 + 1e-9
            best.setdefault(attack, []).append((mean, text.startswith("**")))
    folder_entries = json.loads((full_run / "entries.json").read_text())["entries"]
    entries = {entry["detector"]: entry["metrics"]["auc"] for entry in folder_entries}
    for attack, column in best.items():
        top = max(mean for mean, _ in column)
        assert all(bold for mean, bold in column if mean == top)  # the best mean is always bold
        # bold exactly when the Holm-adjusted paired test against the best is not significant (the best: no test)
        p_values = [entries[detector][attack]["p_holm"] for detector in ROWS]
        assert p_values.count(None) == 1
        assert [bold for _, bold in column] == [p is None or p >= intervals.ALPHA for p in p_values]


def test_latex_tables_are_well_formed_booktabs(full_run):
    for name in ("auc_table", "paper_comparison", "ablation_table"):
        tex = (full_run / f"{name}.tex").read_text()
        assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
        assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 1
        body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
        columns = re.search(r"\\begin\{tabular\}\{(\w+)\}", tex).group(1)
        for row in body:
            assert row.endswith(r"\\") and row.count(" & ") == len(columns) - 1
        assert "±" not in tex and "**" not in tex
    assert r"\textbf{" in (full_run / "auc_table.tex").read_text()


def test_paper_comparison_holds_paper_numbers(full_run):
    text = (full_run / "paper_comparison.md").read_text()
    assert "Latent Regularized Generative Dual Adversarial Network" in text
    assert "| dual-adversarial | Ours |" in text and "90.5 ± 1.6" in text and "18.6 ± 0.1" in text
    ablation = (full_run / "ablation_table.md").read_text()
    assert "0.194" in ablation and "0.921" in ablation and "mean AUC over the attacks" in ablation


def tables_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for pattern in ("*_table.*", "paper_comparison.*") for p in folder.glob(pattern)}


def test_rerun_skips_finished_pairs_and_reproduces_tables(full_run, data, config, capsys):
    """The rerun renders the folder again (once: ``report`` reproducing them is checked on a copy below)."""
    before = (full_run / "results.jsonl").read_bytes()
    tables = tables_of(full_run)
    for name in tables:
        (full_run / name).unlink()
    code = main(
        [
            "run",
            "--data",
            str(data),
            "--detectors",
            "all,ablation",
            "--seeds",
            "2",
            "--out",
            str(full_run),
            "--config",
            str(config),
            "--device",
            "cpu",
        ]
    )
    assert code == 0 and "0 computed" in capsys.readouterr().err
    assert (full_run / "results.jsonl").read_bytes() == before
    assert tables and tables_of(full_run) == tables


def test_report_needs_a_run_folder_and_skips_image_figure_without_data(full_run, tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "results.jsonl" in capsys.readouterr().err
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("results.jsonl", "run.json"):
        (copy / name).write_bytes((full_run / name).read_bytes())
    for path in (full_run / "scores").rglob("*.npz"):
        target = copy / path.relative_to(full_run)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert main(["report", str(copy), "--data", str(tmp_path / "gone.h5")]) == 0
    assert "skipping the most-anomalous-images figure" in capsys.readouterr().err
    assert (copy / "figures" / "training_loss.png").is_file()
    assert not (copy / "figures" / "most_anomalous_dual-adversarial.png").exists()
    # report reproduces every table from results and scores, but for the paired and matched AUCs'
    # intervals and tests, which need the data file that pairs each adversarial image with its source
    assert {k: v for k, v in tables_of(copy).items() if not k.startswith(("paired", "matched"))} == {
        k: v for k, v in tables_of(full_run).items() if not k.startswith(("paired", "matched"))
    }
    assert "data file that pairs each adversarial image" in (copy / "paired_table.md").read_text()
    # the pairing.json that the run wrote is enough in the data file's place: every table, intervals and all
    (copy / "pairing.json").write_bytes((full_run / "pairing.json").read_bytes())
    assert main(["report", str(copy), "--data", str(tmp_path / "gone.h5")]) == 0
    assert tables_of(copy) == tables_of(full_run)
    (copy / "pairing.json").unlink()
    assert main(["report", str(copy)]) == 0  # the data file run.json names: every table, intervals and all
    assert tables_of(copy) == tables_of(full_run)


def test_report_refuses_another_data_file_for_the_image_figure(full_run, data, tmp_path, capsys):
    other = write_synthetic_benchmark(tmp_path / "other.h5", seed=1)
    before = tables_of(full_run)
    assert main(["report", str(full_run), "--data", str(other)]) == 2
    theirs, ours = (hashlib.sha256(path.read_bytes()).hexdigest()[:12] for path in (other, data))
    assert capsys.readouterr().err == (
        f"advbench report: error: --data {other}: sha256 {theirs} differs from the run's data ({ours})\n"
    )
    assert tables_of(full_run) == before


def test_jobs_2_equals_jobs_1(full_run, data, config, tmp_path):
    out = tmp_path / "jobs2"
    code = main(
        [
            "run",
            "--data",
            str(data),
            "--detectors",
            "iforest,dcae,dual-adversarial",
            "--seeds",
            "2",
            "--out",
            str(out),
            "--config",
            str(config),
            "--jobs",
            "2",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    reference = by_key(lines_of(full_run))
    records = by_key(lines_of(out))
    assert len(records) == (1 + 1 + 6) * 2 * 4  # dual-adversarial with its five score variants
    for key, record in records.items():
        assert record["auc"] == reference[key]["auc"], key
    for name in ("dcae", "dual-adversarial"):
        a = results.read_scores(results.scores_path(out, name, 1))
        b = results.read_scores(results.scores_path(full_run, name, 1))
        np.testing.assert_array_equal(a["normal_test"], b["normal_test"])


def test_failing_detector_is_recorded_and_exit_is_nonzero(data, tmp_path, capsys):
    config = tmp_path / "fails.toml"  # valid parameters that fail in training: 60 images cannot make 1000 folds
    config.write_text("[detectors.kde]\ncv = 1000\n")
    out = tmp_path / "failing"
    argv = [
        "run",
        "--data",
        str(data),
        "--detectors",
        "kde,iforest",
        "--seeds",
        "2",
        "--out",
        str(out),
        "--config",
        str(config),
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "2 pair(s) failed" in err and "kde seed 0" in err and "cv=1000" in err
    records = lines_of(out)
    failed = [r for r in records if r["detector"] == "kde"]
    assert len(failed) == 8 and all(r["auc"] is None and r["error"] for r in failed)
    assert all(r["error"] is None for r in records if r["detector"] == "iforest")
    assert not results.scores_path(out, "kde", 0).exists()
    cells = _markdown_cells(out / "auc_table.md")
    assert cells["kde", "FGSM"] == "failed (2/2 seeds)"
    (entry,) = json.loads((out / "run.json").read_text())["runs"]
    assert entry["pairs"] == {"total": 4, "reused": 0, "computed": 4, "failed": 2}
    assert [(f["detector"], f["seed"]) for f in entry["failures"]] == [("kde", 0), ("kde", 1)]
    assert all("cv=1000" in f["error"] for f in entry["failures"])
    # Failed pairs are computed again on the next run, without duplicating lines.
    assert main(argv) == 1
    assert "2 computed" in capsys.readouterr().err
    assert len(by_key(lines_of(out))) == len(lines_of(out)) == 16


def test_bad_input_fails_at_once_with_one_line(data, config, tmp_path, capsys):
    out = tmp_path / "bad"
    assert main(["run", "--data", str(data), "--detectors", "all,nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "ocsvm" in err and "dual-adversarial" in err and err.count("\n") == 1
    assert not out.exists()
    assert main(["run", "--data", str(tmp_path / "missing.h5"), "--out", str(out)]) == 2
    assert "missing.h5" in capsys.readouterr().err
    assert main(["run", "--data", str(data), "--out", str(out), "--seeds", "0"]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert main(["run", "--data", str(data), "--out", str(out), "--attacks", "cw"]) == 2
    assert "cw" in capsys.readouterr().err
    bad_param = write_config(tmp_path / "p.toml", "[detectors.ocsvm]\nnot_a_param = 1\n")
    assert main(["run", "--data", str(data), "--out", str(out), "--config", str(bad_param)]) == 2
    assert "not_a_param" in capsys.readouterr().err
    assert not out.exists()


def test_other_data_or_config_is_refused_unless_force(data, config, tmp_path, capsys):
    out = tmp_path / "guarded"
    argv = ["run", "--detectors", "ocsvm,dcae", "--seeds", "1", "--out", str(out), "--config", str(config)]
    assert main([*argv, "--data", str(data)]) == 0
    other = write_synthetic_benchmark(tmp_path / "other.h5", seed=1)
    assert main([*argv, "--data", str(other)]) == 2
    assert "another data file" in capsys.readouterr().err
    text = config.read_text().replace("[detectors.dcae]\nepochs = 1", "[detectors.dcae]\nepochs = 2")
    (tmp_path / "changed.toml").write_text(text)
    argv_changed = [*argv[:-1], str(tmp_path / "changed.toml"), "--data", str(data)]
    assert main(argv_changed) == 2
    assert "dcae with other parameters" in capsys.readouterr().err
    # Adding a detector with the same data and configuration is allowed.
    assert (
        main(
            [
                "run",
                "--detectors",
                "iforest",
                "--seeds",
                "1",
                "--out",
                str(out),
                "--config",
                str(config),
                "--data",
                str(data),
            ]
        )
        == 0
    )
    assert {r["detector"] for r in lines_of(out)} == {"ocsvm", "dcae", "iforest"}
    # --force starts over: only the new run's results remain.
    assert main([*argv_changed, "--force"]) == 0
    assert {r["detector"] for r in lines_of(out)} == {"ocsvm", "dcae"}
    assert all(r["params"]["epochs"] == 2 for r in lines_of(out) if r["detector"] == "dcae")


def test_repair_drops_partial_line_and_incomplete_pair(full_run, tmp_path):
    out = tmp_path / "partial"
    out.mkdir()
    records = lines_of(full_run)
    complete = [r for r in records if r["detector"] == "ocsvm"]
    torn = [r for r in records if (r["detector"], r["seed"]) == ("kde", 0)]
    text = "".join(json.dumps(r) + "\n" for r in complete)
    text += json.dumps(torn[0]) + "\n" + json.dumps(torn[1])[:40]  # a pair cut short by a kill, mid-line
    (out / "results.jsonl").write_text(text)
    kept = results.repair(out)
    assert by_key(kept) == by_key(complete)
    assert lines_of(out) == kept and (out / "results.jsonl").read_text().endswith("\n")


def test_resume_after_killed_run(full_run, data, config, tmp_path):
    """kill -9 the run (main process and its workers) after the first pair lands; rerun; compare."""
    out = tmp_path / "killed"
    argv = [
        sys.executable,
        "-m",
        "advbench",
        "run",
        "--data",
        str(data),
        "--detectors",
        "dual-adversarial,dcae",
        "--seeds",
        "2",
        "--out",
        str(out),
        "--config",
        str(config),
        "--jobs",
        "2",
        "--device",
        "cpu",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            path = out / "results.jsonl"
            if path.is_file() and path.stat().st_size > 0:
                break
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert results.read_results(out), "no pair had landed before the kill"
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = lines_of(out)
    assert len(records) == len(by_key(records)) == (6 + 1) * 2 * 4  # dual-adversarial with its five score variants
    assert not list(out.rglob("*.tmp"))
    reference = by_key(lines_of(full_run))
    for key, record in by_key(records).items():
        assert record["auc"] == reference[key]["auc"], key
