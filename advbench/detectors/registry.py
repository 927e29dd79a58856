"""The built-in detectors: one typed entry per name, and the named groups of ``run --detectors``.

An entry holds everything the suite knows of a detector besides its code: the class that
implements it and the preset parameters that make this name of it (the paper's ablations are
presets of one class), its line in ``advbench list``, the groups it belongs to, its part in the
paper's tables and figures, its colour in the figures, and the preprocessing defaults the 28 x 28
grey-scale benchmarks (MNIST, Fashion-MNIST) give it, with their source (``datasets.registry``).
Nothing here imports a detector's module, so listing names does not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_DEEP_SVDD_SCRIPTS = "lukasruff/Deep-SVDD src/scripts"
_DUAL = "advbench.detectors.dual_adversarial"


@dataclass(frozen=True)
class DetectorEntry:
    """One built-in detector (see the module docstring)."""

    name: str
    module: str
    cls: str
    preset: dict = field(default_factory=dict)
    #: Its line in ``advbench list``; None: the class's ``description``.
    description: str | None = None
    #: Matplotlib colour and line style: a colour per family, a style per member.
    style: tuple[str, str] | None = None
    #: A row of the paper's Table 1 (the ablation) only, not of its Table 4.
    ablation: bool = False
    #: The paper's method: the figures of its most anomalous images and of its training losses.
    method: bool = False
    #: A single-autoencoder ablation drawn beside the method's training losses; the lowest rank found.
    loss_baseline_rank: int | None = None
    #: Preprocessing defaults on the 28 x 28 grey-scale benchmarks, and where they come from.
    grey_defaults: dict | None = None
    grey_source: str | None = None


def _ablation(name: str, row: int, description: str, discriminator: bool, dual: bool, style: str, rank=None):
    """A row of the paper's Table 1: the dual-adversarial detector without some of its parts."""
    preset = {"use_discriminator": discriminator, "use_dual": dual, "use_latent_regularizer": False}
    return DetectorEntry(
        name,
        _DUAL,
        "DualAdversarialDetector",
        preset,
        f"Ablation (Table 1 row {row}): {description}",
        ("tab:red", style),
        ablation=True,
        loss_baseline_rank=rank,
    )


def _grey(params: dict, script: str) -> dict:
    """The ``grey_defaults`` and ``grey_source`` of a detector whose MNIST setting is ``script``'s."""
    return {"grey_defaults": params, "grey_source": f"{_DEEP_SVDD_SCRIPTS}/{script}"}


_ENTRIES = (
    DetectorEntry(
        "ocsvm",
        "advbench.detectors.ocsvm",
        "OCSVMDetector",
        style=("tab:blue", "-"),
        **_grey({"gcn": False}, "mnist_ocsvm.sh (no --gcn)"),
    ),
    DetectorEntry(
        "kde",
        "advbench.detectors.kde",
        "KDEDetector",
        style=("tab:orange", "-"),
        **_grey({"gcn": False}, "mnist_kde.sh (no --gcn)"),
    ),
    DetectorEntry(
        "iforest",
        "advbench.detectors.iforest",
        "IForestDetector",
        style=("tab:green", "-"),
        **_grey({"gcn": True, "pca": 0.95}, "mnist_if.sh (--gcn 1 --pca 1: 95 % of the variance, as its Table 1)"),
    ),
    DetectorEntry("mahalanobis", "advbench.detectors.mahalanobis", "MahalanobisDetector", style=("tab:pink", "-")),
    DetectorEntry(
        "dcae",
        "advbench.detectors.dcae",
        "DCAEDetector",
        style=("tab:purple", "-"),
        **_grey({"gcn": True}, "mnist_cae.sh (--gcn 1)"),
    ),
    DetectorEntry(
        "deep-svdd",
        "advbench.detectors.deep_svdd",
        "DeepSVDDDetector",
        {"objective": "one-class"},
        "One-class Deep SVDD (Ruff et al. 2018), AE-pretrained LeNet encoder; squared distance to centre",
        ("tab:brown", "-"),
        **_grey({"gcn": True}, "mnist_svdd.sh (--gcn 1)"),
    ),
    DetectorEntry(
        "deep-svdd-soft",
        "advbench.detectors.deep_svdd",
        "DeepSVDDDetector",
        {"objective": "soft-boundary"},
        "Soft-boundary Deep SVDD (nu=0.1), AE-pretrained LeNet encoder; distance^2 - R^2",
        ("tab:brown", "--"),
        **_grey({"gcn": True}, "mnist_svdd.sh (--gcn 1)"),
    ),
    DetectorEntry(
        "rcae",
        "advbench.detectors.rcae",
        "RCAEDetector",
        style=("tab:purple", "--"),
        grey_defaults={"gcn": True},
        grey_source=f"the DCAE's, {_DEEP_SVDD_SCRIPTS}/mnist_cae.sh (--gcn 1)",
    ),
    DetectorEntry("dual-adversarial", _DUAL, "DualAdversarialDetector", style=("tab:red", "-"), method=True),
    _ablation("ablation-single-ae", 1, "single autoencoder, L1 reconstruction only", False, False, ":", 2),
    _ablation("ablation-single-ae-d", 2, "single autoencoder + image discriminator", True, False, "-.", 1),
    _ablation("ablation-dual-ae-d", 3, "dual autoencoder + discriminator, no MI/KL", True, True, "--"),
    DetectorEntry(
        "feature-squeezing",
        "advbench.detectors.feature_squeezing",
        "FeatureSqueezingDetector",
        style=("goldenrod", "-."),
    ),
    DetectorEntry("magnet", "advbench.detectors.magnet", "MagNetDetector", style=("teal", ":")),
    DetectorEntry(
        "victim-mahalanobis",
        "advbench.detectors.victim_mahalanobis",
        "VictimMahalanobisDetector",
        style=("teal", "-"),
    ),
    DetectorEntry("kd", "advbench.detectors.kd", "KDDetector", style=("teal", "--")),
    DetectorEntry("lid", "advbench.detectors.lid", "LIDDetector", style=("teal", "-.")),
    DetectorEntry("nic", "advbench.detectors.nic", "NICDetector", style=("darkolivegreen", "--")),
    DetectorEntry("bu", "advbench.detectors.bu", "BUDetector", style=("goldenrod", ":")),
    DetectorEntry("msp", "advbench.detectors.msp", "MSPDetector", style=("goldenrod", "-")),
    DetectorEntry("energy", "advbench.detectors.energy", "EnergyDetector", style=("goldenrod", "--")),
    DetectorEntry("kd-bu", "advbench.detectors.kd_bu", "KDBUDetector", style=("purple", "--")),
    DetectorEntry(
        "lid-supervised", "advbench.detectors.lid_supervised", "SupervisedLIDDetector", style=("purple", "-.")
    ),
    DetectorEntry(
        "mahalanobis-supervised",
        "advbench.detectors.mahalanobis_supervised",
        "SupervisedMahalanobisDetector",
        style=("purple", "-"),
    ),
)

