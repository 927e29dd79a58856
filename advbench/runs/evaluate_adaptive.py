"""The ``evaluate-adaptive`` job: load a benchmark file's victim, reference and images, run every cell
of ``adaptive_eval``, the transfer check, and write the folder.

The folder (``--out``, new, empty or an earlier evaluation's, marked ``.advbench-adaptive``):

- ``cells.jsonl``: one line per detector, seed and budget (``adaptive_eval.Cell.record``), written
  as each cell ends, so an interrupted evaluation keeps what it finished;
- ``scores/<detector>-seed<s>-eps<e>.npz``: the clean test scores and, per image, the worst case's
  score, whether it fools the victim, and the member that won it (no images: they derive from the
  dataset);
- ``run.json``: the last command, the configuration (less the seeds and budgets: a folder takes
  further seeds and budgets of the same settings, from this or a second process), the file's
  sha256, the victim and reference the detectors were fitted with, and the library versions;
- ``verdicts.md``: the tables (``reports.adaptive_verdicts``).

The fitted detectors are cached beside the benchmark file, as ``generate-attacks --adaptive``
caches them (``adaptive.DetectorCache.fitted``), so that both attack the same fitted detector.
Each member's candidates are kept there too, in ``adaptive-members/`` (``member_store``), as the
member ends: an evaluation stopped in the middle of a cell resumes from its last finished member.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from advbench.errors import AdvbenchError
from advbench.fileio import atomic_path, write_text_atomic
from advbench.outputs import check_folder_out, write_marker
from advbench.provenance import versions
from advbench.runs.adaptive_eval import AdaptiveConfig, Cell, Evaluation
from advbench.runs.adaptive_layout import CELLS, MARKER
from advbench.runs.member_store import MemberStore
from advbench.runs.robust_accuracy import robust_accuracy

#: The command's name (its folder's marker and cells' file: ``adaptive_layout``).
COMMAND = "advbench evaluate-adaptive"
#: The folder beside the benchmark file where each member's candidates are kept as it ends.
MEMBERS_FOLDER = "adaptive-members"
#: What ``victim_inputs.resolve`` is told uses the victim besides the detectors: the attacks.
ATTACKS_USER = "evaluate-adaptive's attacks"


def cell_name(detector: str, seed: int, eps: float) -> str:
    """``victim-mahalanobis-seed0-eps0.031373``: the file name stem of a cell's scores."""
    return f"{detector}-seed{seed}-eps{eps:.6g}"


def _inputs(config: AdaptiveConfig, victim_flag):
    """The source, the run's victim-and-reference inputs, the images to attack and their labels."""
    from advbench import detectors
    from advbench.runs import victim_inputs
    from advbench.runs.sources import AttackFile

    source = AttackFile(config.data, attacks=[])
    bench = source.bench
    wanted = {name: detectors.needs(detectors.create(name)) for name in config.detectors + config.score_only}
    wanted[ATTACKS_USER] = ("victim", "reference") if any(wanted.values()) else ("victim",)
    inputs = victim_inputs.resolve(victim_flag, config.gtsrb_root, source, bench.normal_test.shape[1:], wanted)
    count = len(bench.normal_test) if config.images is None else min(config.images, len(bench.normal_test))
    images = torch.from_numpy(bench.normal_test[:count].astype(np.float32) / 255).to(config.device)
    labels = torch.from_numpy(np.asarray(bench.test_labels[:count], dtype=np.int64)).to(config.device)
    return source, inputs, images, labels


