"""What a run folder guarantees: errors before work, one writer, one set of settings, a run history."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_detectors import REGISTRY_ENTRY
from paths import REPO
from plugin_package import install_plugin
from run_fixtures import write_synthetic_benchmark

from advbench import detectors
from advbench.cli import main
from advbench.datasets import registry
from advbench.runs import devices, guard, history, sources
from advbench.runs.results import RUN_JSON, scores_path

ROOT = REPO


def run_argv(data: Path, out: Path, *more: str) -> list[str]:
    return ["run", "--data", str(data), "--out", str(out), *more]


@pytest.fixture(scope="module")
def classic_run(data, tmp_path_factory) -> Path:
    """Two classic detectors over two seeds (seconds), copied by the tests that change a folder."""
    out = tmp_path_factory.mktemp("runs") / "classic"
    assert main(run_argv(data, out, "--detectors", "ocsvm,iforest", "--seeds", "2")) == 0
    return out


def copy_of(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# 1. Everything that changes the numbers is part of the folder guard.


def test_other_threads_device_or_profile_are_refused(data, config, tmp_path, capsys, monkeypatch):
    out = tmp_path / "guarded"
    argv = run_argv(
        data, out, "--detectors", "iforest,dcae", "--seeds", "1", "--config", str(config), "--device", "cpu"
    )
    assert main(argv) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert main([*argv, "--threads", "2"]) == 2
    assert "--threads 1" in one_error_line(capsys)
    assert main([*argv, "--profile", "reference"]) == 2
    assert "--profile default" in one_error_line(capsys)
    # a detector that takes the profile: still refused for the profile, not for "other parameters"
    deep = run_argv(data, tmp_path / "deep", "--detectors", "dcae", "--seeds", "1", "--config", str(config))
    assert main(deep) == 0
    capsys.readouterr()
    assert main([*deep, "--profile", "reference"]) == 2
    assert "computed with --profile default (dcae), not reference" in one_error_line(capsys)
    monkeypatch.setattr(devices, "resolve_device", lambda spec: "cuda")  # as on a machine with a GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert main([*argv[:-1], "cuda"]) == 2
    assert "--device cpu (dcae), not cuda" in one_error_line(capsys)
    assert snapshot(out) == before
    # The classic detectors run on the CPU whatever --device says: adding one is not refused.
    monkeypatch.setattr(devices, "configure_process", lambda threads, device: None)  # keep this process's torch as is
    assert main(run_argv(data, out, "--detectors", "ocsvm", "--seeds", "1", "--device", "cuda")) == 0


def test_auto_device_is_compared_as_resolved(data, config, tmp_path, capsys, monkeypatch):
    out = tmp_path / "auto"
    argv = run_argv(data, out, "--detectors", "dcae", "--seeds", "1", "--config", str(config))
    assert main([*argv, "--device", "cpu"]) == 0
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main([*argv, "--device", "auto"]) == 0
    assert "0 computed" in capsys.readouterr().err


def test_another_cuda_device_is_the_same_kind():
    """Lines computed on cuda:0 and a run on cuda:1 use the same kernels: nothing to refuse; the CPU is another kind."""
    line = {
        "detector": "dcae",
        "data_sha256": "d",
        "config_hash": "h",
        "device": "cuda:0",
        "params": {"device": "cuda:0"},
        "threads": 1,
        "profile": "default",
        "protocol": "official",
    }
    assert guard.differences(line, guard.run_settings("d", {"dcae": "h"}, "cuda:1", 1, "default")) == []
    assert guard.differences(line, guard.run_settings("d", {"dcae": "h"}, "cpu", 1, "default")) == ["device"]


def test_lines_written_before_profiles_count_as_default(classic_run, data, tmp_path, capsys):
    out = copy_of(classic_run, tmp_path)
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for line in lines:
        del line["profile"]
    (out / "results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    argv = run_argv(data, out, "--detectors", "ocsvm,iforest", "--seeds", "2")
    assert main(argv) == 0 and "0 computed" in capsys.readouterr().err
    assert main([*argv, "--profile", "reference"]) == 2
    assert "--profile default" in one_error_line(capsys)


def test_profile_is_passed_to_detectors_that_take_it_and_recorded(data, tmp_path, monkeypatch):
    monkeypatch.setitem(detectors._REGISTRY, "profiled", REGISTRY_ENTRY)
    config = tmp_path / "profile.toml"
    config.write_text('[run]\nprofile = "reference"\nseeds = 1\n')
    out = tmp_path / "profiled"
    assert main(run_argv(data, out, "--detectors", "profiled,iforest", "--config", str(config), "--device", "cpu")) == 0
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {line["profile"] for line in lines} == {"reference"}
    assert {line["params"].get("profile") for line in lines} == {"reference", None}  # iforest has no profile
    assert all(line["params"]["device"] == "cpu" for line in lines if line["detector"] == "profiled")
    (entry,) = history.read_runs(out)
    assert entry["config"]["profile"] == entry["settings"]["profile"] == "reference"
    assert entry["detector_params"]["profiled"]["profile"] == "reference"
    for table in ("auc_table.md", "auc_table.tex", "paper_comparison.md"):
        assert "training profile reference." in (out / table).read_text()


def test_cuda_runs_use_deterministic_kernels(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    flags = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cuda.matmul.allow_tf32,
        torch.get_num_threads(),
    )
    try:
        devices.configure_process(1, "cpu")
        assert not torch.are_deterministic_algorithms_enabled()  # CPU kernels are deterministic already
        devices.configure_process(1, "cuda:0")
        assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
        assert not (torch.backends.cudnn.benchmark or torch.backends.cudnn.allow_tf32)
        assert not torch.backends.cuda.matmul.allow_tf32
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    finally:
        torch.use_deterministic_algorithms(flags[0], warn_only=flags[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = flags[2], flags[3]
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags[4], flags[5]
        torch.set_num_threads(flags[6])


# 2. One writer at a time; a killed writer does not block.


def test_second_writer_is_refused_and_a_killed_one_does_not_block(classic_run, data, tmp_path, capsys):
    out = copy_of(classic_run, tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from advbench.runs.lock import hold\n"
            "with hold(sys.argv[1], 'test', 'advbench run --test'):\n    print('held', flush=True); time.sleep(120)",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        before = snapshot(out)
        argv = run_argv(data, out, "--detectors", "ocsvm,iforest", "--seeds", "3")
        assert main(argv) == 2
        assert f"pid {holder.pid}" in one_error_line(capsys) and snapshot(out) == before
        assert main(["report", str(out)]) == 2
        assert "another advbench process" in one_error_line(capsys)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    runs = history.read_runs(out)
    history.write_runs(out, [*runs, runs[-1] | {"status": "running"}])  # a run killed before its end
    assert main(argv) == 0  # the OS released the killed holder's lock
    assert "2 computed" in capsys.readouterr().err
    assert [entry["status"] for entry in history.read_runs(out)[-3:]] == ["finished", history.INTERRUPTED, "finished"]
    assert not (out / ".advbench.lock.json").exists()  # the killed holder's note, overwritten, then removed


# 3. Errors before work: one line, exit 2, nothing written; a dead worker is exit 1.


@pytest.mark.parametrize(
    ("more", "named"),
    [
        (["--detectors", "ocsvm", "--config", "NU"], "[detectors.ocsvm]: nu must"),
        (["--detectors", "iforest,kde", "--config", "CV"], "[detectors.kde]: cv must"),
        (["--device", "gpu"], "--device"),
        (["--profile", "fast"], "--profile"),
    ],
)
def test_bad_parameters_fail_before_any_pair(data, tmp_path, capsys, more, named):
    configs = {"NU": "[detectors.ocsvm]\nnu = 5.0\n", "CV": "[detectors.kde]\ncv = 1\n"}
    for key, text in configs.items():
        (tmp_path / f"{key}.toml").write_text(text)
    more = [str(tmp_path / f"{word}.toml") if word in configs else word for word in more]
    out = tmp_path / "out"
    assert main(run_argv(data, out, "--seeds", "1", *more)) == 2
    assert named in one_error_line(capsys)
    assert not out.exists()


def test_cuda_on_a_machine_without_it_fails_before_any_pair(data, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "out"
    assert main(run_argv(data, out, "--detectors", "dcae", "--device", "cuda")) == 2
    assert "--device cuda: CUDA is not available" in one_error_line(capsys)
    assert not out.exists()


def test_a_dead_worker_is_exit_1_with_one_line_and_the_finished_pairs_stay(data, tmp_path, capsys, monkeypatch):
    # A real worker death: the plug-in detector "dies" calls os._exit(1) in its spawned worker, once the
    # other worker's ocsvm pair is recorded in results.jsonl.
    monkeypatch.syspath_prepend(str(install_plugin(tmp_path / "site", {"dies": "tiny_plugin:DiesInFit"})))
    out = tmp_path / "out"
    monkeypatch.setenv("TINY_PLUGIN_DIE_AFTER", str(out / "results.jsonl"))
    assert main(run_argv(data, out, "--detectors", "ocsvm,dies", "--seeds", "1", "--jobs", "2")) == 1
    err = capsys.readouterr().err  # after the progress bar, one line
    assert [line for line in err.splitlines() if "error" in line] == [
        "advbench run: error: a worker process died (killed, or out of memory?); run the same command again to resume"
    ]
    assert "Traceback" not in err
    (entry,) = history.read_runs(out)
    assert entry["status"] == "failed: RunError" and entry["finished"]
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {(line["detector"], line["seed"], line["error"]) for line in lines} == {("ocsvm", 0, None)}
    # Resuming reuses the recorded pair.
    assert main(run_argv(data, out, "--detectors", "ocsvm", "--seeds", "1")) == 0
    assert "(1 reused, 0 computed)" in capsys.readouterr().err


# 4. run.json keeps the history; the report uses every run's seeds.


def test_every_run_appends_to_the_history_and_the_report_uses_all_seeds(data, tmp_path):
    out = tmp_path / "history"
    assert main(run_argv(data, out, "--detectors", "ocsvm", "--seeds", "0,1")) == 0
    assert main(run_argv(data, out, "--detectors", "ocsvm", "--seeds", "1,2")) == 0
    runs = history.read_runs(out)
    assert [entry["config"]["seeds"] for entry in runs] == [[0, 1], [1, 2]]
    assert all(entry["status"] == "finished" and entry["command_line"][:2] == ["advbench", "run"] for entry in runs)
    assert [entry["pairs"]["computed"] for entry in runs] == [2, 1]
    table = (out / "auc_table.md").read_text()
    assert "seeds 0, 1, 2; protocol official; training profile default." in table and "seeds)" not in table
    assert table.count("| ocsvm |") == 1  # both runs asked for it: one row


def test_a_run_json_written_before_histories_is_kept_as_the_first_entry(classic_run, data, tmp_path):
    out = copy_of(classic_run, tmp_path)
    (old,) = history.read_runs(out)
    (out / RUN_JSON).write_text(json.dumps(old))  # the former layout: one run's entry as the whole file
    assert history.read_runs(out) == [old]
    assert main(run_argv(data, out, "--detectors", "ocsvm,iforest", "--seeds", "2")) == 0
    assert [entry["config"]["seeds"] for entry in history.read_runs(out)] == [[0, 1], [0, 1]]


# 5. (Table cells, see test_tables.py.) 6. Behaviour at the edges of a folder.


def test_missing_scores_file_report_writes_nothing_and_run_recomputes_it(classic_run, data, tmp_path, capsys):
    out = copy_of(classic_run, tmp_path)
    missing = scores_path(out, "iforest", 1)
    missing.unlink()
    (out / "auc_table.md").unlink()
    before = snapshot(out)
    assert main(["report", str(out)]) == 2
    assert str(missing) in one_error_line(capsys)
    assert snapshot(out) == before
    assert main(run_argv(data, out, "--detectors", "ocsvm,iforest", "--seeds", "2")) == 0
    assert "1 computed" in capsys.readouterr().err
    assert missing.is_file() and (out / "auc_table.md").is_file()


def test_rerun_with_more_attacks_computes_the_pairs_again(data, tmp_path, capsys):
    out = tmp_path / "more"
    argv = run_argv(data, out, "--detectors", "iforest", "--seeds", "1")
    assert main([*argv, "--attacks", "fgsm"]) == 0
    err = capsys.readouterr().err
    (line,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert f"[1/1] iforest seed 0: AUC % fgsm {100 * line['auc']:.1f} (fit " in err and "1 computed" in err
    assert main([*argv, "--attacks", "fgsm"]) == 0  # the same attacks: nothing to do
    assert "0 computed" in capsys.readouterr().err
    assert main([*argv, "--attacks", "fgsm,bim"]) == 0  # one more attack: the pair is computed again
    assert "(0 reused, 1 computed)" in capsys.readouterr().err
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(line["attack"] for line in lines) == ["bim", "fgsm"]
    assert all(line["error"] is None and line["auc"] is not None for line in lines)


def test_damaged_line_in_the_middle_is_reported_and_left_alone(classic_run, data, tmp_path, capsys):
    out = copy_of(classic_run, tmp_path)
    path = out / "results.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = lines[4][: len(lines[4]) // 2] + "\n"
    path.write_text("".join(lines))
    before = snapshot(out)
    assert main(run_argv(data, out, "--detectors", "ocsvm,iforest", "--seeds", "2")) == 2
    assert "results.jsonl:5: not a JSON line" in one_error_line(capsys)
    assert main(["report", str(out)]) == 2
    assert "results.jsonl:5" in one_error_line(capsys)
    assert snapshot(out) == before


def test_a_worker_refuses_data_that_changed_since_the_run_began(data, tmp_path):
    from advbench.errors import DataError

    path = Path(shutil.copy(data, tmp_path / "bench.h5"))
    recorded = sources.open_source(registry.ATTACK_FILE, "gtsrb", path).sha256
    write_synthetic_benchmark(path, seed=1)  # rewritten while the run goes on
    with pytest.raises(DataError, match=f"^{re.escape(str(path))}: the data changed while the run was going on$"):
        sources.cached(registry.ATTACK_FILE, "gtsrb", str(path), recorded)


def test_unknown_run_keys_are_refused_with_the_valid_ones(data, tmp_path, capsys):
    config = tmp_path / "typo.toml"
    config.write_text("[run]\nseed = 3\n")
    assert main(run_argv(data, tmp_path / "out", "--config", str(config))) == 2
    err = one_error_line(capsys)
    assert str(config) in err and "['seed']" in err and "seeds" in err and "profile" in err
    assert not (tmp_path / "out").exists()


def test_force_removes_only_the_runs_own_files(classic_run, data, tmp_path, capsys):
    out = copy_of(classic_run, tmp_path)
    (out / "notes.txt").write_text("mine")
    (out / "analysis").mkdir()
    (out / "analysis" / "plot.py").write_text("print(1)")
    assert scores_path(out, "iforest", 0).is_file() and (out / "figures").is_dir()
    assert main(run_argv(data, out, "--detectors", "ocsvm", "--seeds", "1", "--force")) == 0
    assert "(0 reused, 1 computed)" in capsys.readouterr().err
    # the stranger files survive; the former run's results, scores and history are gone
    assert (out / "notes.txt").read_text() == "mine" and (out / "analysis" / "plot.py").read_text() == "print(1)"
    assert not (out / "scores" / "iforest").exists() and not scores_path(out, "ocsvm", 1).exists()
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {(line["detector"], line["seed"]) for line in lines} == {("ocsvm", 0)}
    assert [entry["config"]["seeds"] for entry in history.read_runs(out)] == [[0]]
    assert "| iforest |" not in (out / "auc_table.md").read_text()
    assert sorted(path.name for path in (out / "figures").glob("scores_*.png")) == ["scores_ocsvm.png"]


def test_force_on_a_folder_that_is_not_a_run_folder_removes_nothing(data, tmp_path, capsys):
    mine = tmp_path / "mine"
    (mine / "figures").mkdir(parents=True)
    (mine / "figures" / "plot.png").write_bytes(b"png")
    (mine / "auc_table.md").write_text("my table")
    before = snapshot(mine)
    assert main(run_argv(data, mine, "--detectors", "ocsvm", "--seeds", "1", "--force")) == 2
    assert f"--force: --out {mine} is not a run folder (no results.jsonl or run.json); nothing removed" in (
        one_error_line(capsys)
    )
    assert snapshot(mine) == before


# 7. A pair that fails, a run that is interrupted, data that cannot be run.


def test_non_finite_scores_make_the_pair_a_failure(data, tmp_path, capsys, monkeypatch):
    from fake_detectors import NON_FINITE

    monkeypatch.setitem(detectors._REGISTRY, "non-finite", NON_FINITE)
    config = tmp_path / "inf.toml"
    config.write_text("[detectors.non-finite]\nvalue = inf\n")
    out = tmp_path / "out"
    argv = run_argv(data, out, "--detectors", "non-finite,iforest", "--seeds", "1", "--attacks", "fgsm,bim")
    for more in ([], ["--config", str(config), "--force"]):  # NaN, then +inf
        assert main([*argv, *more]) == 1
        err = capsys.readouterr().err
        assert err.endswith(
            "advbench run: 1 pair(s) failed:\n"
            "  non-finite seed 0: ValueError: the detector returned non-finite scores\n"
        )
        lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        failed = [line for line in lines if line["detector"] == "non-finite"]
        assert [line["attack"] for line in failed] == ["fgsm", "bim"]
        assert all(line["error"] == "ValueError: the detector returned non-finite scores" for line in failed)
        assert all(line["auc"] is line["paired_auc"] is line["matched_auc"] is None for line in failed)
        assert all(line["error"] is None and line["auc"] is not None for line in lines if line["detector"] == "iforest")
        assert not scores_path(out, "non-finite", 0).exists() and scores_path(out, "iforest", 0).is_file()


def test_ctrl_c_is_exit_130_and_recorded_in_run_json(data, tmp_path, capsys, monkeypatch):
    from fake_detectors import INTERRUPTED

    monkeypatch.setitem(detectors._REGISTRY, "interrupted", INTERRUPTED)
    out = tmp_path / "out"
    try:
        code = main(run_argv(data, out, "--detectors", "iforest,interrupted", "--seeds", "1"))
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped advbench.cli.main")
    assert code == 130
    assert capsys.readouterr().err.endswith("\nadvbench run: interrupted\n")
    (entry,) = history.read_runs(out)
    assert entry["status"] == "failed: KeyboardInterrupt" and entry["finished"] and "pairs" not in entry
    # the pair finished before the interruption is kept; the folder is not locked: a rerun resumes
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {line["detector"] for line in lines} == {"iforest"}
    assert main(run_argv(data, out, "--detectors", "iforest", "--seeds", "1")) == 0
    assert "(1 reused, 0 computed)" in capsys.readouterr().err


def test_an_attack_set_without_images_is_one_line_exit_2(data, tmp_path, capsys):
    from advbench.datasets.benchmark_file import AttackSet, BenchmarkContents, read_benchmark, write_benchmark

    bench = read_benchmark(data)
    empty = AttackSet(np.zeros((0, 3, 32, 32), np.uint8), *(np.zeros(0) for _ in range(4)), {"attempted": 30})
    path = tmp_path / "with-empty.h5"
    write_benchmark(
        path, BenchmarkContents(bench.normal_train, bench.normal_test, {**bench.attacks, "cw": empty}, bench.attrs)
    )
    out = tmp_path / "out"
    assert main(run_argv(path, out, "--detectors", "iforest", "--seeds", "1")) == 2
    assert one_error_line(capsys) == (
        f"advbench run: error: {path}: attack(s) ['cw'] hold no images; leave them out with --attacks\n"
    )
    assert not out.exists()
    assert main(run_argv(path, out, "--detectors", "iforest", "--seeds", "1", "--attacks", "fgsm,bim")) == 0


@pytest.mark.parametrize(
    ("text", "message", "later"),
    [
        ("[run]\nseeds = 1\nseeds 2\n", "not readable TOML: ", "(at line 3, column 7)"),
        ("[runs]\nseeds = 2\n", "unknown table(s) ['runs']; expected [run] and [detectors.<name>]", ""),
        ("[detectors.nope]\nx = 1\n", "[detectors.nope]: unknown detector; valid: ocsvm, kde,", "dual-adversarial"),
        (
            "[detectors.dcae]\nepochs = 1\nrandom_state = 3\n",
            "[detectors.dcae] has unknown or reserved parameter(s) ['random_state'] (random_state comes from "
            "--seeds, device from --device, profile from --profile); valid: batch_size, epochs,",
            "weight_decay",
        ),
        ("[detectors.dcae]\ndevice = 'cpu'\n", "[detectors.dcae] has unknown or reserved parameter(s) ['device']", ""),
    ],
)
def test_config_file_errors_are_one_line_exit_2(data, tmp_path, capsys, text, message, later):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    out = tmp_path / "out"
    assert main(run_argv(data, out, "--detectors", "dcae", "--config", str(config))) == 2
    err = one_error_line(capsys)
    assert err.startswith(f"advbench run: error: --config {config}: {message}") and later in err
    assert not out.exists()


def test_a_detector_run_on_fewer_attacks_than_the_folder_renders(data, tmp_path, capsys):
    """Two runs into one folder, the second on two of the four attacks: the folder renders, and the second
    detector's score figure has a panel per attack it was scored on."""
    out = tmp_path / "mixed"
    assert main(run_argv(data, out, "--detectors", "ocsvm", "--seeds", "1")) == 0
    assert main(run_argv(data, out, "--detectors", "iforest", "--seeds", "1", "--attacks", "fgsm,bim")) == 0
    assert (out / "figures" / "scores_iforest.png").is_file()
    assert main(["report", str(out)]) == 0
