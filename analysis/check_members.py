"""Which member of an ``evaluate-adaptive`` check's re-runs lowered the robust accuracy, and by how much.

A cell's convergence check re-runs the members that won an image with twice the steps and one
more restart, and its unbounded check re-runs them with the whole image box as budget, both on the
images still robust; the cell records only what all of them together reached. Their candidates are
kept beside the benchmark file (``runs.member_store``). This script reads them back for every cell
of an evaluation folder and prints, per check and member, the detection-aware robust accuracy at
5 % FPR when that member's re-run alone joins the cell's worst case, and the seconds it took.
Nothing is attacked: a member whose candidates are not kept (another machine, or a check that did
not run it) is left out.

Usage: python analysis/check_members.py FOLDER [--members-dir DIR]
       (default DIR: ``adaptive-members`` beside the benchmark file named in FOLDER's run.json)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--members-dir")
    args = parser.parse_args()

    from advbench.attacks.strongest import Ensemble
    from advbench.reports.adaptive_verdicts import read_cells
    from advbench.runs.evaluate_adaptive import MEMBERS_FOLDER, cell_name
    from advbench.runs.member_store import MemberStore
    from advbench.runs.robust_accuracy import robust, robust_accuracy

    folder = Path(args.folder)
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    members_dir = Path(args.members_dir or Path(run["config"]["data"]).parent / MEMBERS_FOLDER)
    store = MemberStore(members_dir, run["data"]["sha256"])
    config = run["config"]
    print("| Detector | Seed | Budget | DARA@5% | Check | Member | Fools (of the robust) | DARA@5% with it | Seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cell in read_cells(folder):
        kept = np.load(folder / "scores" / f"{cell_name(cell['detector'], cell['seed'], cell['eps'])}.npz")
        clean, scores, fooled = kept["clean"], kept["scores"], kept["fooled"]
        still = np.flatnonzero(robust(clean, scores, fooled, 0.05))
        keeper = store.keeper(cell["detector_record"]["detector_file"], still)
        base = robust_accuracy(clean, scores, fooled, 0.05)
        checks = cell["checks"]
        reruns = {  # each check's ensemble settings; the unbounded budget as the check recorded it
            "convergence": (cell["eps"], 2 * config["steps"], config["restarts"] + 1),
            "unbounded": (checks.get("unbounded", {}).get("eps"), config["steps"], config["restarts"]),
        }
        for check, (eps, steps, restarts) in reruns.items():
            ensemble = Ensemble(eps, cell["norm"], (), steps, restarts, cell["seed"])
            for member in checks.get(check, {}).get("members", []):
                found = keeper.load(member, ensemble)
                if found is None:
                    continue
                lower = found.fooled & (~fooled[still] | (found.scores < scores[still]))
                joined, joined_fooled = scores.copy(), fooled.copy()
                joined[still[lower]] = found.scores[lower]
                joined_fooled[still] |= found.fooled
                print(
                    f"| {cell['detector']} | {cell['seed']} | {cell['norm']} {cell['eps']:.4g} | {100 * base:.1f} | "
                    f"{check} | {member} | {int(found.fooled.sum())}/{len(still)} | "
                    f"{100 * robust_accuracy(clean, joined, joined_fooled, 0.05):.1f} | {found.seconds:.0f} |"
                )


if __name__ == "__main__":
    main()
