"""What a run folder stores: ``results.jsonl`` (one line per detector, seed, attack) and the scores.

``results.jsonl`` is only ever appended to (or, when a pair is computed again, rewritten
atomically without its old lines). A pair's lines are written in one ``write`` followed by
``fsync``, after its scores file has been written atomically; each line lists the attacks of its
pair (``pair_attacks``), so a reader can tell a complete pair from one cut short. ``repair``
drops a trailing partial line and the lines of incomplete pairs, which is all a ``kill -9`` can
leave behind.

A pair is a (detector, seed, normal class) (``pair_key``); a benchmark file holds one normal
class, so its pairs are keyed by detector and seed alone (lines written before the class was
recorded lack it), and pairs of benchmarks whose every class is normal in turn (MNIST-type, the
registry's ``pairs_by_class``) by all three.

A detector with score variants (``advbench.score_variants``) writes, besides its own lines, the
lines of each other variant under the name ``<detector>[<variant>]``; they belong to the
detector's pair (``pair_key`` keys them by the detector), which is complete when every name among
its lines has a line per attack of ``pair_attacks`` and the detector's own lines are there.
``write_pair`` writes the variants' lines first and the detector's own last, so a write cut short
always leaves the detector's own lines incomplete: a pair whose own lines are complete has all its
variants' lines (``runner._finished`` looks at the pair as before).

Folders written before ``paired_auc`` and ``matched_auc`` existed are brought up to date from their
stored scores (``upgrade``) without fitting again.

Scores live in ``scores/<detector>/seed-<seed>.npz`` (GTSRB) or
``scores/<detector>/class-<c>/seed-<seed>.npz``: ``normal_train`` and ``normal_test`` (row ``i``
scores row ``i`` of ``/normal/train`` / ``/normal/test`` of the data file under the official
protocol; otherwise the rows ``train_rows`` and ``test_rows`` stored beside them, see
``datasets.protocols`` and ``datasets.oneclass``), ``attack:<name>`` for every anomaly set (row
``i`` scores row ``i`` of ``/attacks/<name>/images``; ``attack:clean-test`` the official test
images; ``attack:other-classes`` the rows ``anomaly_rows``) and ``history`` (the detector's
per-epoch training losses as a JSON string, ``null`` for classic detectors). Each other score
variant of the detector adds ``variant:<variant>:normal_train``, ``variant:<variant>:normal_test``
and ``variant:<variant>:attack:<name>`` to the same file, row for row as the default's
(``read_scores(path, variant)``); a detector without variants writes exactly the arrays above.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from advbench.datasets import registry
from advbench.errors import DataError
from advbench.fileio import atomic_path
from advbench.runs import metrics
from advbench.score_variants import DEFAULT_VARIANT, split_variant

RESULTS = "results.jsonl"
SCORES = "scores"
RUN_JSON = "run.json"


def pair_key(record: dict) -> tuple[str, int, int | None]:
    """``(detector, seed, normal class)``; the class is None for a benchmark file (see the module docstring).
    A score variant's line (``<detector>[<variant>]``) has the key of its detector's pair."""
    by_class = registry.of_record(record).pairs_by_class
    detector = split_variant(record["detector"])[0]
    return detector, int(record["seed"]), int(record["normal_class"]) if by_class else None


def scores_path(out: Path, detector: str, seed: int, normal_class: int | None = None) -> Path:
    """The scores file of a pair (that of its detector for a score variant's name)."""
    folder = Path(out) / SCORES / split_variant(detector)[0]
    return (folder if normal_class is None else folder / f"class-{normal_class}") / f"seed-{seed}.npz"


def _variant_prefix(variant: str) -> str:
    return "" if variant == DEFAULT_VARIANT else f"variant:{variant}:"


def write_scores(
    path: Path,
    normal_train,
    normal_test,
    attacks: dict[str, np.ndarray],
    history,
    rows: dict | None = None,
    variants: dict[str, dict] | None = None,
) -> None:
    """Write one pair's scores atomically (see the module docstring for the layout); ``variants``:
    ``{variant: {"normal_train", "normal_test", "attacks": {name: scores}}}`` of each other score variant."""
    arrays = {"normal_train": np.asarray(normal_train), "normal_test": np.asarray(normal_test)}
    arrays |= {f"attack:{name}": np.asarray(values) for name, values in attacks.items()}
    arrays |= {name: np.asarray(values) for name, values in (rows or {}).items()}
    arrays["history"] = np.array(json.dumps(history, default=float))
    for variant, scores in (variants or {}).items():
        prefix = _variant_prefix(variant)
        arrays[f"{prefix}normal_train"] = np.asarray(scores["normal_train"])
        arrays[f"{prefix}normal_test"] = np.asarray(scores["normal_test"])
        arrays |= {f"{prefix}attack:{name}": np.asarray(values) for name, values in scores["attacks"].items()}
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())


def read_scores(path: Path, variant: str = DEFAULT_VARIANT) -> dict:
    """``{"normal_train", "normal_test", "attacks": {name: scores}, "history"}`` of one pair, and its
    stored rows (``train_rows``, ``test_rows``, ``anomaly_rows``) where the protocol has them; the
    scores are those of the score variant ``variant`` (DataError when the file has none of it)."""
    prefix = _variant_prefix(variant)
    try:
        with np.load(path) as data:
            return {
                "normal_train": data[f"{prefix}normal_train"],
                "normal_test": data[f"{prefix}normal_test"],
                "attacks": {
                    key.removeprefix(f"{prefix}attack:"): data[key]
                    for key in data.files
                    if key.startswith(f"{prefix}attack:")
                },
                "history": json.loads(str(data["history"])),
            } | {key: data[key] for key in data.files if key.endswith("_rows")}
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: unreadable scores file ({exc})") from None


