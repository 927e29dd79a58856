"""``evaluate-adaptive`` over long runs: each member's candidates are kept as the member ends and taken
again by a later evaluation of the same settings; the checks attack only the images still robust; a
folder takes further seeds from a second invocation and refuses other settings."""

from __future__ import annotations

import json

import pytest
from _attack_data import every_class_fgsm_file
from plugin_package import install_plugin

from advbench import cli
from advbench.attacks import strongest

pytestmark = pytest.mark.usefixtures("one_thread")

FAST = ["--steps", "5", "--members", "fool-first-pgd,selective-pgd,feature-space", "--eps", "0.3"]
#: A budget at which the plug-in's worst case leaves some images robust and some not (17 of 20).
EPS = "0.05"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return every_class_fgsm_file(tmp_path_factory.mktemp("resume"))


def _evaluate(built, out, *extra, detector="victim-mahalanobis") -> int:
    argv = ["evaluate-adaptive", str(built), "--detectors", detector, *FAST, *extra, "--out", str(out)]
    return cli.main(argv)


def _cells(out) -> list[dict]:
    return [json.loads(line) for line in (out / "cells.jsonl").read_text().splitlines()]


def test_a_stopped_evaluation_resumes_from_its_last_finished_member(built, tmp_path, monkeypatch, capsys):
    real, calls = strongest._member, []

    def stops_at_the_third_member(name, *args, **kwargs):
        calls.append(name)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process stopped in the middle of a cell
        return real(name, *args, **kwargs)

    monkeypatch.setattr(strongest, "_member", stops_at_the_third_member)
    assert _evaluate(built, tmp_path / "first", "--checks", "none") == 130
    assert not (tmp_path / "first" / "cells.jsonl").exists()
    monkeypatch.setattr(strongest, "_member", real)
    capsys.readouterr()
    assert _evaluate(built, tmp_path / "first", "--checks", "none") == 0
    log = capsys.readouterr().err
    # the two members that ended are taken from the store; the third runs again
    assert log.count("(kept from an earlier run)") == 2 and "feature-space: fools" in log

    def never(name, *args, **kwargs):
        raise AssertionError(f"{name} attacked again")

    monkeypatch.setattr(strongest, "_member", never)
    assert _evaluate(built, tmp_path / "again", "--checks", "none") == 0
    assert _cells(tmp_path / "again") == _cells(tmp_path / "first")


def test_the_checks_attack_only_the_images_still_robust(built, tmp_path, monkeypatch):
    folder = install_plugin(tmp_path / "site", {"mean-distance-grad": "tiny_plugin:MeanDistanceGrad"})
    monkeypatch.syspath_prepend(str(folder))
    attacked: dict[int, list[int]] = {}  # steps -> images per ensemble run
    real = strongest.Ensemble.run

    def counting(self, model, detector, images_and_labels, **kwargs):
        attacked.setdefault(self.steps, []).append(len(images_and_labels[0]))
        return real(self, model, detector, images_and_labels, **kwargs)

    monkeypatch.setattr(strongest.Ensemble, "run", counting)
    out = tmp_path / "eval"
    assert _evaluate(built, out, "--checks", "convergence,unbounded", "--eps", EPS, detector="mean-distance-grad") == 0
    (cell,) = _cells(out)
    still = round(cell["figures"]["worst"]["dara@5%"] * cell["attacked"])
    assert 0 < still < cell["attacked"], "the tiny file should leave some images robust and some not"
    # the ensemble (5 steps) on all 20; convergence (10 steps) and the unbounded budget (5) on the rest
    assert attacked == {5: [20, still], 10: [still]}
    assert cell["checks"]["convergence"]["images"] == cell["checks"]["unbounded"]["images"] == still


def test_a_folder_takes_further_seeds_and_refuses_other_settings(built, tmp_path, capsys):
    out = tmp_path / "eval"
    assert _evaluate(built, out, "--checks", "none", "--seeds", "1") == 0
    assert _evaluate(built, out, "--checks", "none", "--seeds", "0") == 0  # a second process's seed joins
    assert [cell["seed"] for cell in _cells(out)] == [1, 0]
    verdicts = (out / "verdicts.md").read_text()  # the tables list the seeds in order
    assert verdicts.index("| victim-mahalanobis | 0 |") < verdicts.index("| victim-mahalanobis | 1 |")
    capsys.readouterr()
    assert _evaluate(built, out, "--checks", "none", "--seeds", "2", "--restarts", "2") == 2
    err = capsys.readouterr().err.strip()
    assert "holds an evaluation with other settings" in err and len(err.splitlines()) == 1
