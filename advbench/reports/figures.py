"""Figures of a run (matplotlib, Agg, PNG), drawn from the stored scores only.

- ``roc_<attack>.png``: ROC curves, one line per detector, averaged vertically over seeds (mean
  true-positive rate at each false-positive rate; Fawcett 2006), legend with the mean AUC.
- ``scores_<detector>.png``: histograms of the clean test scores against each attack's scores
  (lowest stored seed).
- ``budget_<family>.png``: the three AUCs (``advbench.runs.metrics``) against the attack budget,
  mean and a band of one standard deviation over seeds, one line per detector.

Every detector has its own colour and line style (``style``): detectors of one family share a
colour and differ in style; legends sit outside the axes.
- ``most_anomalous_<detector>.png``: the highest-scoring images among the clean test images and
  every attack's images pooled, adversarial ones framed in green (the paper's Figure 7).
- ``auc_per_class.png`` (MNIST-type folders): the AUC against the normal class, a line per
  detector, published numbers as crosses in the detector's colour.
- ``training_loss.png``: per-epoch losses of G and D of the dual-adversarial detector against its
  single-autoencoder ablation (the paper's Figure 4), and the norm of the gradient that each
  weighted term of eq. (1) sends into G's parameters (``grad_*`` of ``history_``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from advbench.detectors import registry as detector_registry
from advbench.fileio import atomic_path
from advbench.reports.tables import attack_label

#: The sub-folder of a run folder that holds its figures.
FOLDER = "figures"
FPR_GRID = np.linspace(0.0, 1.0, 201)
#: Colour and line style per built-in detector (its registry entry's): a colour per family, a style per member.
STYLES = detector_registry.styles()
_OTHER_COLOURS = ("tab:gray", "tab:olive", "tab:cyan", "black")
_OTHER_STYLES = ("-", "--", ":", "-.")


def style(detector: str, others: list[str]) -> dict:
    """Matplotlib ``color`` and ``linestyle`` of ``detector``; a detector without a style of its own
    gets the next free pair, by its place in ``others`` (the figure's detectors without one)."""
    if detector in STYLES:
        color, linestyle = STYLES[detector]
    else:
        index = others.index(detector)
        color, linestyle = _OTHER_COLOURS[index % 4], _OTHER_STYLES[(index // 4) % 4]
    return {"color": color, "linestyle": linestyle}


def _legend_outside(ax, title: str) -> None:
    ax.legend(fontsize=7, title=title, title_fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)


def _figure(*args, **kwargs):
    from matplotlib.figure import Figure

    return Figure(*args, **kwargs)


def _save(fig, path: Path) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    return path


def _mean_roc(pairs: list[dict], attack: str) -> tuple[np.ndarray, float]:
    from sklearn.metrics import roc_auc_score, roc_curve

    tprs, aucs = [], []
    for scores in pairs:
        clean, adversarial = scores["normal_test"], scores["attacks"][attack]
        labels = np.r_[np.zeros(len(clean)), np.ones(len(adversarial))]
        fpr, tpr, _ = roc_curve(labels, np.r_[clean, adversarial])
        tprs.append(np.interp(FPR_GRID, fpr, tpr))
        aucs.append(roc_auc_score(labels, np.r_[clean, adversarial]))
    return np.mean(tprs, axis=0), float(np.mean(aucs))


def roc_curves(folder: Path, scores: dict[str, dict[int, dict]], attacks: list[str]) -> list[Path]:
    """One figure per attack; ``scores`` maps detector -> seed -> stored scores."""
    written = []
    others = [d for d in scores if d not in STYLES]
    for attack in attacks:
        fig = _figure(figsize=(5.5, 5))
        ax = fig.add_subplot()
        for detector, by_seed in scores.items():
            pairs = [s for s in by_seed.values() if attack in s["attacks"]]
            if pairs:
                tpr, auc = _mean_roc(pairs, attack)
                ax.plot(
                    FPR_GRID, tpr, label=f"{detector} ({100 * auc:.1f}, {len(pairs)} seeds)", **style(detector, others)
                )
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set(
            xlabel="false positive rate (clean flagged)",
            ylabel="true positive rate (adversarial flagged)",
            title=f"ROC, {attack_label(attack)} vs. clean test (mean over seeds)",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        _legend_outside(ax, "detector (AUC %)")
        written.append(_save(fig, folder / f"roc_{_file_name(attack)}.png"))
    return written


def score_distributions(folder: Path, detector: str, seed: int, scores: dict, attacks: list[str]) -> Path:
    """Histograms of clean test scores against each attack's scores, one panel per attack of ``attacks``
    that the pair scored (a detector run on fewer attacks than the folder's gets fewer panels; five per row)."""
    attacks = [attack for attack in attacks if attack in scores["attacks"]]
    columns = min(len(attacks), 5)
    rows = math.ceil(len(attacks) / columns)
    fig = _figure(figsize=(3.2 * columns, 3 * rows))
    clean = scores["normal_test"]
    for index, attack in enumerate(attacks, 1):
        ax = fig.add_subplot(rows, columns, index)
        adversarial = scores["attacks"][attack]
        bins = np.histogram_bin_edges(np.r_[clean, adversarial], bins=30)
        ax.hist(clean, bins=bins, alpha=0.6, density=True, label=f"clean ({len(clean)})")
        ax.hist(adversarial, bins=bins, alpha=0.6, density=True, label=f"{attack_label(attack)} ({len(adversarial)})")
        ax.set(title=attack_label(attack), xlabel="anomaly score")
        ax.legend(fontsize=7)
    fig.suptitle(f"{detector}, seed {seed}: score distributions")
    return _save(fig, folder / f"scores_{detector}.png")


def _file_name(attack: str) -> str:
    """An attack set's name as part of a file name (``fgsm@eps=4/255`` -> ``fgsm@eps=4-255``)."""
    return attack.replace("/", "-")


def budget_curves(
    folder: Path,
    family: str,
    points: list[tuple[str, float]],
    cells: dict[str, dict],
    detectors: list[str],
    xlabel: str,
) -> Path:
    """One panel per metric of ``cells`` (metric -> ``tables.collect`` cells): mean and one standard
    deviation over seeds against the budget (``points``: variant name and budget, ascending)."""
    from advbench.reports.tables import METRICS

    fig = _figure(figsize=(4.6 * len(cells), 4.2))
    others = [d for d in detectors if d not in STYLES]
    x = np.array([value for _, value in points])
    for index, (metric, by_cell) in enumerate(cells.items(), 1):
        ax = fig.add_subplot(1, len(cells), index)
        for detector in detectors:
            stats = [by_cell[detector, name] for name, _ in points]
            mean = np.array([100 * c.mean if c.values else np.nan for c in stats])
            std = np.array([100 * c.std if len(c.values) > 1 else 0.0 for c in stats])
            if np.isnan(mean).all():
                continue
            line_style = style(detector, others)
            ax.plot(x, mean, marker="o", markersize=3, label=detector, **line_style)
            ax.fill_between(x, mean - std, mean + std, color=line_style["color"], alpha=0.12, linewidth=0)
        ax.axhline(50, color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{value:g}" for value in x], fontsize=7)
        ax.minorticks_off()
        ax.set(xlabel=xlabel, ylabel=f"{METRICS[metric]} (%)", ylim=(0, 100), title=METRICS[metric])
    _legend_outside(ax, "detector")
    fig.suptitle(f"{attack_label(family)}: AUC against the attack budget (mean and one std over seeds)")
    return _save(fig, folder / f"budget_{family}.png")


def _image(bench, scores: dict, source: str, row: int) -> np.ndarray:
    """The image that row ``row`` of a scored set holds: the normal test set (the held-out training
    rows under ``heldout-train``), ``clean-test`` (the official test images) or an attack set."""
    if source == "clean":
        held_out = scores.get("test_rows")
        return bench.normal_test[row] if held_out is None else bench.normal_train[held_out[row]]
    if source == "clean-test":
        return bench.normal_test[row]
    return bench.attacks[source].images[row]


def most_anomalous(folder: Path, detector: str, seed: int, scores: dict, bench, count: int = 32) -> Path:
    """The ``count`` highest-scoring images of clean test + all attacks, adversarial ones framed green."""
    from matplotlib.patches import Rectangle

    pool = [("clean", i, s) for i, s in enumerate(scores["normal_test"])]
    for attack, values in scores["attacks"].items():
        pool += [(attack, i, s) for i, s in enumerate(values)]
    top = sorted(pool, key=lambda item: -item[2])[:count]
    columns = 8
    rows = math.ceil(len(top) / columns)
    fig = _figure(figsize=(columns * 1.2, rows * 1.35 + 0.5))
    clean = ("clean", "clean-test")
    for index, (source, row, score) in enumerate(top, 1):
        image = _image(bench, scores, source, row)
        ax = fig.add_subplot(rows, columns, index)
        ax.imshow(np.transpose(image, (1, 2, 0)), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if source not in clean:
            ax.add_patch(
                Rectangle((-0.5, -0.5), image.shape[2], image.shape[1], fill=False, edgecolor="limegreen", linewidth=4)
            )
        ax.set_title(f"{attack_label(source)}\n{score:.3g}", fontsize=6)
    n_adv = sum(source not in clean for source, _, _ in top)
    fig.suptitle(
        f"{detector}, seed {seed}: {len(top)} most anomalous test images ({n_adv} adversarial, green frame)", fontsize=9
    )
    return _save(fig, folder / f"most_anomalous_{detector}.png")


def _series(history, key: str) -> tuple[list[int], list[float]]:
    points = [
        (record["epoch"], record[key])
        for record in history or []
        if isinstance(record, dict) and record.get(key) is not None and math.isfinite(record[key])
    ]
    return [p[0] for p in points], [p[1] for p in points]


#: Gradient-norm columns of the dual detector's history and their legend labels (terms of eq. 1).
GRAD_LABELS = {
    "grad_irec": "w_i L_irec",
    "grad_adv": "w_a L_adv",
    "grad_zrec": "w_z L_zrec",
    "grad_dual": "w_d L_dual (G side)",
    "grad_e": "w_e L_e",
    "grad_total": "total",
}


def training_losses(folder: Path, curves: dict[str, list[dict]], seed: int) -> Path:
    """Per-epoch G and D losses of each detector in ``curves`` (name -> its ``history_``), and the
    per-term gradient norms into G of the first detector that recorded them."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(figsize=(15, 3.8))
    for index, (key, title) in enumerate((("loss_g", "G (generator) loss"), ("loss_d", "D (discriminator) loss")), 1):
        ax = fig.add_subplot(1, 3, index)
        for name, history in curves.items():
            epochs, values = _series(history, key)
            if values:
                ax.plot(epochs, values, marker="o", markersize=3, label=name)
        ax.set(title=title, xlabel="epoch", ylabel="mean loss over the epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 3, 3)
    with_grads = [(name, history) for name, history in curves.items() if _series(history, "grad_total")[1]]
    if with_grads:
        name, history = with_grads[0]
        for key, label in GRAD_LABELS.items():
            epochs, values = _series(history, key)
            if values:
                ax.plot(
                    epochs,
                    values,
                    marker="o",
                    markersize=3,
                    label=label,
                    linestyle="--" if key == "grad_total" else "-",
                )
        ax.set_yscale("log")
        ax.legend(fontsize=7)
        ax.set_title(f"{name}: gradient norm into G per term", fontsize=10)
    ax.set(xlabel="epoch", ylabel="||d term / d theta_G||")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Training losses, seed {seed}: dual autoencoder vs. single autoencoder")
    return _save(fig, folder / "training_loss.png")


def auc_per_class(
    folder: Path, classes: list[int], means: dict[str, list[float]], marks: dict[str, list[float]], title: str
) -> Path:
    """``auc_per_class.png``: ``means[detector]`` (AUC % per class) as lines, ``marks[detector]`` as crosses."""
    fig = _figure(figsize=(7.5, 4.0))
    ax = fig.add_subplot()
    others = [d for d in means if d not in STYLES]
    for detector, values in means.items():
        look = style(detector, others)
        ax.plot(classes, values, marker="o", markersize=3, label=detector, **look)
        if detector in marks:
            ax.plot(classes, marks[detector], linestyle="none", marker="x", markersize=5, color=look["color"])
    ax.set_xticks(classes)
    ax.set_xlabel("normal class")
    ax.set_ylabel("AUC (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    _legend_outside(ax, "detector")
    return _save(fig, folder / "auc_per_class.png")
