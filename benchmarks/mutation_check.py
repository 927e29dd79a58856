"""Mutation check of ``advbench/runs/`` and ``advbench/reports/``: named mutants against the fast tests.

Each mutant of ``MUTANTS`` is one plausible regression: a file, a snippet of it, what the snippet
becomes, a name that says what breaks, and the fast tests that exercise the changed code. The
script copies ``advbench/``, ``tests/`` and ``pyproject.toml`` into a temporary folder (the
checkout is never changed), runs every selected test there once unmutated (the baseline, which must
pass), then, one mutant at a time, writes the mutated file into the copy, runs
``pytest -x -q -m "not slow"`` on the mutant's tests with a timeout, and puts the file back. A
mutant is killed when its tests fail (a timeout counts as killed: the tests noticed), survives when
they pass. It prints each outcome, the share killed over all mutants and over those not judged
equivalent (``EQUIVALENT``, each with the reason), and the time taken. Three mutants lie outside
the two packages: a learning-rate scheduler that never steps in the deep detectors' training loop,
the detector-parameter resolver giving the benchmark's defaults priority over the config, and the
strongest-attack ensemble keeping the highest-scoring candidate per image.

Only the tests that cover a mutant are run, so that the check fits a 2-core machine; the rest of
the suite could only kill more, so the share is a lower bound for the whole fast suite.

Why not a mutation tool: cosmic-ray 8.7 (``cosmic-ray init``) generates 3,182 mutants in these two
packages (1,213 in ``runs/``, 1,969 in ``reports/``, 738 of these number replacements, mostly in the
published tables of ``paper.py`` and ``published.py``) and runs the whole test command for each;
mutmut 3 generates mutants of the same kinds and runs, for each, every test that executes the
mutated function, which for ``runner.py`` is every run test (their fast tests take about 6 CPU
minutes). Even at 20 s a mutant, 3,182 mutants take about 18 hours of the 2-core machine, and most
are number or operator swaps in tables of published values; the named mutants here take well under
an hour, and each is a regression a reader can judge.

Usage::

    python benchmarks/mutation_check.py                    # every mutant
    python benchmarks/mutation_check.py --only NAME,NAME   # some of them (names as listed by --list)
    python benchmarks/mutation_check.py --list
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COPIED = ("advbench", "tests", "pyproject.toml")


#: One mutant: in ``path``, ``original`` (present exactly once) becomes ``mutated``; ``tests`` are pytest node ids.
Mutant = namedtuple("Mutant", "name path original mutated tests")


RUNNER, PAIR, METRICS, RESULTS = (f"advbench/runs/{m}.py" for m in ("runner", "pair", "metrics", "results"))
GUARD, CONFIG, HISTORY, LOCK = (f"advbench/runs/{m}.py" for m in ("guard", "config", "history", "lock"))
SOURCES, DEVICES = "advbench/runs/sources.py", "advbench/runs/devices.py"
PARAMS = "advbench/detectors/params.py"
TABLES, REPORT, BUDGET = (f"advbench/reports/{m}.py" for m in ("tables", "report", "budget"))
ONECLASS, ADAPTIVE, FIGURES, PAPER = (f"advbench/reports/{m}.py" for m in ("oneclass", "adaptive", "figures", "paper"))

FOLDER = "tests/runs/test_run_folder.py::test_"
KNOWN = "tests/runs/test_protocols_and_metrics.py::test_"
RUN = "tests/runs/test_run.py::test_"
VARIANTS = "tests/runs/test_run_score_variants.py::test_"
ONE_CLASS = "tests/datasets/test_oneclass.py::test_"
CELLS = "tests/reports/test_tables.py::test_"
DAMAGED = "tests/reports/test_report_damaged.py::test_"
ADAPTIVE_TABLE = "tests/reports/test_adaptive_table.py"

MUTANTS = (
    # runs/runner.py
    Mutant(
        "runner: resume ignores the requested attacks",
        RUNNER,
        '        and set(attacks) <= {line["attack"] for line in lines}\n',
        "",
        (FOLDER + "rerun_with_more_attacks_computes_the_pairs_again",),
    ),
    Mutant(
        "runner: resume ignores a missing scores file",
        RUNNER,
        "        and results.scores_path(out, *key).is_file()\n",
        "",
        (FOLDER + "missing_scores_file_report_writes_nothing_and_run_recomputes_it",),
    ),
    Mutant(
        "runner: failed pairs count as finished",
        RUNNER,
        '        if all(line["error"] is None for line in lines)\n        and set(attacks)',
        "        if set(attacks)",
        (RUN + "failing_detector_is_recorded_and_exit_is_nonzero",),
    ),
    Mutant(
        "runner: --force leaves the rendered tables and figures",
        RUNNER,
        "(results.RESULTS, results.RUN_JSON, results.SCORES, pairing.PAIRING, *rendered)",
        "(results.RESULTS, results.RUN_JSON, results.SCORES, pairing.PAIRING)",
        (FOLDER + "force_removes_only_the_runs_own_files",),
    ),
    Mutant(
        "runner: failed pairs exit 0",
        RUNNER,
        "file=sys.stderr)\n    return 1\n",
        "file=sys.stderr)\n    return 0\n",
        (FOLDER + "non_finite_scores_make_the_pair_a_failure",),
    ),
    Mutant(
        "runner: run.json counts every pair as computed",
        RUNNER,
        '"computed": len(todo)',
        '"computed": len(pairs)',
        (FOLDER + "every_run_appends_to_the_history_and_the_report_uses_all_seeds",),
    ),
    Mutant(
        "runner: run.json records no failed pair",
        RUNNER,
        '"failed": len(failed)',
        '"failed": 0',
        (RUN + "failing_detector_is_recorded_and_exit_is_nonzero",),
    ),
    Mutant(
        "runner: a dead worker's error escapes as a traceback",
        RUNNER,
        "    except BrokenProcessPool:\n",
        "    except KeyError:\n",
        (FOLDER + "a_dead_worker_is_exit_1_with_one_line_and_the_finished_pairs_stay",),
    ),
    Mutant(
        "runner: an interrupted run's status is not written",
        RUNNER,
        "wall_seconds=time.time() - started)\n        history.write_runs(out, [*runs, entry])\n        raise\n",
        "wall_seconds=time.time() - started)\n        raise\n",
        (FOLDER + "ctrl_c_is_exit_130_and_recorded_in_run_json",),
    ),
    Mutant(
        "runner: attack sets without images are run",
        RUNNER,
        "if len(bench.attacks[name]) == 0]",
        "if len(bench.attacks[name]) < 0]",
        (FOLDER + "an_attack_set_without_images_is_one_line_exit_2",),
    ),
    Mutant(
        "runner: the progress line's AUC is a fraction",
        RUNNER,
        "{100 * line['auc']:.1f}",
        "{line['auc']:.1f}",
        (FOLDER + "rerun_with_more_attacks_computes_the_pairs_again",),
    ),
    # runs/pair.py
    Mutant(
        "pair: a failure's error loses its exception type",
        PAIR,
        """f"{type(exc).__name__}: {message[0] if message else ''}".rstrip(": ")""",
        """f"{message[0] if message else ''}\"""",
        (FOLDER + "non_finite_scores_make_the_pair_a_failure",),
    ),
    Mutant(
        "pair: a score that is not finite everywhere passes",
        PAIR,
        "if not np.isfinite(values).all():",
        "if not np.isfinite(values).any():",
        (FOLDER + "non_finite_scores_make_the_pair_a_failure",),
    ),
    Mutant(
        "pair: held-out AUCs against the official test images",
        PAIR,
        "metrics.attack_metrics(normal_test, clean_sources, values, index)",
        "metrics.attack_metrics(clean_sources, clean_sources, values, index)",
        (KNOWN + "heldout_train_run_records_the_split_and_the_clean_test_column",),
    ),
    Mutant(
        "pair: score variants get the detector's AUCs",
        PAIR,
        "**found[variant][column],",
        "**found[DEFAULT_VARIANT][column],",
        (
            ONE_CLASS + "score_variants_of_a_one_class_run",
            VARIANTS + "variant_lines_carry_the_pair_s_provenance_and_the_aucs_of_their_scores",
        ),
    ),
    Mutant(
        "pair: n_train records the test images",
        PAIR,
        '"n_train": int(len(split.train))',
        '"n_train": int(len(split.test))',
        (ONE_CLASS + "run_writes_one_line_per_class_and_resumes",),
    ),
    # runs/metrics.py
    Mutant(
        "metrics: paired AUC counts ties as wins",
        METRICS,
        "+ 0.5 * (adversarial == own_sources)",
        "+ 1.0 * (adversarial == own_sources)",
        (KNOWN + "metrics_by_hand",),
    ),
    Mutant(
        "metrics: paired AUC compares with >=",
        METRICS,
        "np.mean((adversarial > own_sources)",
        "np.mean((adversarial >= own_sources)",
        (KNOWN + "metrics_by_hand",),
    ),
    Mutant(
        "metrics: matched AUC against every clean image",
        METRICS,
        '"matched_auc": roc_auc(own, adversarial)',
        '"matched_auc": roc_auc(normal_test, adversarial)',
        (KNOWN + "paired_and_matched_auc_have_the_known_values",),
    ),
    Mutant(
        "metrics: own sources off by one row",
        METRICS,
        "own = np.asarray(sources)[np.asarray(source_index)]",
        "own = np.asarray(sources)[np.asarray(source_index) - 1]",
        (KNOWN + "paired_and_matched_auc_have_the_known_values",),
    ),
    # runs/results.py
    Mutant(
        "results: a pair without its own lines is complete",
        RESULTS,
        '    if own not in by_name:\n        return f"no line of {own} itself"\n',
        "",
        (VARIANTS + "a_pair_s_own_lines_come_last_so_a_cut_write_drops_the_whole_pair",),
    ),
    Mutant(
        "results: a pair's own lines are written first",
        RESULTS,
        'split_variant(record["detector"])[1] == DEFAULT_VARIANT)',
        'split_variant(record["detector"])[1] != DEFAULT_VARIANT)',
        (VARIANTS + "a_pair_s_own_lines_come_last_so_a_cut_write_drops_the_whole_pair",),
    ),
    Mutant(
        "results: report reads a results file whose last line is cut short",
        RESULTS,
        'if raw and not raw.endswith(b"\\n"):',
        "if False:",
        (DAMAGED + "a_last_line_cut_short_is_refused_not_dropped",),
    ),
    Mutant(
        "results: repair cuts the last newline",
        RESULTS,
        'cut = raw.rfind(b"\\n") + 1',
        'cut = raw.rfind(b"\\n")',
        (FOLDER + "rerun_with_more_attacks_computes_the_pairs_again",),
    ),
    Mutant(
        "results: an upgrade accepts an AUC that disagrees with the scores",
        RESULTS,
        "<= 1e-12:  # NaN differs too",
        "<= 1.0:  # NaN differs too",
        (KNOWN + "old_lines_whose_auc_disagrees_with_their_scores_are_refused",),
    ),
    Mutant(
        "results: a recomputed pair's lines are appended",
        RESULTS,
        "if any(pair_key(record) == key for record in existing):",
        "if False:",
        (RUN + "failing_detector_is_recorded_and_exit_is_nonzero",),
    ),
    Mutant(
        "results: score variants stored under the default's keys",
        RESULTS,
        'return "" if variant == DEFAULT_VARIANT else f"variant:{variant}:"',
        'return ""',
        (ONE_CLASS + "score_variants_of_a_one_class_run",),
    ),
    # runs/guard.py
    Mutant(
        "guard: threads not compared",
        GUARD,
        '"threads": threads,',
        '"threads": None,',
        (FOLDER + "other_threads_device_or_profile_are_refused",),
    ),
    Mutant(
        "guard: lines without a profile match any profile",
        GUARD,
        '"profile": record.get("profile", LEGACY["profile"]),',
        '"profile": record.get("profile"),',
        (FOLDER + "lines_written_before_profiles_count_as_default",),
    ),
    Mutant(
        "guard: the device compared with its index",
        GUARD,
        '"device": None if device is None else device_kind(device),',
        '"device": None if device is None else device,',
        (FOLDER + "another_cuda_device_is_the_same_kind",),
    ),
    # runs/config.py
    Mutant(
        "config: reserved detector parameters accepted",
        CONFIG,
        "bad = sorted(set(table) - (valid - set(RUN_SET_PARAMS)))",
        "bad = sorted(set(table) - valid)",
        (FOLDER + "config_file_errors_are_one_line_exit_2",),
    ),
    Mutant(
        "config: unknown tables accepted",
        "advbench/config_file.py",
        "unknown = sorted(set(data) - set(tables))",
        "unknown = sorted(set(data) - set(tables) - set(data))",
        (FOLDER + "config_file_errors_are_one_line_exit_2",),
    ),
    Mutant(
        "params: the benchmark's defaults override the config",
        PARAMS,
        '(f"benchmark:{benchmark}", registry.get(benchmark).detector_params(name)),\n'
        '        ("config", dict(config or {})),',
        '("config", dict(config or {})),\n'
        '        (f"benchmark:{benchmark}", registry.get(benchmark).detector_params(name)),',
        (ONE_CLASS + "reference_preprocessing_on_mnist_and_overrides",),
    ),
    Mutant(
        "config: the seed and the profile are part of the config hash",
        CONFIG,
        "if key not in RUN_SET_PARAMS}",
        'if key != "device"}',
        (
            FOLDER + "every_run_appends_to_the_history_and_the_report_uses_all_seeds",
            FOLDER + "other_threads_device_or_profile_are_refused",
        ),
    ),
    Mutant(
        "config: attacks in the order given instead of the file's",
        CONFIG,
        "return [name for name in available if name in wanted]",
        "return wanted",
        (KNOWN + "run_attacks_accepts_variant_names_with_several_parameters",),
    ),
    Mutant(
        "config: --jobs 0 accepted",
        CONFIG,
        "    if number < 1:\n",
        "    if number < 0:\n",
        ("tests/test_cli.py::test_missing_or_bad_flags_are_one_line_naming_the_flag",),
    ),
    # runs/history.py
    Mutant(
        "history: a run.json from before histories is dropped",
        HISTORY,
        'return list(info["runs"]) if "runs" in info else [info]',
        'return list(info.get("runs", []))',
        (FOLDER + "a_run_json_written_before_histories_is_kept_as_the_first_entry",),
    ),
    Mutant(
        "history: the union of the runs' lists keeps duplicates",
        HISTORY,
        "out += [value for value in values if value not in out]",
        "out += list(values)",
        (FOLDER + "every_run_appends_to_the_history_and_the_report_uses_all_seeds",),
    ),
    # runs/lock.py
    Mutant(
        "lock: the folder is not locked",
        LOCK,
        "        lock.acquire(timeout=0)\n",
        "        pass\n",
        (FOLDER + "second_writer_is_refused_and_a_killed_one_does_not_block",),
    ),
    Mutant(
        "lock: the holder's note stays after the run",
        LOCK,
        "        (folder / HOLDER).unlink(missing_ok=True)\n",
        "",
        (FOLDER + "second_writer_is_refused_and_a_killed_one_does_not_block",),
    ),
    # runs/sources.py and runs/devices.py
    Mutant(
        "sources: data changed during a run goes unnoticed",
        SOURCES,
        "if source.sha256 != sha256:",
        "if False:",
        (FOLDER + "a_worker_refuses_data_that_changed_since_the_run_began",),
    ),
    Mutant(
        "devices: cuDNN benchmarks its kernels on CUDA",
        DEVICES,
        "torch.backends.cudnn.benchmark = False",
        "torch.backends.cudnn.benchmark = True",
        (FOLDER + "cuda_runs_use_deterministic_kernels",),
    ),
    # reports/tables.py
    Mutant(
        "tables: latex_escape returns its input",
        TABLES,
        'return "".join(_LATEX_SPECIAL.get(char, char) for char in text)',
        "return text",
        (CELLS + "latex_escape_escapes_every_special_character",),
    ),
    Mutant(
        "tables: population standard deviation",
        TABLES,
        "np.std(self.values, ddof=1)",
        "np.std(self.values, ddof=0)",
        (CELLS + "cell_with_fewer_seeds_says_so_and_is_never_bold",),
    ),
    Mutant(
        "tables: a cell with fewer seeds can be bold",
        TABLES,
        "zip(detectors, column, strict=True) if cell.comparable}",
        "zip(detectors, column, strict=True) if cell.values}",
        (CELLS + "cell_with_fewer_seeds_says_so_and_is_never_bold",),
    ),
    Mutant(
        "tables: complete cells say their seed count",
        TABLES,
        "if n < cell.expected:",
        "if n <= cell.expected:",
        (CELLS + "cell_with_fewer_seeds_says_so_and_is_never_bold",),
    ),
    Mutant(
        "tables: failed seeds are not counted",
        TABLES,
        "            cell.failed += 1\n        elif record.get(metric)",
        "            pass\n        elif record.get(metric)",
        (CELLS + "cell_with_fewer_seeds_says_so_and_is_never_bold",),
    ),
    Mutant(
        "tables: stored seeds outside the runs' seeds are dropped",
        TABLES,
        'return sorted(set(run_seeds) | {int(record["seed"]) for record in records})',
        "return sorted(set(run_seeds))",
        (CELLS + "table_seeds_are_every_run_seed_and_every_stored_seed",),
    ),
    Mutant(
        "tables: the mean over attacks takes seeds that lack an attack",
        TABLES,
        "if len(aucs) == len(attacks) and None not in aucs.values():",
        "if None not in aucs.values():",
        (CELLS + "ablation_mean_over_attacks_flags_missing_seeds",),
    ),
    # reports/report.py
    Mutant(
        "report: score variants sort before their detector",
        REPORT,
        "variant != DEFAULT_VARIANT",
        "variant == DEFAULT_VARIANT",
        (CELLS + "score_variants_sort_right_after_their_detector",),
    ),
    Mutant(
        "report: a one-class folder is reported without its scores files",
        REPORT,
        "        if not path.is_file():\n            raise DataError",
        "        if False:\n            raise DataError",
        (
            FOLDER + "missing_scores_file_report_writes_nothing_and_run_recomputes_it",
            ONE_CLASS + "report_of_a_one_class_folder_needs_every_scores_file",
        ),
    ),
    Mutant(
        "report: another data file is taken for the image figure",
        REPORT,
        "if sha and bench.sha256 != sha:",
        "if False:",
        (RUN + "report_refuses_another_data_file_for_the_image_figure",),
    ),
    Mutant(
        "report: ROC figures of the smallest budget",
        REPORT,
        "names[-1])",
        "names[0])",
        (KNOWN + "budget_table_and_figure_follow_the_variants",),
    ),
    # reports/budget.py
    Mutant(
        "budget: a family with one variant gets a budget table",
        BUDGET,
        "if len(points) > 1}",
        "if len(points) >= 1}",
        (KNOWN + "one_variant_of_a_family_makes_no_budget_table",),
    ),
    Mutant(
        "budget: eps shown in raw units",
        BUDGET,
        '_SCALE = {"eps": 255.0}',
        '_SCALE = {"eps": 1.0}',
        (KNOWN + "budget_table_and_figure_follow_the_variants",),
    ),
    Mutant(
        "budget: budgets in descending order",
        BUDGET,
        "sorted(points, key=lambda p: p[1])",
        "sorted(points, key=lambda p: -p[1])",
        (KNOWN + "budget_table_and_figure_follow_the_variants",),
    ),
    # reports/oneclass.py
    Mutant(
        "oneclass: the mean row is a median",
        ONECLASS,
        "full = [float(np.mean(list(aucs.values())))",
        "full = [float(np.median(list(aucs.values())))",
        (ONE_CLASS + "run_writes_one_line_per_class_and_resumes",),
    ),
    Mutant(
        "oneclass: Table 2 under protocol 2",
        ONECLASS,
        'if protocol == "1":\n        written += write_table(',
        'if protocol == "2":\n        written += write_table(',
        (ONE_CLASS + "protocol_1_run_and_table_2",),
    ),
    # reports/adaptive.py, figures.py, paper.py
    Mutant(
        "adaptive: the change is plain minus adaptive",
        ADAPTIVE,
        "[a - p for a, p in zip(adaptive_aucs, plain_aucs, strict=True)]",
        "[p - a for a, p in zip(adaptive_aucs, plain_aucs, strict=True)]",
        (ADAPTIVE_TABLE,),
    ),
    Mutant(
        "adaptive: the success rate is inverted",
        ADAPTIVE,
        'return info["count"] / info["attempted"] if',
        'return info["attempted"] / info["count"] if',
        (ADAPTIVE_TABLE,),
    ),
    Mutant(
        "figures: figure names keep the slash of a budget",
        FIGURES,
        'return attack.replace("/", "-")',
        "return attack",
        (KNOWN + "budget_table_and_figure_follow_the_variants",),
    ),
    Mutant(
        "paper: a Table 4 number is changed",
        PAPER,
        '"boundary": (90.5, 1.6)',
        '"boundary": (90.6, 1.6)',
        (RUN + "paper_comparison_holds_paper_numbers",),
    ),
    # runs/robust_accuracy.py, attacks/strongest.py, reports/adaptive_verdicts.py: the strongest attacks
    Mutant(
        "robust accuracy: an image scoring at the threshold counts as flagged",
        "advbench/runs/robust_accuracy.py",
        "    return np.asarray(scores, dtype=np.float64) > threshold(clean, fpr)\n",
        "    return np.asarray(scores, dtype=np.float64) >= threshold(clean, fpr)\n",
        ("tests/runs/test_robust_accuracy.py",),
    ),
    Mutant(
        "robust accuracy: an image that does not fool the victim is robust only if flagged",
        "advbench/runs/robust_accuracy.py",
        "    return ~fooled | flagged(clean, scores, fpr)\n",
        "    return flagged(clean, scores, fpr)\n",
        ("tests/runs/test_robust_accuracy.py",),
    ),
    Mutant(
        "worst case: the highest-scoring fooling candidate is kept",
        "advbench/attacks/strongest.py",
        "np.argmin(scores, axis=0)",
        "np.argmax(np.where(np.isinf(scores), -np.inf, scores), axis=0)",
        ("tests/runs/test_evaluate_adaptive.py::test_the_worst_case_takes_the_lowest_fooling_score_per_image",),
    ),
    Mutant(
        "verdict: one seed at 50 % makes a detector hold",
        "advbench/reports/adaptive_verdicts.py",
        "    if all(value >= HOLDS for value in values):\n",
        "    if any(value >= HOLDS for value in values):\n",
        ("tests/reports/test_adaptive_verdicts.py",),
    ),
    # outside runs/ and reports/: the deep detectors' training loop
    Mutant(
        "training: the learning-rate scheduler never steps",
        "advbench/detectors/autoencoder_training.py",
        "            training.scheduler.step()\n",
        "            pass\n",
        (
            "tests/detectors/test_detectors_deep.py::test_reference_profile_drops_the_rate_at_250_epochs",
            "tests/detectors/test_detectors_deep.py::test_learning_rate_drops_at_milestones",
        ),
    ),
)

