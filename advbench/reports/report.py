"""Render every table and figure of a run folder from what it stores (``advbench report DIR``).

Inputs: ``results.jsonl``, the scores under ``scores/``, ``run.json`` (the seeds, detectors and
attacks that every run into the folder asked for; optional) and, for the most-anomalous-images
figure only, the data file named in ``run.json``'s last run (or ``--data``), checked against the
stored sha256. Every input is read and checked before the first file is written, so a damaged
results line (cut short, not a results line, an AUC that is not a number in [0, 1]), an
incomplete pair (``results.read_checked``: a pair is never shown in part; ``advbench run``
computes it again), a missing scores file, scores that do not give their line's AUCs, another
data file or too few bootstrap resamples (``significance.check_resamples``) leaves the folder as
it was. Folders of MNIST-type benchmarks (one AUC per normal class) are rendered by ``oneclass``.

Rows are in table order (``table_order``): the registry's (Table 4's rows, then the ablation
presets), then other detectors as they first appear; each detector's score variants
(``<detector>[<variant>]``, ``advbench.score_variants``) right after it, in the order it gives them.
Score variants are rows of the tables only; the figures draw the detectors' own scores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from advbench.datasets import registry
from advbench.datasets.protocols import CLEAN_TEST
from advbench.detectors import names
from advbench.detectors import registry as detector_registry
from advbench.errors import AdvbenchError, DataError
from advbench.fileio import write_text_atomic
from advbench.reports import adaptive, budget, detection, entries, figures, oneclass, paper, significance, tables
from advbench.reports.view import FolderView
from advbench.runs import guard, history, intervals, pairing, results
from advbench.score_variants import DEFAULT_VARIANT, split_variant, without_variants

#: Files (besides results, scores and figures) that rendering writes; ``run --force`` removes them.
ARTIFACTS = tuple(
    sorted(
        {
            f"{stem}.{ext}"
            for stem in (
                "auc_table",
                "paired_table",
                "matched_table",
                "paper_comparison",
                "ablation_table",
                budget.STEM,
                adaptive.STEM,
            )
            for ext in ("md", "tex")
        }
        | set(oneclass.ARTIFACTS)
        | set(detection.FILES)
        | {entries.FILE}
    )
)
#: The folder of the figures (``run --force`` removes it).
FIGURES = figures.FOLDER
#: The tables of the three AUCs (``advbench.runs.metrics``): file stem, title, what a cell compares.
METRIC_TABLES = {
    "auc": (
        "auc_table",
        "AUC (%) per detector and attack",
        "clean test images are negatives, the attack's adversarial images positives",
    ),
    "paired_auc": (
        "paired_table",
        "Paired AUC (%) per detector and attack",
        "share of adversarial images scored above their own clean source (ties count one half); 50 when "
        "the perturbation does not move the score",
    ),
    "matched_auc": (
        "matched_table",
        "Matched AUC (%) per detector and attack",
        "the attack's kept adversarial images against the clean sources of exactly those images",
    ),
}
#: The rows of the paper's Table 1 only (``ablation_table``).
ABLATION_ONLY = detector_registry.ablation_only()
#: The single-autoencoder ablation drawn against the method in ``training_loss.png``, first found.
SINGLE_AE = detector_registry.loss_baselines()


def _ordered(first: list[str], records: list[dict], key: str) -> list[str]:
    out = list(first)
    for record in records:
        if record[key] not in out:
            out.append(record[key])
    return out


def table_order(detectors: list[str]) -> list[str]:
    """``detectors`` (row names) in table order (see the module docstring); the order within a
    detector's score variants, and among detectors the registry does not know, is kept."""
    known = names()  # Table 4's rows, then the ablation presets
    first_seen = list(dict.fromkeys(split_variant(name)[0] for name in detectors))

    def key(name: str) -> tuple[int, int, bool]:
        detector, variant = split_variant(name)
        rank = known.index(detector) if detector in known else len(known)
        return rank, first_seen.index(detector), variant != DEFAULT_VARIANT

    return sorted(detectors, key=key)


