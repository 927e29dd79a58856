"""The reviews' seen/unseen attack table of the supervised protocol, from its run folders.

A folder of ``advbench run --protocol supervised --fit-attack NAME`` holds one training attack set's
fit; this script reads every such folder under FOLDER (each a subfolder with a ``results.jsonl``) and
writes ``FOLDER/seen_unseen.md``: per supervised detector (a row per training attack set), the AUC of
every test attack set, mean and sample standard deviation over the seeds; the seen attack (the test
set of the training set's own attack family) is marked. Nothing is fitted or chosen here: the
numbers are the result lines' AUCs.

Usage: python analysis/seen_unseen.py FOLDER
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from advbench.fileio import write_text_atomic
from advbench.runs.results import read_results


def family(name: str) -> str:
    """An attack set's family: its name without the parameters (``fgsm@eps=0.3`` -> ``fgsm``)."""
    return name.split("@", 1)[0]


def cells(records: list[dict]) -> dict[tuple[str, str, str], list[float]]:
    """``(detector, fit attack, test attack) -> AUCs over seeds`` of the supervised lines of ``records``."""
    found: dict[tuple[str, str, str], list[float]] = {}
    for record in records:
        if record.get("fit_attack") is None or record["error"] is not None or "[" in record["detector"]:
            continue
        found.setdefault((record["detector"], record["fit_attack"], record["attack"]), []).append(record["auc"])
    return found


def table(found: dict[tuple[str, str, str], list[float]], supervised: list[str]) -> list[str]:
    """The Markdown table: a row per (supervised detector, training attack set), in the order of
    ``supervised`` and of the test attack sets, a column per test attack set."""
    attacks = list(dict.fromkeys(key[2] for key in found))
    fits = sorted({f for _, f, _ in found}, key=lambda f: (attacks.index(f) if f in attacks else len(attacks), f))
    rows = [(d, f) for d in supervised for f in fits if any((d, f, a) in found for a in attacks)]
    lines = ["| detector | fitted on | " + " | ".join(attacks) + " |", "| --- | --- |" + " ---: |" * len(attacks)]
    for detector, fit in rows:
        values = []
        for attack in attacks:
            aucs = found.get((detector, fit, attack))
            if not aucs:
                values.append("")
                continue
            std = f" ± {100 * np.std(aucs, ddof=1):.1f}" if len(aucs) > 1 else ""
            seen = " (seen)" if family(attack) == family(fit) else ""
            values.append(f"{100 * np.mean(aucs):.1f}{std}{seen}")
        lines.append(f"| {detector} | {fit} | " + " | ".join(values) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    records = [
        r for sub in sorted(args.folder.iterdir()) if (sub / "results.jsonl").is_file() for r in read_results(sub)
    ]
    from advbench import detectors

    found = cells(records)
    seeds = sorted({r["seed"] for r in records})
    lines = [
        "# Seen and unseen attacks: AUC (%) of the supervised detectors",
        "",
        "Each row: a supervised detector fitted on one training attack set (`--protocol supervised --fit-attack`), "
        "scored on every test attack set; mean ± sample standard deviation over seeds "
        f"{', '.join(map(str, seeds))}. (seen): the test set of the training set's own attack.",
        "",
        *table(found, list(detectors.GROUPS["supervised"])),
        "",
    ]
    write_text_atomic(args.folder / "seen_unseen.md", "\n".join(lines))


if __name__ == "__main__":
    main()
