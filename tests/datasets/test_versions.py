"""Benchmark versions: the settings digest covers what decides a file's arrays and nothing else, a
published configuration has its name, and the version travels into the file, the result lines,
``run.json``, the captions, ``entries.json`` and the site."""

from __future__ import annotations

import copy
import json

import h5py
import pytest
from run_fixtures import classic_run

from advbench.datasets import versions
from advbench.datasets.benchmark_file import read_benchmark


@pytest.fixture(scope="module")
def classic(tmp_path_factory):
    return classic_run(tmp_path_factory.mktemp("versions"))


def _changed(contents, change):
    other = copy.deepcopy(contents)
    change(other)
    return versions.settings_sha256(other)


def test_the_digest_covers_the_settings_and_nothing_else(classic):
    data, _ = classic
    contents = read_benchmark(data)
    digest = versions.settings_sha256(contents)
    first = next(iter(contents.attacks))
    assert digest != _changed(contents, lambda c: c.attrs.update(seed=1))
    assert digest != _changed(contents, lambda c: c.attrs.update(normal_class=13))
    assert digest != _changed(contents, lambda c: c.attacks[first].attrs.update(params={"eps": 0.5}))
    assert digest != _changed(contents, lambda c: c.attrs.update(gtsrb_content_sha256="0" * 64))
    assert digest != _changed(contents, lambda c: c.attrs.update(victim={"checkpoint_sha256": "1" * 64}))
    for unrelated in ({"created": "2030-01-01"}, {"versions": {"torch": "9"}}, {"advbench_version": "9.9"}):
        assert digest == _changed(contents, lambda c, u=unrelated: c.attrs.update(u))
    assert digest == _changed(contents, lambda c: c.attacks[first].attrs.update(seconds=1e6))


def test_a_file_records_its_version_and_a_published_digest_has_its_name(classic, monkeypatch):
    data, _ = classic
    contents = read_benchmark(data)
    digest = versions.settings_sha256(contents)
    with h5py.File(data, "r") as handle:
        assert handle.attrs["settings_sha256"] == digest
        assert handle.attrs["benchmark_version"] == f"gtsrb-14-{digest[:8]}" == contents.version
    monkeypatch.setitem(versions.NAMED, digest, "gtsrb-stop-v9")
    assert contents.version == "gtsrb-stop-v9"


def test_lines_run_json_captions_entries_and_the_site_show_the_version(classic, tmp_path):
    from advbench.cli import main

    data, out = classic
    version = read_benchmark(data).version
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {line["benchmark_version"] for line in lines} == {version}
    run = json.loads((out / "run.json").read_text())["runs"][-1]
    assert run["data"]["version"] == version
    assert f"({version})" in (out / "auc_table.md").read_text()
    assert json.loads((out / "entries.json").read_text())["folder"]["benchmark_version"] == version
    assert main(["site", str(out), "--out", str(tmp_path / "site")]) == 0
    pages = [path.read_text() for path in (tmp_path / "site").rglob("*.html")]
    assert any(f"<dt>Version</dt><dd>{version}</dd>" in page for page in pages)