def _write_table(
    out: Path, stem: str, title: str, caption: str, frames: tuple, label: str, note: str = ""
) -> list[Path]:
    markdown_frame, latex_frame = frames
    write_text_atomic(out / f"{stem}.md", tables.markdown(markdown_frame, title, caption, note=note))
    write_text_atomic(out / f"{stem}.tex", tables.latex(latex_frame, caption, label, note))
    return [out / f"{stem}.md", out / f"{stem}.tex"]


def _data_sentence(data: dict | None) -> str:
    """What the benchmark file holds (``run.json``'s ``data``, ``sources.AttackFile.describe``):
    benchmark, its version (where recorded), normal class and the victim's test accuracy; empty for runs from
    before it was recorded."""
    if not data or "normal_class" not in data:
        return ""
    normal = data["normal_class"]
    normal = "every class normal" if data["class_name"] is None else f"normal class {normal} ({data['class_name']})"
    accuracy = data.get("victim_test_accuracy")
    victim = "" if accuracy is None else f"; victim test accuracy {100 * accuracy:.1f}%"
    version = f" ({data['version']})" if data.get("version") else ""
    return f"{data['label']}{version}, {normal}{victim}. "


def _where(records: list[dict], seeds: list[int], sha: str, data: dict | None = None) -> str:
    """The sentence every caption ends with: the data (``_data_sentence``), its file's sha256, seeds,
    protocol and training profile (one of each per folder, see ``guard``; lines from before they were
    recorded count as ``official`` and ``default``)."""
    settings = guard.line_settings(records[0])
    return (
        f"{_data_sentence(data)}Data sha256 {sha[:12]}; seeds {', '.join(map(str, seeds))}; protocol "
        f"{settings['protocol']}{_fitted_on(settings)}; training profile {settings['profile']}."
    )


def _fitted_on(settings: dict) -> str:
    """Under ``--protocol supervised``, what the supervised detectors were fitted on (else nothing)."""
    found = settings.get("fit_attack")
    return f" (supervised detectors fitted on the training attack set {found})" if found else ""


def paper_setting(data: dict | None, records: list[dict]) -> bool:
    """Whether a run stands beside the paper's Tables 1 and 4: its data is the paper's setting, GTSRB
    with the stop signs normal (runs from before the data was recorded in ``run.json`` are), and at
    least one of their detectors ran (a run of the victim-aware detectors alone has no row there)."""
    if not any(record["detector"] in paper.TABLE4 or record["detector"] in paper.TABLE1 for record in records):
        return False
    if not data or "normal_class" not in data:
        return True
    gtsrb = registry.get("gtsrb")
    return data.get("benchmark") == gtsrb.name and data["normal_class"] == gtsrb.default_normal_class


def _adversarial(attacks: list[str]) -> list[str]:
    """The attack sets among a run's columns (``clean-test`` is not one)."""
    return [attack for attack in attacks if attack != CLEAN_TEST]


def metric_cells(
    records: list[dict], detectors: list[str], attacks: list[str], seeds: list[int], stats
) -> dict[str, dict]:
    """``{metric: {(detector, attack): Cell}}`` of the three AUCs, annotated (intervals, bold) by
    ``stats`` (``significance.FolderStats``); ``clean-test`` has the unpaired AUC only."""
    adversarial = _adversarial(attacks)
    found = {}
    for metric in METRIC_TABLES:
        columns = attacks if metric == "auc" else adversarial
        cells = tables.collect(records, detectors, columns, seeds, metric)
        significance.annotate_table(cells, detectors, columns, stats.of(metric))
        found[metric] = cells
    return found


def render_tables(view: FolderView, beside_paper: bool = True) -> tuple[list[Path], dict[str, dict]]:
    """``auc_table``, ``paired_table``, ``matched_table`` and, with ``beside_paper`` (``paper_setting``),
    ``paper_comparison`` and (when an ablation variant ran) ``ablation_table``, .md and .tex; also
    returns the metric tables' cells (``metric_cells``).

    ``view.columns`` are the run's attacks (``clean-test`` among them under ``heldout-train``; it
    has an unpaired AUC only). Each caption ends with ``view.where`` (``_where``); ``view.stats``
    gives the intervals (shown with ``view.ci``) and the bold marks.
    """
    written, found = _metric_tables(view)
    if beside_paper:
        written += _paper_comparison(view)
        if any(r["detector"] in ABLATION_ONLY for r in view.records):
            written += _ablation_table(view)
    return written, found


