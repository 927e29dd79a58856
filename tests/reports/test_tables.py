"""Table cells never overstate (fewer seeds than the table's are said, such a cell is never best);
figures tell detectors apart; score variants' rows follow their detector."""

from __future__ import annotations

from advbench.reports import paper, tables

ATTACKS = ["boundary", "fgsm"]


def record(detector: str, seed: int, attack: str, auc: float | None) -> dict:
    return {"detector": detector, "seed": seed, "attack": attack, "auc": auc, "error": None if auc is not None else "X"}


def lines(detector: str, aucs: dict[int, float | None]) -> list[dict]:
    return [record(detector, seed, attack, auc) for seed, auc in aucs.items() for attack in ATTACKS]


def markdown_cells(frame) -> dict[str, str]:
    return dict(zip(frame["Detector"], frame[tables.attack_label("fgsm")], strict=True))


def test_table_seeds_are_every_run_seed_and_every_stored_seed():
    records = lines("ocsvm", {0: 0.6, 4: 0.6})
    assert tables.table_seeds(records, [0, 1, 2]) == [0, 1, 2, 4]


def test_cell_with_fewer_seeds_says_so_and_is_never_bold():
    records = (
        lines("ocsvm", {0: 0.60, 1: 0.62, 2: 0.61}) + lines("kde", {0: 0.90}) + lines("iforest", {0: 0.95, 1: None})
    )
    seeds = tables.table_seeds(records, [0, 1, 2])
    cells = tables.collect(records, ["ocsvm", "kde", "iforest"], ATTACKS, seeds)
    text = markdown_cells(tables.auc_frame(cells, ["ocsvm", "kde", "iforest"], ATTACKS, latex=False))
    assert text == {"ocsvm": "**61.0 ± 1.0**", "kde": "90.0 (1/3 seeds)", "iforest": "95.0 (1/3 seeds, 1 failed)"}
    latex = tables.auc_frame(cells, ["ocsvm", "kde"], ATTACKS, latex=True)
    assert latex[tables.attack_label("fgsm")].tolist() == [r"\textbf{61.0 $\pm$ 1.0}", "90.0 (1/3 seeds)"]


def test_ablation_mean_over_attacks_flags_missing_seeds():
    records = lines("ablation-single-ae", {0: 0.6, 1: 0.7}) + lines("dual-adversarial", {0: 0.5, 1: 0.5, 2: 0.5})
    records += lines("ablation-single-ae-d", {0: 0.8}) + [record("ablation-single-ae-d", 1, "fgsm", 0.6)]
    seeds = tables.table_seeds(records, [0, 1, 2])
    cells = tables.collect(records, list(paper.TABLE1), ATTACKS, seeds)
    frame = tables.ablation_frame(records, cells, ATTACKS, latex=False)
    means = dict(zip(frame["Detector"], frame["Ours, mean over attacks"], strict=True))
    assert means["ablation-single-ae"] == "0.650 ± 0.071 (2/3 seeds)"
    assert means["ablation-single-ae-d"] == "0.800 (1/3 seeds, 1 failed)"  # seed 1 lacks an attack: no mean
    assert means["dual-adversarial"] == "0.500 ± 0.000" and means["ablation-dual-ae-d"] == "not run"


def test_every_detector_has_its_own_colour_and_line_style():
    from advbench import detectors
    from advbench.reports.figures import style

    names = [*detectors.names(), "plugin-a", "plugin-b", "plugin-c", "plugin-d", "plugin-e"]
    others = [name for name in names if name not in detectors.names()]
    pairs = [tuple(style(name, others).values()) for name in names]
    assert len(set(pairs)) == len(pairs)
    assert style("dcae", others)["color"] == style("rcae", others)["color"]  # one family, two styles


def test_latex_table_escapes_names_and_caption():
    import pandas as pd

    frame = pd.DataFrame({"Detector": ["pyod:batch_size", "top 5%"], "AUC": ["61.0", "90.0"]})
    tex = tables.latex(frame, "batch_size = 64 & 5% of the images", "tab:x")
    assert r"pyod:batch\_size & 61.0 \\" in tex and r"top 5\% & 90.0 \\" in tex
    assert r"\caption{batch\_size = 64 \& 5\% of the images}" in tex
    assert "batch_size" not in tex and " 5%" not in tex


def test_latex_escape_escapes_every_special_character():
    assert tables.latex_escape("a\\b&c%d$e#f_g{h}i~j^k") == (
        r"a\textbackslash{}b\&c\%d\$e\#f\_g\{h\}i\textasciitilde{}j\textasciicircum{}k"
    )
    for char, escaped in {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }.items():
        assert tables.latex_escape(f"x{char}y") == f"x{escaped}y"
    assert tables.latex_escape("plain text, 0.5 ± 1 (ok)") == "plain text, 0.5 ± 1 (ok)"


def test_score_variants_sort_right_after_their_detector():
    from advbench.reports.report import table_order

    found = [
        "my-plugin[b]",
        "dual-adversarial[g]",
        "my-plugin",
        "ablation-single-ae",
        "dual-adversarial[latent]",
        "other-plugin",
        "ocsvm",
        "dual-adversarial",
        "my-plugin[a]",
        "ablation-single-ae[g]",
    ]
    assert table_order(found) == [
        "ocsvm",
        "dual-adversarial",
        "dual-adversarial[g]",
        "dual-adversarial[latent]",
        "ablation-single-ae",
        "ablation-single-ae[g]",
        "my-plugin",
        "my-plugin[b]",
        "my-plugin[a]",
        "other-plugin",
    ]
    plain = ["pyod:ECOD", "ocsvm", "zeta", "alpha", "dcae"]
    assert table_order(plain) == ["ocsvm", "dcae", "pyod:ECOD", "zeta", "alpha"]