def evaluate(
    config: AdaptiveConfig, out: Path, command: str, victim_flag=None, log: Callable = print, keep_members: bool = True
) -> list[dict]:
    """Run every cell of ``config`` into the folder ``out``; returns the cells' records. ``keep_members``:
    keep each member's candidates beside the file and take them from there (off: every member runs)."""
    from advbench.attacks.adaptive import DetectorCache
    from advbench.runs import victim_inputs
    from advbench.torch_utils import seed_everything

    check_folder_out("--out", out, MARKER, COMMAND)
    source, inputs, images, labels = _inputs(config, victim_flag)
    victim = victim_inputs.given(inputs, ("victim",))["victim"].on(config.device)
    model = victim.model.eval()
    cache = DetectorCache(Path(config.data).parent, source.benchmark, torch.device(config.device), log)

    def fitted(name: str, seed: int):
        from advbench import detectors

        uses = victim_inputs.given(inputs, detectors.needs(detectors.create(name)))
        train = source.bench.normal_train
        return cache.fitted(name, seed, train, uses)

    done = _finished(out, config)
    out.mkdir(exist_ok=True)
    write_marker(out, MARKER, COMMAND)
    _write_run(out, config, source, inputs, command)
    reference = victim_inputs.given(inputs, ("reference",)).get("reference") if inputs.reference else None
    store = MemberStore(Path(config.data).parent / MEMBERS_FOLDER, source.sha256) if keep_members else None
    evaluation = Evaluation(config, model, fitted, (images, labels), log, reference, store)
    records = []
    for seed in config.seeds:
        for eps in config.budgets:
            if (seed, eps) in done:
                log(f"seed {seed}, eps {eps:.6g}: already in {out / CELLS}")
                continue
            cells = []
            for name in config.detectors:
                seed_everything(seed)
                cells.append(evaluation.cell(name, seed, eps))
            _transfer(cells, evaluation, config.detectors + config.score_only)
            for cell, worst in cells:
                _write_scores(out, cell, worst, evaluation.clean[cell.detector, cell.seed])
            _append(out, [cell.record() for cell, _ in cells])
            records.extend(cell.record() for cell, _ in cells)
    return records


def _transfer(cells: list, evaluation: Evaluation, scorers: tuple[str, ...]) -> None:
    """Each cell's worst-case images scored by every other detector of ``scorers`` (same seed)."""
    for cell, worst in cells:
        for name in scorers:
            if name != cell.detector:
                detector, _ = evaluation.detector(name, cell.seed)
                scores = detector.decision_function(worst.images)
                clean = evaluation.clean_scores(name, cell.seed)
                cell.transfer[name] = robust_accuracy(clean, scores, worst.fooled, 0.05)


def _write_scores(out: Path, cell: Cell, worst, clean: np.ndarray) -> None:
    folder = out / "scores"
    folder.mkdir(exist_ok=True)
    with atomic_path(folder / f"{cell_name(cell.detector, cell.seed, cell.eps)}.npz") as tmp, open(tmp, "wb") as handle:
        np.savez(handle, clean=clean, scores=worst.scores, fooled=worst.fooled, winner=worst.winner)


def _append(out: Path, records: list[dict]) -> None:
    """Add one seed's and budget's cells to ``cells.jsonl`` (whole lines, one appending write, so that two
    processes evaluating other seeds into one folder do not interleave lines)."""
    text = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
    with open(out / CELLS, "a", encoding="utf-8") as handle:
        handle.write(text)


def _settings(config: AdaptiveConfig) -> dict:
    """What every cell of one folder shares: the configuration less its seeds and budgets (the cells
    name theirs), so that further seeds or budgets, or a seed run in a second process, join the folder."""
    return {key: value for key, value in asdict(config).items() if key not in ("seeds", "budgets")}


def _finished(out: Path, config: AdaptiveConfig) -> set[tuple[int, float]]:
    """The (seed, budget) groups ``out`` already holds; AdvbenchError when its cells were made with other
    settings."""
    path = out / "run.json"
    if not path.is_file():
        return set()
    before = json.loads(path.read_text(encoding="utf-8")).get("config")
    if before != json.loads(json.dumps(_settings(config))):
        raise AdvbenchError(
            f"--out {out}: holds an evaluation with other settings (its run.json); give a new or empty folder"
        )
    lines = (out / CELLS).read_text(encoding="utf-8").splitlines() if (out / CELLS).is_file() else []
    return {(record["seed"], record["eps"]) for record in map(json.loads, lines)}


def _write_run(out: Path, config: AdaptiveConfig, source, inputs, command: str) -> None:
    record = {
        "command": command,
        "config": _settings(config),
        "data": {"file": Path(source.location).name, "sha256": source.sha256, "benchmark": source.benchmark},
        "uses": inputs.record(("victim", "reference") if inputs.reference else ("victim",)),
        "versions": versions(),
        "python": sys.version.split()[0],
    }
    write_text_atomic(out / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