def _metric_tables(view: FolderView) -> tuple[list[Path], dict[str, dict]]:
    """The tables of the three AUCs (``METRIC_TABLES``) and their annotated cells."""
    attacks, stats, ci = view.columns, view.stats, view.ci
    adversarial = _adversarial(attacks)
    written = []
    found = metric_cells(view.records, view.detectors, attacks, view.seeds, stats)
    for metric, (stem, title, compared) in METRIC_TABLES.items():
        columns = attacks if metric == "auc" else adversarial
        label = tables.METRICS[metric]
        caption = (
            f"{label[0].upper()}{label[1:]} in percent of each detector (rows) against each attack (columns): "
            f"{compared}; {significance.summary(ci)}. {view.where}"
        )
        written += _write_table(
            view.out,
            stem,
            title,
            caption,
            tuple(tables.auc_frame(found[metric], view.detectors, columns, latex, ci) for latex in (False, True)),
            f"tab:advbench-{stem.replace('_', '-')}",
            significance.footnote(
                stats.bootstrap, ci, True, tuple(map(tables.attack_label, stats.untested(metric, columns)))
            ),
        )
    return written, found


def _paper_comparison(view: FolderView) -> list[Path]:
    """Our AUC beside the paper's Table 4."""
    adversarial = _adversarial(view.columns)
    all_cells = tables.collect(view.records, list(paper.TABLE4), adversarial, view.seeds)
    significance.annotate_table(all_cells, list(paper.TABLE4), adversarial, view.stats.of("auc"), test=False)
    comparison_caption = (
        f"Our AUC in percent ({significance.summary(view.ci)}) beside Table 4 of {paper.CITATION} "
        f"(10 seeds, GTSRB stop signs). {view.where}"
    )
    return _write_table(
        view.out,
        "paper_comparison",
        "Our AUC (%) beside the paper's Table 4",
        comparison_caption,
        tuple(tables.comparison_frame(all_cells, adversarial, latex, view.ci) for latex in (False, True)),
        "tab:advbench-paper",
        significance.footnote(view.stats.bootstrap, view.ci),
    )


def _ablation_table(view: FolderView) -> list[Path]:
    """The ablation in the layout of the paper's Table 1: the mean over the attacks, then each attack."""
    records, stats, ci = view.records, view.stats, view.ci
    adversarial = _adversarial(view.columns)
    rows = list(paper.TABLE1)
    ablation_cells = tables.collect(records, rows, adversarial, view.seeds)
    significance.annotate_table(ablation_cells, rows, adversarial, stats.of("auc"), test=False)
    means = {d: tables.mean_over_attacks(records, d, adversarial, len(view.seeds)) for d in rows}
    parts = [(attack, None) for attack in adversarial]
    significance.annotate({"mean": {d: (means[d], stats.replicates(d, parts, "auc")) for d in rows}}, test=False)
    ablation_caption = (
        f"Ablation in the layout of Table 1 of {paper.CITATION}: AUC as a fraction. The paper gives one number "
        "per variant on STOP SIGN without saying which attack or attacks it covers; we compare it with our mean "
        f"AUC over the attacks ({', '.join(map(tables.attack_label, adversarial))}), averaged per seed, "
        f"then {significance.summary(ci)}; per-attack columns follow. {view.where}"
    )
    return _write_table(
        view.out,
        "ablation_table",
        "Ablation (Table 1 layout)",
        ablation_caption,
        tuple(tables.ablation_frame(records, ablation_cells, adversarial, latex, ci, means) for latex in (False, True)),
        "tab:advbench-ablation",
        significance.footnote(stats.bootstrap, ci),
    )


def _check_scores(out: Path, records: list[dict]) -> list[tuple]:
    """The finished pairs' keys; DataError naming the first whose scores file is missing."""
    keys = sorted({results.pair_key(r) for r in records if r["error"] is None}, key=str)
    for key in keys:
        path = results.scores_path(out, *key)
        if not path.is_file():
            raise DataError(f"{path}: missing scores file of a finished pair; run `advbench run` again to recompute it")
    return keys


