"""The command line's surface: sub-commands in --help, and ``advbench list``."""

from __future__ import annotations

import pytest

from advbench import attacks, cli, detectors


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("generate-attacks", "run", "report", "info", "list"):
        assert command in out


def test_list_shows_every_detector_with_a_description_groups_and_attacks(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in detectors.names():
        (line,) = [line for line in lines if line.split()[:1] == [name]]
        assert len(line.split(maxsplit=1)) == 2, f"{name} has no description"
    for group in detectors.GROUPS:
        assert any(line.split()[:1] == [group] for line in lines)
    for attack in attacks.DESCRIPTIONS:
        assert any(line.split()[:1] == [attack] for line in lines)


def test_unknown_detector_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid: all, ablation"):
        detectors.expand("all,nope")
    assert detectors.expand("classic,ocsvm") == ["ocsvm", "kde", "iforest", "mahalanobis"]
