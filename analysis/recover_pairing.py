"""Recover a run folder's ``pairing.json`` from its stored scores, for folders whose data file is gone.

Runs write ``pairing.json`` (``advbench/runs/pairing.py``); folders from before that, whose data file
cannot be rebuilt byte for byte, lack the pairing of the attack sets that dropped some sources
(FGSM keeps the images that fool the victim after rounding), so their paired and matched AUCs get
no interval. This script finds that pairing from what the folder holds:

1. The attack pipeline attacks the sources in order and keeps its successes in order, so an attack
   set's ``source_index`` is strictly increasing.
2. An adversarial image lies a few 8-bit levels from its source, so every detector scores it close
   to its source, give or take a shift that the attack gives every image alike. The cost of
   pairing adversarial image ``i`` with source ``j`` is the sum, over every detector and seed of
   the folder, of the squared difference of their scores less that detector's shift, each
   divided by the variance of that detector's clean scores.
3. Dynamic programming gives the strictly increasing pairing of least total cost: first with no
   shift, then, a few times over, with each detector's median shift under the pairing found.
   Where large perturbations move the scores far from their sources' (FGSM at 32/255), single
   images are then moved between their neighbours while that brings the pairing's paired and
   matched AUCs closer to the stored ones.
4. A set's pairing is kept only when it gives every stored paired and matched AUC of the set, for
   every detector and seed, to 1e-9 (``FolderStats.check``, the check every report runs). The
   script writes ``pairing.json`` with the sets kept and a ``recovered`` note, names the sets left
   without a pairing (their paired and matched AUCs keep mean ± std), and then exits 1.

A folder with few detectors may not pin the pairing down; ``--from FOLDER`` takes it from another
folder's ``pairing.json`` of the same data file instead, under the same check. Where neither works,
``--from-data FILE`` takes it from the attack sets of the same names in a benchmark file that
attacks the same sources again with the same victim (``generate-attacks --victim-from``; FGSM is
deterministic), again under the same check.

Usage (from the repository root)::

    python analysis/recover_pairing.py reports/gtsrb-stop [more folders]
    python analysis/recover_pairing.py --from reports/gtsrb-stop reports/gtsrb-stop/pyod
    python analysis/recover_pairing.py --from-data datasets/fgsm_again.h5 reports/gtsrb-stop/budget
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from advbench.datasets.protocols import CLEAN_TEST
from advbench.errors import AdvbenchError, DataError
from advbench.fileio import sha256_file
from advbench.reports import significance
from advbench.reports.report import load_scores, source_indices
from advbench.runs import history, intervals, pairing, results

#: Rounds of pairing and shift estimation (the first without a shift).
ROUNDS = 4
NOTE = (
    "recovered from the stored scores by analysis/recover_pairing.py (least-cost strictly increasing "
    "pairing; it gives every stored paired and matched AUC of these sets)"
)


def _sources(found: dict) -> np.ndarray:
    """The scores of the attacks' sources in one scores file: the official test images."""
    return found["attacks"].get(CLEAN_TEST, found["normal_test"])


def _pairs(by_row: dict, attack: str):
    """``(sources, adversarial)`` scores of every detector and seed with finite scores."""
    for by_seed in by_row.values():
        for found in by_seed.values():
            sources = _sources(found).astype(float)
            adversarial = found["attacks"][attack].astype(float)
            if np.all(np.isfinite(sources)) and np.all(np.isfinite(adversarial)):
                yield sources, adversarial


def _cost(by_row: dict, attack: str, index: np.ndarray | None) -> np.ndarray:
    """``cost[i, j]``: how far adversarial image ``i`` scores from source ``j``, over every detector and
    seed, after each detector's median shift between the images and their sources under ``index``
    (none without one)."""
    total = 0.0
    for sources, adversarial in _pairs(by_row, attack):
        shift = 0.0 if index is None else float(np.median(adversarial - sources[index]))
        total = total + (adversarial[:, None] - shift - sources[None, :]) ** 2 / (np.var(sources) or 1.0)
    return total


def _increasing(cost: np.ndarray) -> np.ndarray:
    """The strictly increasing ``j_0 < j_1 < ...`` of least ``sum cost[i, j_i]``."""
    n, m = cost.shape
    best = np.full((n, m), np.inf)
    came = np.zeros((n, m), dtype=np.int64)
    best[0] = cost[0]
    for i in range(1, n):
        previous = best[i - 1]
        upto = np.zeros(m, dtype=np.int64)  # upto[j]: the argmin of previous[: j + 1]
        for j in range(1, m):
            upto[j] = j if previous[j] < previous[upto[j - 1]] else upto[j - 1]
        best[i, 1:] = previous[upto[:-1]] + cost[i, 1:]
        came[i, 1:] = upto[:-1]
    index = np.zeros(n, dtype=np.int64)
    index[-1] = int(np.argmin(best[-1]))
    for i in range(n - 1, 0, -1):
        index[i - 1] = came[i, index[i]]
    return index


