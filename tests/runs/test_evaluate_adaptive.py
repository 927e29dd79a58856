"""``advbench evaluate-adaptive`` end to end on a tiny MNIST-type file (every class normal, its victim and
reference in the file): a plug-in detector with a differentiable score and deep Mahalanobis go through the
ensemble, the worst case, the checks and the transfer table; bad input is one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _attack_data import every_class_fgsm_file
from plugin_package import install_plugin

from advbench import cli
from advbench.attacks import strongest
from advbench.runs.robust_accuracy import robust_accuracy

pytestmark = pytest.mark.usefixtures("one_thread")

FAST = ["--steps", "5", "--members", "fool-first-pgd,selective-pgd,apgd-ce,feature-space"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return every_class_fgsm_file(tmp_path_factory.mktemp("evaluate"))


@pytest.fixture
def grad_plugin(tmp_path, monkeypatch):
    entries = {"mean-distance-grad": "tiny_plugin:MeanDistanceGrad", "mean-distance": "tiny_plugin:MeanDistance"}
    folder = install_plugin(tmp_path / "site", entries)
    monkeypatch.syspath_prepend(str(folder))


def test_a_plugin_detector_and_deep_mahalanobis_go_through_the_whole_evaluation(
    built, grad_plugin, tmp_path, monkeypatch
):
    from advbench.runs import devices

    configured = []
    monkeypatch.setattr(devices, "configure_process", lambda threads, device: configured.append((threads, device)))
    out = tmp_path / "eval"
    argv = ["evaluate-adaptive", str(built), "--detectors", "mean-distance-grad,victim-mahalanobis"]
    argv += ["--score-only", "mean-distance,ocsvm"]
    assert cli.main([*argv, *FAST, "--eps", "0.3", "--seeds", "0", "--threads", "3", "--out", str(out)]) == 0
    assert configured == [(3, "cpu")]  # one thread count for the whole evaluation, as `advbench run` fixes it
    cells = [json.loads(line) for line in (out / "cells.jsonl").read_text().splitlines()]
    assert [cell["detector"] for cell in cells] == ["mean-distance-grad", "victim-mahalanobis"]
    plugin, mahalanobis = cells
    # the plug-in has no victim, so no feature-space member; deep Mahalanobis gets all four
    assert set(plugin["members"]) == {"fool-first-pgd", "selective-pgd", "apgd-ce"}
    assert set(mahalanobis["members"]) == {"fool-first-pgd", "selective-pgd", "apgd-ce", "feature-space"}
    for cell in cells:
        worst = cell["figures"]["worst"]
        assert cell["attacked"] == 20 and sum(cell["wins"].values()) == worst["fooled"]
        # the worst case is at least as strong as every member, per image
        assert worst["dara@5%"] <= min(member["dara@5%"] for member in cell["members"].values()) + 1e-12
        low, high = worst["dara@5% interval"]
        assert low <= worst["dara@5%"] <= high
        assert set(cell["checks"]) == {"gradient", "convergence", "unbounded"}
        others = {"mean-distance-grad", "victim-mahalanobis"} - {cell["detector"]}
        assert set(cell["transfer"]) == others | {"mean-distance", "ocsvm"}
    # the stored per-image outcome reproduces the cell's figure
    stored = np.load(out / "scores" / "victim-mahalanobis-seed0-eps0.3.npz")
    assert robust_accuracy(stored["clean"], stored["scores"], stored["fooled"], 0.05) == pytest.approx(
        mahalanobis["figures"]["worst"]["dara@5%"]
    )
    verdicts = (out / "verdicts.md").read_text()
    assert "| victim-mahalanobis | 0 | linf 0.3 |" in verdicts
    assert "| Attacked \\ Scored by | mean-distance-grad | victim-mahalanobis | mean-distance | ocsvm |" in verdicts
    (out / "verdicts.md").unlink()
    assert cli.main(["report", str(out)]) == 0 and (out / "verdicts.md").read_text() == verdicts
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["benchmark"] == "mnist" and "reference" in run["uses"]


def test_the_worst_case_takes_the_lowest_fooling_score_per_image():
    def candidates(fooled, scores):
        images = np.arange(len(scores), dtype=np.uint8)[:, None, None, None] * np.ones((1, 1, 2, 2), np.uint8)
        return strongest.Candidates(images + 10 * len(fooled), np.array(fooled), np.array(scores, float), 0.0)

    found = {
        "a": candidates([True, True, False, False], [5.0, 1.0, 0.0, 0.0]),
        "b": candidates([True, False, True, False], [2.0, 0.0, 3.0, 0.0]),
    }
    worst = strongest.worst_case(found)
    assert worst.winner.tolist() == [1, 0, 1, -1]
    assert worst.scores.tolist() == [2.0, 1.0, 3.0, 0.0]
    assert worst.fooled.tolist() == [True, True, True, False]
    assert worst.wins() == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--detectors", "ocsvm"], "--detectors: ocsvm has no differentiable score"),
        (["--detectors", "dcae", "--score-only", "nope"], "--score-only: unknown detector 'nope'"),
        (["--detectors", "nope"], "--detectors: unknown detector 'nope'"),
        (["--detectors", "dcae", "--eps", "8"], "--eps 8: an L-inf budget above 1"),
        (["--detectors", "dcae", "--members", "pgd"], "--members: unknown pgd"),
    ],
)
def test_bad_input_is_one_line(built, tmp_path, capsys, extra, message):
    assert cli.main(["evaluate-adaptive", str(built), *extra, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()
