"""Every published folder under ``reports/`` says truly which data file its numbers come from.

A published folder is one with a ``results.jsonl``. Its README is the folder's own ``README.md`` or,
failing that, the nearest one above it (up to ``reports/``); a README describes every published
folder it is the nearest README of.

- ``test_quoted_hash_is_a_published_file``: every sha256 prefix a README quotes (12 to 64 hex
  digits in backquotes, ``...`` allowed) is the ``data_sha256`` of some published line, unless it
  is a checkpoint's (``uses`` of a line, ``victim_sha256`` of a ``dataset_info.json``). A stale or
  mistyped hash fails.
- ``test_own_file_hash_matches_lines``: a hash the README gives as a data file's (after a
  ``.h5`` path, ``benchmark file``, or ``file``: "``x.h5`` (sha256 ``H``", "benchmark file (sha256
  ``H``", "file sha256 ``H``") is the ``data_sha256`` of a published folder in the README's own
  directory or below it.
- ``test_benchmark_matches_dataset_info``: each line's ``benchmark`` equals the benchmark its data
  file records in the folder's ``dataset_info.json`` (when that file records one).
- ``test_dataset_info_is_the_lines_file``: a folder's ``dataset_info.json`` with a ``sha256``
  describes the file its lines record.
- ``test_report_scripts_name_published_files``: a report script or ``commands.sh`` that names a
  data file's sha256 names one that published lines record.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

REPORTS = Path(__file__).resolve().parents[1] / "reports"
#: A quoted sha256 prefix: `589875a7f738` or `84d874a1f672...`.
QUOTED = re.compile(r"`([0-9a-f]{12,64})(?:\.\.\.)?`")
#: A quote that names a data file: after a `.h5` path, "benchmark file (" or "file" (whitespace may break lines).
OWN_FILE = re.compile(r"(?:\.h5`\s+\(|benchmark\s+file\s+\(|\bfile\s+)sha256\s+`([0-9a-f]{12,64})(?:\.\.\.)?`")


def _published() -> list[Path]:
    return sorted(p.parent for p in REPORTS.rglob("results.jsonl"))


@cache
def _lines(folder: Path) -> tuple[dict, ...]:
    with open(folder / "results.jsonl", encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


def _readme_of(folder: Path) -> Path | None:
    for place in (folder, *folder.parents):
        if (place / "README.md").is_file():
            return place / "README.md"
        if place == REPORTS:
            return None
    return None


def _data_hashes(folders) -> set[str]:
    return {line["data_sha256"] for folder in folders for line in _lines(folder)}


def _checkpoint_hashes() -> set[str]:
    found = set()
    for folder in _published():
        for line in _lines(folder):
            found |= {used["sha256"] for used in (line.get("uses") or {}).values() if used.get("sha256")}
    for info in REPORTS.rglob("dataset_info.json"):
        victim = json.loads(info.read_text(encoding="utf-8")).get("victim_sha256")
        if victim:
            found.add(victim)
    return found


def _known(prefix: str, hashes: set[str]) -> bool:
    return any(full.startswith(prefix) for full in hashes)


def _readmes() -> list[Path]:
    return sorted({r for r in map(_readme_of, _published()) if r is not None})


def _under(readme: Path) -> list[Path]:
    return [f for f in _published() if f == readme.parent or readme.parent in f.parents]


def _name(path: Path) -> str:
    return str(path.relative_to(REPORTS))


def test_every_published_folder_has_a_readme():
    assert [_name(f) for f in _published() if _readme_of(f) is None] == []


@pytest.mark.parametrize("readme", _readmes(), ids=_name)
def test_quoted_hash_is_a_published_file(readme):
    published, checkpoints = _data_hashes(_published()), _checkpoint_hashes()
    quoted = QUOTED.findall(readme.read_text(encoding="utf-8"))
    unknown = [h for h in quoted if not _known(h, published) and not _known(h, checkpoints)]
    assert unknown == [], f"{_name(readme)} quotes sha256 prefixes no published line records"


@pytest.mark.parametrize("readme", _readmes(), ids=_name)
def test_own_file_hash_matches_lines(readme):
    own = _data_hashes(_under(readme))
    quoted = OWN_FILE.findall(readme.read_text(encoding="utf-8"))
    wrong = [h for h in quoted if not _known(h, own)]
    assert wrong == [], f"{_name(readme)} names data files that no line of its folders records: {sorted(own)}"


def _with_benchmark() -> list:
    params = []
    for folder in _published():
        info = folder / "dataset_info.json"
        if info.is_file() and "benchmark" in json.loads(info.read_text(encoding="utf-8")):
            params.append(pytest.param(folder, id=_name(folder)))
    return params


@pytest.mark.parametrize("folder", _with_benchmark())
def test_benchmark_matches_dataset_info(folder):
    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    lines = [line for line in _lines(folder) if "sha256" not in info or line["data_sha256"] == info["sha256"]]
    wrong = sorted({line["benchmark"] for line in lines} - {info["benchmark"]})
    assert wrong == [], f"lines say benchmark {wrong}, dataset_info.json {info['benchmark']!r}"


@pytest.mark.parametrize("folder", [f for f in _published() if (f / "dataset_info.json").is_file()], ids=_name)
def test_dataset_info_is_the_lines_file(folder):
    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    if "sha256" not in info:
        pytest.skip("dataset_info.json records no file (a dataset's raw files)")
    assert _data_hashes([folder]) == {info["sha256"]}


#: A data file's hash in a report script or its commands: "sha256 97ec5985d0c9" (backquoted or not).
SCRIPT_HASH = re.compile(r"sha256\s+`?([0-9a-f]{12,64})")


@pytest.mark.parametrize(
    "script", sorted([*REPORTS.rglob("*.py"), *REPORTS.rglob("*.sh")]), ids=lambda path: _name(path)
)
def test_report_scripts_name_published_files(script):
    published = _data_hashes(_published())
    wrong = [h for h in SCRIPT_HASH.findall(script.read_text(encoding="utf-8")) if not _known(h, published)]
    assert wrong == [], f"{_name(script)} names data files that no published line records"