def _refine(by_row: dict, attack: str, records: list[dict], index: np.ndarray) -> np.ndarray:
    """Move single images to other free sources between their neighbours while that brings the paired
    and matched AUCs the pairing gives closer to the stored ones (greedy, until no move helps)."""
    lines = [r for r in records if r["attack"] == attack and r["error"] is None and r.get("paired_auc") is not None]
    found = [by_row[r["detector"]][results.pair_key(r)[1:]] for r in lines]
    adversarial = np.array([f["attacks"][attack] for f in found], dtype=float)  # lines x images
    sources = np.array([_sources(f) for f in found], dtype=float)
    n = adversarial.shape[1]
    # per line: wins of image i over source j (paired), and of every image over source j / n (matched)
    beaten = (adversarial[:, :, None] > sources[:, None, :]) + 0.5 * (adversarial[:, :, None] == sources[:, None, :])
    over = beaten.sum(axis=1) / n
    target = np.concatenate([[r["paired_auc"] * n for r in lines], [r["matched_auc"] * n for r in lines]])

    def share(i: int, j) -> np.ndarray:  # what image i paired with source(s) j adds to both sums
        return np.concatenate([beaten[:, i, j], over[:, j]])

    index = index.copy()
    error = sum(share(i, [index[i]])[:, 0] for i in range(n)) - target
    moved = True
    while moved:
        moved = False
        for i in range(n):
            low = index[i - 1] + 1 if i else 0
            high = index[i + 1] if i + 1 < n else sources.shape[1]
            options = np.arange(low, high)
            after = error[:, None] - share(i, [index[i]]) + share(i, options)
            pick = int(np.argmin(np.abs(after).sum(axis=0)))
            if np.abs(after[:, pick]).sum() < np.abs(error).sum() - 1e-9:
                index[i], error, moved = options[pick], after[:, pick], True
    return index


def _from_data(path: Path) -> dict[str, np.ndarray]:
    """The ``source_index`` of every attack set of the benchmark file at ``path``."""
    from advbench.datasets.benchmark_file import read_benchmark

    return {name: attack.source_index for name, attack in read_benchmark(path).attacks.items()}


def recover(out: Path, donor: Path | None = None, data: Path | None = None) -> tuple[Path | None, list[str]]:
    """Write ``out/pairing.json`` with every attack set whose pairing is known or recovered (from
    ``donor``'s ``pairing.json`` or the attack sets of the benchmark file ``data`` when given) and
    passes the check; return it (None when every pairing was known) and the sets left without one."""
    records = results.read_results(out)
    runs = history.read_runs(out)
    sha = runs[-1].get("data_sha256") or records[0]["data_sha256"]
    scores = load_scores(out, records)
    attack_sets = {name: info for entry in runs for name, info in entry.get("attack_sets", {}).items()}
    known = source_indices(None, pairing.read(out, sha), attack_sets, scores)
    missing = [name for name in attack_sets if name not in known]
    if not missing:
        return None, []
    given = pairing.read(donor, sha) if donor is not None else _from_data(data) if data is not None else None
    seeds = sorted({record["seed"] for record in records})
    found, left = {}, []
    for name in missing:
        if given is not None:
            index = given.get(name)
            if index is None:
                left.append(name)
                continue
        else:
            index = None
            for _ in range(ROUNDS):
                index = _increasing(_cost(scores, name, index))
            index = _refine(scores, name, records, index)
        try:  # the check every report runs: every stored paired and matched AUC of the set
            significance.FolderStats(scores, records, seeds, intervals.Bootstrap(), {name: index}).check()
        except DataError:
            left.append(name)
            continue
        found[name] = index
    stored = {name: known[name] for name in known if name in attack_sets}
    note = NOTE
    if data is not None and found:
        note += (
            f"; {', '.join(found)}: the source_index of the same sets made again with the same victim "
            f"({data.name}, sha256 {sha256_file(data)[:12]}), which give every stored paired and matched AUC"
        )
    return (pairing.write(out, sha, stored | found, recovered=note) if found else None), left


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--from", dest="donor", type=Path, help="take the pairing from this folder's pairing.json")
    source.add_argument("--from-data", dest="data", type=Path, help="take it from this benchmark file's attack sets")
    args = parser.parse_args(argv)
    failed = False
    for folder in args.folders:
        try:
            written, left = recover(folder, args.donor, args.data)
        except AdvbenchError as exc:
            print(f"recover_pairing: {folder}: {exc}", file=sys.stderr)
            return 1
        print(f"{folder}: " + (f"wrote {written}" if written else "nothing written"), flush=True)
        if left:
            print(f"recover_pairing: {folder}: no pairing passes the check for {', '.join(left)}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