def load_scores(out: Path, records: list[dict]) -> dict[str, dict[tuple, dict]]:
    """``{row: {(seed, normal class or None): scores}}`` of every finished row (a detector or one of
    its score variants, ``results.read_scores``); DataError when a scores file is missing."""
    _check_scores(out, records)
    scores: dict[str, dict[tuple, dict]] = {}
    for record in records:
        if record["error"] is not None:
            continue
        _, seed, normal_class = results.pair_key(record)
        by_seed = scores.setdefault(record["detector"], {})
        if (seed, normal_class) not in by_seed:
            path = results.scores_path(out, record["detector"], seed, normal_class)
            by_seed[seed, normal_class] = results.read_scores(path, split_variant(record["detector"])[1])
    return scores


def source_indices(bench, stored: dict, attack_sets: dict, scores: dict) -> dict[str, np.ndarray]:
    """``{attack: source_index}``: each adversarial image's row among the attack's sources, for the
    paired and matched AUCs' intervals and tests. From the data file ``bench`` when there; else from
    the folder's ``pairing.json`` (``stored``, ``runs.pairing``) for the sets it holds; else
    derived for each attack set that kept every image it attempted when it attempted every source
    (``attack_sets`` of ``run.json``: ``count == attempted ==`` the number of sources): the attack
    pipeline attacks the correctly classified sources in order and keeps its successes in order, so
    image ``i`` then comes from source ``i``. ``FolderStats.check`` verifies both against the
    stored paired and matched AUCs."""
    if bench is not None:
        return {name: attack.source_index for name, attack in bench.attacks.items()}
    found = next(iter(next(iter(scores.values())).values()))
    n_sources = len(found["attacks"].get(CLEAN_TEST, found["normal_test"]))
    derived = {
        name: np.arange(n_sources)
        for name, info in attack_sets.items()
        if info.get("count") == info.get("attempted") == n_sources
    }
    return derived | stored


def _benchmark(data: Path | None, sha: str, given: bool):
    """The data file when present and unchanged, else None: the most-anomalous figure needs its images,
    the paired and matched AUCs its pairing of adversarial images with their sources (``pairing``).
    Another file is an error when ``given`` (``--data``), else (the one ``run.json`` names, since
    rebuilt) a note."""
    from advbench.datasets.benchmark_file import read_benchmark

    skipped = "skipping the most-anomalous-images figure and the pairing it records"
    if data is None or not Path(data).is_file():
        print(f"advbench report: data file {data} not found; {skipped}", file=sys.stderr)
        return None
    bench = read_benchmark(data)
    if sha and bench.sha256 != sha:
        if given:
            raise AdvbenchError(f"--data {data}: sha256 {bench.sha256[:12]} differs from the run's data ({sha[:12]})")
        print(
            f"advbench report: data file {data} is not the run's (sha256 {bench.sha256[:12]}); {skipped}",
            file=sys.stderr,
        )
        return None
    return bench


def render_figures(out: Path, stored: dict, detectors: list[str], attacks: list[str], bench) -> list[Path]:
    """Every figure of ``figures.py`` that the stored scores (``_load_scores``) and the data file allow."""
    folder = out / figures.FOLDER
    scores = {d: stored[d] for d in detectors if d in stored}  # table order
    written = figures.roc_curves(folder, scores, attacks)
    for detector, by_seed in scores.items():
        seed = min(by_seed)
        written.append(figures.score_distributions(folder, detector, seed, by_seed[seed], attacks))
    method = detector_registry.method()
    if method in scores:
        seed = min(scores[method])
        if bench is not None:
            written.append(figures.most_anomalous(folder, method, seed, scores[method][seed], bench))
        single = next((name for name in SINGLE_AE if seed in scores.get(name, {})), None)
        if single is not None:
            curves = {
                f"{method} (dual autoencoder)": scores[method][seed]["history"],
                f"{single} (single autoencoder)": scores[single][seed]["history"],
            }
            written.append(figures.training_losses(folder, curves, seed))
    return written


def check_run_folder(out: str | Path) -> Path:
    """``out`` as a Path; AdvbenchError when it holds no ``results.jsonl``."""
    out = Path(out)
    if not (out / results.RESULTS).is_file():
        raise AdvbenchError(f"{out}: no {results.RESULTS} here (run `advbench run --out {out}` first)")
    return out


