"""The table ``advbench.evaluate`` returns: one row per (detector, seed, attack, metric) of a run folder.

``auroc``, ``paired-auroc`` and ``matched-auroc`` are the numbers the run writes in
``results.jsonl`` (``auc``, ``paired_auc``, ``matched_auc``: ``advbench.runs.metrics``; NaN where a
line has none, as the paired ones of a set not made from clean images). The other figures of
``advbench.runs.detection_metrics`` are computed from the pair's stored scores, the clean test
images' against the set's. A detector with score variants has rows for each, named
``<detector>[<variant>]`` as in the run's tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: The figures read from the run's lines, by the line's key.
RUN_METRICS = {"auroc": "auc", "paired-auroc": "paired_auc", "matched-auroc": "matched_auc"}
#: The table's columns.
COLUMNS = ("detector", "seed", "attack", "metric", "value")


def parse_metrics(metrics) -> list[str]:
    """``metrics`` (a comma list or a sequence of names, ``all`` for every figure of
    ``detection_metrics``) as names in the order given, each once; ValueError naming the unknown ones."""
    from advbench.runs import detection_metrics

    if isinstance(metrics, Sequence) and not isinstance(metrics, str):
        if not all(isinstance(item, str) for item in metrics):
            raise TypeError(f"metrics: expected a comma list or a list of names; got {metrics!r}")
        metrics = ",".join(metrics)
    if not isinstance(metrics, str):
        raise TypeError(f"metrics: expected a comma list or a list of names; got {metrics!r}")
    found = []
    for item in (word.strip() for word in metrics.split(",") if word.strip()):
        try:
            found += [item] if item in RUN_METRICS else detection_metrics.parse(item)
        except ValueError:
            valid = ", ".join(dict.fromkeys((*detection_metrics.NAMES, *RUN_METRICS)))
            raise ValueError(f"metrics: unknown metric {item!r}; valid: {valid}, or all") from None
    if not found:
        raise ValueError("metrics: no metric given")
    return list(dict.fromkeys(found))


def table(out: Path, name: str, seeds: list[int], attacks: list[str], metrics: list[str]):
    """The rows of detector ``name`` (and its score variants) over ``seeds`` and ``attacks`` in the run
    folder ``out``, in the order of the seeds, then the detector's own rows first, then the attacks."""
    import pandas as pd

    from advbench.runs import detection_metrics, results
    from advbench.score_variants import DEFAULT_VARIANT, split_variant

    lines = [
        line
        for line in results.read_results(out)
        if split_variant(line["detector"])[0] == name and line["seed"] in seeds and line["attack"] in attacks
    ]
    lines.sort(
        key=lambda line: (
            seeds.index(line["seed"]),
            split_variant(line["detector"])[1] != DEFAULT_VARIANT,
            line["detector"],
            attacks.index(line["attack"]),
        )
    )
    rows, stored = [], {}
    for line in lines:
        detector, variant = split_variant(line["detector"])
        for metric in metrics:
            if metric in RUN_METRICS:
                value = line[RUN_METRICS[metric]]
            else:
                key = (line["seed"], variant)
                if key not in stored:
                    stored[key] = results.read_scores(results.scores_path(out, detector, line["seed"]), variant)
                scores = stored[key]
                value = detection_metrics.compute(metric, scores["normal_test"], scores["attacks"][line["attack"]])
            rows.append(
                (line["detector"], line["seed"], line["attack"], metric, float("nan") if value is None else value)
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))