#: Survivors judged to change no behaviour, with the reason.
EQUIVALENT: dict[str, str] = {
    "runner: failed pairs count as finished": (
        "a failed pair has no scores file (pair.fit_and_score removes it when the detector raises), and "
        "_finished also asks for the scores file, so the error check never decides alone"
    ),
}


def _copy_repository(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=ignore)
        else:
            shutil.copy2(source, into / name)


def _environment(copy: Path) -> dict[str, str]:
    """The tests' environment: the copy's ``advbench`` first on the path, one thread per pool."""
    return {**os.environ, "PYTHONPATH": str(copy), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def _imports_the_copy(copy: Path) -> bool:
    found = subprocess.run(
        [sys.executable, "-c", "import advbench; print(advbench.__file__)"],
        cwd=copy,
        env=_environment(copy),
        capture_output=True,
        text=True,
    )
    return found.returncode == 0 and Path(found.stdout.strip()).resolve().is_relative_to(copy.resolve())


def _pytest(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float]:
    """Run ``tests`` in ``copy``; ``("passed" | "failed" | "timeout" | "error rc N", seconds)``."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=copy,
        env=_environment(copy),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code = process.wait(timeout=timeout)
    except BaseException as exc:  # the timeout, or Ctrl-C: the tests' own session does not get the signal
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if not isinstance(exc, subprocess.TimeoutExpired):
            raise
        return "timeout", time.monotonic() - start
    # pytest: 0 passed, 1 a test failed, 2 a collection error (the mutant broke an import); else a usage error
    outcome = {0: "passed", 1: "failed", 2: "failed"}.get(code, f"error rc {code}")
    return outcome, time.monotonic() - start


def _misplaced(mutants) -> list[str]:
    """The mutants whose snippet does not occur exactly once in their file (the code moved on)."""
    found = []
    for mutant in mutants:
        count = (REPO / mutant.path).read_text(encoding="utf-8").count(mutant.original)
        if count != 1:
            found.append(f"{mutant.name}: its snippet occurs {count} times in {mutant.path}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma list of mutant names to run (default: all)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per mutant's tests (default 1200)")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests, then stop")
    args = parser.parse_args(argv)
    names = [mutant.name for mutant in MUTANTS]
    if len(set(names)) != len(names) or any("," in name for name in names) or set(EQUIVALENT) - set(names):
        print(
            "mutation_check: mutant names must be unique, without commas, and EQUIVALENT must name mutants",
            file=sys.stderr,
        )
        return 2
    chosen = MUTANTS
    if args.only:
        wanted = [name.strip() for name in args.only.split(",")]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            print(f"mutation_check: --only: unknown mutant(s) {unknown}", file=sys.stderr)
            return 2
        chosen = tuple(mutant for mutant in MUTANTS if mutant.name in wanted)
    if args.list:
        for mutant in chosen:
            print(f"{mutant.name}  [{mutant.path}]\n    " + "\n    ".join(mutant.tests))
        return 0
    misplaced = _misplaced(chosen)
    if misplaced:
        print(f"mutation_check: {misplaced[0]}", file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutation_check_") as folder:
        copy = Path(folder)
        _copy_repository(copy)
        if not _imports_the_copy(copy):
            print("mutation_check: the tests would not import the copied advbench", file=sys.stderr)
            return 1
        selected = tuple(dict.fromkeys(test for mutant in chosen for test in mutant.tests))
        outcome, seconds = _pytest(copy, selected, args.timeout * len(selected))
        print(f"baseline: {len(selected)} selections of tests, unmutated: {outcome} in {seconds:.0f} s", flush=True)
        if outcome != "passed":
            print("mutation_check: the selected tests do not pass without a mutant; fix that first", file=sys.stderr)
            return 1
        outcomes = {}
        for number, mutant in enumerate(chosen, 1):
            path = copy / mutant.path
            original = path.read_text(encoding="utf-8")
            path.write_text(original.replace(mutant.original, mutant.mutated), encoding="utf-8")
            try:
                result, seconds = _pytest(copy, mutant.tests, args.timeout)
            finally:
                path.write_text(original, encoding="utf-8")
            outcomes[mutant.name] = {"passed": "survived", "failed": "killed"}.get(result, result)
            note = f" (equivalent: {EQUIVALENT[mutant.name]})" if mutant.name in EQUIVALENT else ""
            print(
                f"[{number}/{len(chosen)}] {outcomes[mutant.name]:<9} {seconds:5.0f} s  {mutant.name}{note}", flush=True
            )
    killed = [name for name, result in outcomes.items() if result in ("killed", "timeout")]
    timeouts = [name for name, result in outcomes.items() if result == "timeout"]
    errors = [name for name, result in outcomes.items() if result.startswith("error")]
    judged = [name for name in outcomes if name not in EQUIVALENT]
    share = 100 * len([name for name in killed if name in judged]) / max(len(judged), 1)
    print(
        f"killed {len(killed)} of {len(outcomes)} mutants ({100 * len(killed) / len(outcomes):.1f}%); "
        f"of the {len(judged)} not judged equivalent: {share:.1f}%; {time.monotonic() - started:.0f} s in all"
    )
    survivors = [name for name, result in outcomes.items() if result == "survived"]
    if survivors:
        print("survived: " + "; ".join(survivors))
    if timeouts:
        print("killed by the timeout: " + "; ".join(timeouts))
    if errors:
        print(f"mutation_check: the tests of {errors} could not run (see their node ids)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