def render(
    out: str | Path,
    data: str | Path | None = None,
    ci: bool = False,
    resamples: int | None = None,
    bootstrap_seed: int | None = None,
    metrics: tuple[str, ...] | list[str] = ("auroc",),
) -> list[Path]:
    """Write all tables, figures and the leaderboard entries of the run folder ``out``; return the
    paths written. ``ci``: cells show their bootstrap interval. The bootstrap draws ``resamples``
    replicates (by default ``intervals.RESAMPLES``, raised to the fewest a folder of many rows
    needs; fewer than those is an AdvbenchError) from ``bootstrap_seed`` (default ``intervals.SEED``).
    ``metrics``: the figures of ``detection_metrics.NAMES`` that get a table besides AUROC's
    (``reports.detection``), and a column of each leaderboard entry."""
    out = check_run_folder(out)
    records = results.read_checked(out)
    if not records:
        raise AdvbenchError(f"{out / results.RESULTS}: holds no result yet")
    rows = len({record["detector"] for record in records})
    if resamples is None:
        resamples = max(intervals.RESAMPLES, significance.fewest_resamples(rows))
    bootstrap = intervals.Bootstrap(resamples, intervals.SEED if bootstrap_seed is None else bootstrap_seed)
    significance.check_resamples(bootstrap, rows)
    runs = history.read_runs(out)
    configs = [entry.get("config", {}) for entry in runs]
    seeds = tables.table_seeds(records, history.union(config.get("seeds", []) for config in configs))
    detectors = table_order(
        _ordered(history.union(config.get("detectors", []) for config in configs), records, "detector")
    )
    attacks = _ordered(history.union(entry.get("attacks", []) for entry in runs), records, "attack")
    last = runs[-1] if runs else {}
    sha = last.get("data_sha256") or records[0]["data_sha256"]
    scores = load_scores(out, records)
    if results.pair_key(records[0])[2] is not None:
        classes = sorted(
            set(history.union(entry.get("classes", []) for entry in runs)) | {int(r["normal_class"]) for r in records}
        )
        stats = significance.FolderStats(scores, records, seeds, bootstrap, by_class=True)
        stats.check()
        where = oneclass.where_sentence(records, seeds, sha)
        view = FolderView(out, records, detectors, classes, seeds, stats, where, ci)
        written, cells = oneclass.render(view)
        chosen, more = detection.render(view, scores, metrics)
        return written + chosen + [entries.write(out, records, runs, cells | more, seeds, stats)]
    given = data is not None
    bench = _benchmark(data if given else last.get("config", {}).get("data"), sha, given)
    attack_sets = {name: info for entry in runs for name, info in entry.get("attack_sets", {}).items()}
    paired = source_indices(bench, pairing.read(out, sha), attack_sets, scores)
    stats = significance.FolderStats(scores, records, seeds, bootstrap, paired)
    stats.check()
    view = FolderView(out, records, detectors, attacks, seeds, stats, _where(records, seeds, sha, last.get("data")), ci)
    written, cells = render_tables(view, paper_setting(last.get("data"), records))
    chosen, more = detection.render(view, scores, metrics)
    written += chosen
    sweeps = budget.sweeps(attack_sets, attacks)
    written += budget.render(view, attack_sets, sweeps, cells)
    written += adaptive.render(view, attack_sets)
    stored = {row: {seed: found for (seed, _), found in by_seed.items()} for row, by_seed in scores.items()}
    written += render_figures(out, stored, without_variants(detectors), _drawn(attacks, sweeps), bench)
    return written + [entries.write(out, records, runs, cells | more, seeds, stats)]


def _drawn(attacks: list[str], sweeps: dict[str, list]) -> list[str]:
    """The attacks that get ROC curves and histograms: of a family with a budget curve only its variant
    at the defaults (or, without one, its largest budget); every other attack set."""
    hidden = set()
    for points in sweeps.values():
        names = [name for name, _ in points]
        shown = next((name for name in names if "@" not in name), names[-1])
        hidden |= set(names) - {shown}
    return [attack for attack in attacks if attack not in hidden]
