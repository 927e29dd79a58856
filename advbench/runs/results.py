"""What a run folder stores: ``results.jsonl`` (one line per detector, seed, attack) and the scores.

``results.jsonl`` is only ever appended to (or, when a pair is computed again, rewritten
atomically without its old lines). A pair's lines are written in one ``write`` followed by
``fsync``, after its scores file has been written atomically; each line lists the attacks of its
pair (``pair_attacks``), so a reader can tell a complete pair from one cut short. ``repair``
(``advbench run``, which then computes those pairs again) drops a trailing partial line and the
lines of incomplete pairs, which is all a ``kill -9`` can leave behind. ``read_checked``
(``advbench report``) drops nothing: a line cut short, a line that is not a results line, an AUC
that is not a number in [0, 1] or an incomplete pair is a DataError naming the file and line.

A pair is a (detector, seed, normal class) (``pair_key``); a benchmark file holds one normal
class, so its pairs are keyed by detector and seed alone (lines written before the class was
recorded lack it), and pairs of a run of labelled images, whose every class is normal in turn
(MNIST-type, ``sources.keyed_by_class`` of the line's protocol) by all three.

A detector with score variants (``advbench.score_variants``) writes, besides its own lines, the
lines of each other variant under the name ``<detector>[<variant>]``; they belong to the
detector's pair (``pair_key`` keys them by the detector), which is complete when every name among
its lines has a line per attack of ``pair_attacks`` and the detector's own lines are there.
``write_pair`` writes the variants' lines first and the detector's own last, so a write cut short
always leaves the detector's own lines incomplete: a pair whose own lines are complete has all its
variants' lines (``runner._finished`` judges a pair with variants as any other).

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
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from advbench.datasets import protocols
from advbench.errors import DataError
from advbench.fileio import atomic_path
from advbench.runs import metrics, sources
from advbench.score_variants import DEFAULT_VARIANT, split_variant

RESULTS = "results.jsonl"
SCORES = "scores"
RUN_JSON = "run.json"


def pair_key(record: dict) -> tuple[str, int, int | None]:
    """``(detector, seed, normal class)``; the class is None for a benchmark file (see the module docstring).
    A score variant's line (``<detector>[<variant>]``) has the key of its detector's pair."""
    by_class = sources.keyed_by_class(record.get("protocol", protocols.PROTOCOLS[0]))  # before the field: official
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


#: What to do about an incomplete pair: the run drops its lines (``repair``) and computes it again.
_RESUME = "run the folder's `advbench run` command (run.json records it) again: it computes the pair again"
#: What to do about a damaged line: without it, its pair is incomplete.
_DAMAGED = f"the results file is damaged: restore it, or delete the line and {_RESUME}"
#: The keys every results line has, their types, and how a message names each type.
_KEYS = {"detector": str, "seed": int, "attack": str, "pair_attacks": list, "data_sha256": str, "config_hash": str}
_KINDS = {str: "a string", int: "an integer", list: "a list"}
#: The AUCs a line may hold (``metrics.attack_metrics``), each a fraction.
_AUCS = ("auc", "paired_auc", "matched_auc")


def _parse(path: Path, raw: bytes) -> list[dict]:
    """The JSON values of ``raw``'s lines (each ending in a newline); DataError naming the first that is
    not JSON, with what to do about it."""
    records = []
    for number, line in enumerate(raw.split(b"\n")[:-1], 1):
        try:
            records.append(json.loads(line))
        except ValueError:  # not JSON, or not UTF-8
            raise DataError(f"{path}:{number}: not a JSON line; {_DAMAGED}") from None
    return records


def _missing(lines: list[dict]) -> str | None:
    """What a pair's lines (its detector's and its score variants') lack, None when they hold every
    attack of the pair once per name, its detector's own lines among them."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        by_name[line["detector"]].append(line["attack"])
    expected = sorted(lines[0].get("pair_attacks", ()))
    own = pair_key(lines[0])[0]
    if own not in by_name:
        return f"no line of {own} itself"
    for name, attacks in by_name.items():
        if sorted(attacks) != expected:
            counts = Counter(attacks)
            gaps = [f"no line for {attack}" for attack in expected if not counts[attack]]
            gaps += [f"{n} lines for {attack}" for attack, n in counts.items() if n > 1]
            gaps += [f"a line for {attack}, not in its pair_attacks" for attack in counts if attack not in expected]
            return f"{name} has {', '.join(gaps)}"
    return None


