"""The command line's contract: what ``advbench list`` offers is what ``run`` accepts, and errors name the flag."""

from __future__ import annotations

import pytest

from advbench import attacks, cli, detectors


def _listed(out: str, section: str) -> list[str]:
    """The first word of each indented line of one section of ``advbench list``."""
    block = out.split(f"{section}:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def test_everything_listed_is_accepted_by_run_and_generate_attacks(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in _listed(out, "Detectors"):
        assert detectors.expand(name) == [name]
        detector = detectors.create(name)
        assert detector.check_params() is detector  # accepted with its defaults; check_params returns self
    for group in _listed(out, "Detector groups"):
        assert detectors.expand(group) == list(detectors.GROUPS[group])
    assert _listed(out, "Attacks") == list(attacks.DESCRIPTIONS)
    assert _listed(out, "Detectors") == detectors.names()


def test_unknown_detector_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid: all, ablation"):
        detectors.expand("all,nope")
    assert detectors.expand("classic,ocsvm") == ["ocsvm", "kde", "iforest", "mahalanobis"]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "--out", "x"], "--data: required"),
        (["run", "--data", "x.h5"], "--out: required"),
        (["run", "--data", "x.h5", "--out", "x", "--jobs", "0"], "--jobs"),
        (["run", "--data", "x.h5", "--out", "x", "--threads", "two"], "--threads"),
        (["report", "no-such-folder"], "no-such-folder: no results.jsonl here"),
    ],
)
def test_missing_or_bad_flags_are_one_line_naming_the_flag(argv, named, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert named in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