#: The built-in detectors by name, in table order: Table 4's rows, the ablation presets, the
#: detectors that look through the victim, then the supervised ones (``--protocol supervised``).
ENTRIES: dict[str, DetectorEntry] = {entry.name: entry for entry in _ENTRIES}

#: Named groups accepted by ``advbench run --detectors``, each in the order it runs.
GROUPS: dict[str, tuple[str, ...]] = {
    "all": (
        "ocsvm",
        "kde",
        "iforest",
        "mahalanobis",
        "dcae",
        "deep-svdd",
        "deep-svdd-soft",
        "rcae",
        "dual-adversarial",
    ),
    "ablation": ("ablation-single-ae", "ablation-single-ae-d", "ablation-dual-ae-d", "dual-adversarial"),
    "classic": ("ocsvm", "kde", "iforest", "mahalanobis"),
    "deep": ("dcae", "deep-svdd", "deep-svdd-soft", "rcae", "dual-adversarial"),
    "pyod": ("pyod:ECOD", "pyod:COPOD", "pyod:HBOS", "pyod:IForest", "pyod:KNN", "pyod:LOF"),
    "victim": ("feature-squeezing", "magnet", "victim-mahalanobis", "kd", "bu", "msp", "energy"),
    "supervised": ("kd-bu", "lid-supervised", "mahalanobis-supervised"),
}


def ablation_only() -> tuple[str, ...]:
    """The rows of the paper's Table 1 that are not rows of its Table 4."""
    return tuple(name for name, entry in ENTRIES.items() if entry.ablation)


def method() -> str:
    """The paper's method."""
    return next(name for name, entry in ENTRIES.items() if entry.method)


def loss_baselines() -> tuple[str, ...]:
    """The single-autoencoder ablations drawn beside the method's training losses, first choice first."""
    ranked = [(entry.loss_baseline_rank, name) for name, entry in ENTRIES.items() if entry.loss_baseline_rank]
    return tuple(name for _, name in sorted(ranked))


def styles() -> dict[str, tuple[str, str]]:
    """Colour and line style of every built-in detector that has one."""
    return {name: entry.style for name, entry in ENTRIES.items() if entry.style}


def grey_defaults() -> tuple[dict[str, dict], dict[str, str]]:
    """The preprocessing defaults of the 28 x 28 grey-scale benchmarks by detector, and their sources."""
    found = {name: entry for name, entry in ENTRIES.items() if entry.grey_defaults is not None}
    return {name: dict(e.grey_defaults) for name, e in found.items()}, {n: e.grey_source for n, e in found.items()}