def _fraction(value) -> bool:
    """Whether ``value`` is a number in [0, 1] (NaN and infinities are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def _check_line(path: Path, number: int, record) -> tuple:
    """``pair_key`` of the results line ``record`` (line ``number`` of ``path``); DataError when it is
    not a results line or holds an AUC that is not a fraction (an unfailed line needs its ``auc``)."""
    problem = _line_problem(record)
    if problem is None:
        try:
            return pair_key(record)
        except (KeyError, TypeError, ValueError) as exc:
            problem = f"not a results line (its pair: {exc!r})"
    raise DataError(f"{path}:{number}: {problem}; {_DAMAGED}")


def _line_problem(record) -> str | None:
    """What makes ``record`` no results line, or one whose AUCs are not all fractions; None if nothing."""
    if not isinstance(record, dict):
        return f"not a results line (a JSON {type(record).__name__}, not an object)"
    for key, kind in _KEYS.items():
        if not isinstance(record.get(key), kind):
            return f"not a results line ({key} is {record.get(key)!r}, not {_KINDS[kind]})"
    if "error" not in record:
        return "not a results line (no error key)"
    name = f"{record['detector']}, seed {record['seed']}, {record['attack']}"
    for metric in _AUCS:
        value = record.get(metric)
        if value is None and metric == "auc" and record["error"] is None:
            return f"{name} has neither an auc nor an error"
        if value is not None and not _fraction(value):
            return f"{metric} {value!r} of {name} is not a number in [0, 1]"
    return None


def _write_lines(path: Path, records: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record, sort_keys=True) + "\n" for record in records)
        handle.flush()
        os.fsync(handle.fileno())


def read_results(out: Path) -> list[dict]:
    """The complete pairs' lines of ``out/results.jsonl`` (read-only: a partial tail is ignored), for
    ``advbench run``, which computes the other pairs again; ``read_checked`` drops nothing."""
    path = Path(out) / RESULTS
    if not path.is_file():
        return []
    raw = path.read_bytes()
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for record in _parse(path, raw[: raw.rfind(b"\n") + 1]):
        groups[pair_key(record)].append(record)
    return [record for lines in groups.values() if _missing(lines) is None for record in lines]


def read_checked(out: Path) -> list[dict]:
    """Every line of ``out/results.jsonl``, for a reader that must show them all (``advbench report``):
    DataError naming the file and line of the first line cut short (the file does not end with a
    newline), that is not JSON or not a results line, holds an AUC that is not a number in [0, 1]
    (NaN, an infinity, a string), or is the first of an incomplete pair."""
    path = Path(out) / RESULTS
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        number = raw.count(b"\n") + 1
        raise DataError(f"{path}:{number}: the last line is cut short (a run was stopped while writing); {_RESUME}")
    groups: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
    records = _parse(path, raw)
    for number, record in enumerate(records, 1):
        groups[_check_line(path, number, record)].append((number, record))
    for (detector, seed, normal_class), numbered in groups.items():
        lack = _missing([record for _, record in numbered])
        if lack is not None:
            pair = f"{detector}, seed {seed}" + ("" if normal_class is None else f", normal class {normal_class}")
            raise DataError(f"{path}:{numbered[0][0]}: the pair {pair} is incomplete ({lack}); {_RESUME}")
    return records


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
    if len(kept) != len(_parse(path, raw[:cut])):
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
            if not abs(found["auc"] - record["auc"]) <= 1e-12:  # NaN differs too
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