def stored_variants(path: Path) -> list[str]:
    """The score variants whose scores a pair's file holds, ``DEFAULT_VARIANT`` first."""
    try:
        with np.load(path) as data:
            files = data.files
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable scores file ({exc})") from None
    others = [key.split(":")[1] for key in files if key.startswith("variant:") and key.endswith(":normal_test")]
    return [DEFAULT_VARIANT, *others]


def _parse(path: Path, text: str) -> list[dict]:
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise DataError(f"{path}:{number}: not a JSON line; the results file is damaged") from None
    return records


def _complete(lines: list[dict]) -> bool:
    """Whether a pair's lines (its detector's and its score variants') hold every attack of the pair
    once per name, its detector's own lines among them."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        by_name[line["detector"]].append(line["attack"])
    expected = sorted(lines[0].get("pair_attacks", ()))
    own = pair_key(lines[0])[0]
    return own in by_name and all(sorted(attacks) == expected for attacks in by_name.values())


def _write_lines(path: Path, records: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record, sort_keys=True) + "\n" for record in records)
        handle.flush()
        os.fsync(handle.fileno())


def read_results(out: Path) -> list[dict]:
    """The complete pairs' lines of ``out/results.jsonl`` (read-only: a partial tail is ignored)."""
    path = Path(out) / RESULTS
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    text = text[: text.rfind("\n") + 1]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for record in _parse(path, text):
        groups[pair_key(record)].append(record)
    return [record for lines in groups.values() if _complete(lines) for record in lines]


def repair(out: Path) -> list[dict]:
    """Make ``results.jsonl`` hold only complete pairs (truncating a partial last line); return its lines.

    Temporary files that a killed run left behind (``.<name>.*.tmp``, see ``atomic_path``) are removed.
    """
    for stale in Path(out).rglob(".*.tmp"):
        stale.unlink(missing_ok=True)
    path = Path(out) / RESULTS
    if not path.is_file():
        return []
    raw = path.read_bytes()
    cut = raw.rfind(b"\n") + 1
    if cut != len(raw):
        with open(path, "r+b") as handle:
            handle.truncate(cut)
            os.fsync(handle.fileno())
    kept = read_results(out)
    if len(kept) != len(_parse(path, raw[:cut].decode("utf-8"))):
        _write_lines(path, kept)
    return kept


def rewrite(out: Path, records: list[dict]) -> None:
    """Replace ``results.jsonl`` by ``records`` atomically."""
    _write_lines(Path(out) / RESULTS, records)


def write_pair(out: Path, records: list[dict]) -> None:
    """Record one pair's lines: an fsync'd append, or an atomic rewrite when the pair had lines already
    (its score variants' lines too). Its score variants' lines go first, its detector's own last (see
    the module docstring)."""
    path = Path(out) / RESULTS
    key = pair_key(records[0])
    records = sorted(records, key=lambda record: split_variant(record["detector"])[1] == DEFAULT_VARIANT)
    existing = read_results(out)
    if any(pair_key(record) == key for record in existing):
        _write_lines(path, [record for record in existing if pair_key(record) != key] + records)
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(record, sort_keys=True) + "\n" for record in records))
        handle.flush()
        os.fsync(handle.fileno())


def upgrade(out: Path, existing: list[dict], bench) -> list[dict]:
    """Give lines written before ``paired_auc`` and ``matched_auc`` existed (all under the official
    protocol) those two numbers, from their pair's stored scores and the data file's
    ``source_index``, without fitting again; ``results.jsonl`` is rewritten when any changed. The
    stored ``auc`` is computed again from the same scores as a check; a difference means the scores
    file does not belong to the line (DataError)."""
    stale = {pair_key(r) for r in existing if r["error"] is None and "paired_auc" not in r}
    if not stale:
        return existing
    stored = {key: read_scores(scores_path(out, *key)) for key in stale if scores_path(out, *key).is_file()}
    updated = []
    for record in existing:
        scores = stored.get(pair_key(record))
        if scores is not None and "paired_auc" not in record and record["attack"] in bench.attacks:
            clean = scores["normal_test"]
            index = bench.attacks[record["attack"]].source_index
            found = metrics.attack_metrics(clean, clean, scores["attacks"][record["attack"]], index)
            if abs(found["auc"] - record["auc"]) > 1e-12:
                path = scores_path(out, *pair_key(record))
                raise DataError(
                    f"{path}: its scores give AUC {found['auc']:.6f} for {record['attack']}, the results "
                    f"line {record['auc']:.6f}; the folder is inconsistent"
                )
            record = {
                **record,
                "protocol": "official",
                "paired_auc": found["paired_auc"],
                "matched_auc": found["matched_auc"],
            }
        updated.append(record)
    rewrite(out, updated)
    return updated


def to_json_text(value) -> str:
    """Pretty JSON (sorted keys, one trailing newline) for ``run.json`` and friends."""
    return json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"
