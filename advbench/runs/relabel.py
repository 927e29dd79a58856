"""Correct what a run folder's lines say of their own provenance, without fitting again.

Some lines of runs on a benchmark file record GTSRB whatever the file's benchmark (an MNIST file's
lines may say ``"benchmark": "gtsrb"``), and lines without ``param_sources`` do not say where their
parameters came from. ``relabel`` fixes both in the lines a run finds in its
folder, where that is a fact and not a guess:

- a line computed on this run's data file (same ``data_sha256``) takes the file's benchmark;
- a line whose ``config_hash`` equals this run's for its detector was computed with the parameters
  this run resolves, so it takes their sources (the seed's from ``--seeds``).

The numbers of a line never change here: a pair whose parameters differ is not relabelled but
computed again (``advbench run --recompute-changed``) or refused by the folder guard.
"""

from __future__ import annotations

from pathlib import Path

from advbench.detectors.params import RUN_SET
from advbench.runs import results
from advbench.score_variants import split_variant


def relabel(
    out: Path, existing: list[dict], benchmark: str, data_sha256: str, hashes: dict[str, str], sources: dict[str, dict]
) -> tuple[list[dict], list[str]]:
    """The lines of ``existing`` corrected as the module docstring says (``results.jsonl`` rewritten
    when any changed), and one message per kind of correction made."""
    updated, relabelled, sourced = [], 0, 0
    for record in existing:
        detector = split_variant(record["detector"])[0]
        fixed = dict(record)
        if record["data_sha256"] == data_sha256 and record.get("benchmark") != benchmark:
            fixed["benchmark"] = benchmark
            relabelled += 1
        if "param_sources" not in record and hashes.get(detector) == record["config_hash"]:
            fixed["param_sources"] = {**sources[detector], "random_state": RUN_SET["random_state"]}
            sourced += 1
        updated.append(fixed)
    if updated == existing:
        return existing, []
    results.rewrite(out, updated)
    messages = [f"{relabelled} line(s) relabelled as computed on a {benchmark} benchmark file"] if relabelled else []
    return updated, messages + ([f"{sourced} line(s) given their parameters' sources"] if sourced else [])
