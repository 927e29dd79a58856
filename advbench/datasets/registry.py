"""The benchmark registry: one entry per benchmark that ``advbench`` can read.

An entry (``Benchmark``) holds everything that differs between benchmarks: its loader and
download, image shape, classes and their names, default location and environment variable, what
``advbench run`` reads (``run_source``), its protocols, the victim's training settings and the
attack budgets of ``generate-attacks`` with their sources, and the detectors' preprocessing
defaults with their sources. Everything else asks the registry (``get(name)``); no other module
compares benchmark names.

Victims (``attacks.victim``: one VGG-style CNN whose input and class count follow the image shape
and classes): GTSRB keeps ``VictimConfig``'s defaults (8 epochs with augmentation); MNIST and
Fashion-MNIST train without augmentation (the literature's victims use none) for the epochs in
``_IDX_VICTIMS``, measured to reach >= 99.0 % and >= 90 % test accuracy (``docs/commands.md``).

Attack budgets (``generate-attacks``, under ``--config``/``--set``): GTSRB keeps the attack
registry's defaults, those of the paper's stop-sign setting. MNIST takes the budgets of the
detection literature: FGSM at L-inf 0.3 and BIM at 0.3 with 50 steps of 0.01 (Feinman et al.
2017, ``rfeinman/detecting-adversarial-samples scripts/craft_adv_samples.py``, which LID's code
reuses), PGD at 0.3 with 40 steps of 0.01 from a random start (Madry et al. 2018,
``MadryLab/mnist_challenge config.json``). Fashion-MNIST has no budget in those detection papers;
it takes L-inf 0.1, the Fashion-MNIST budget of Wong and Kolter (ICML 2018,
``locuslab/convex_adversarial examples/fashion_mnist.py``), with MNIST's step sizes and counts.
DeepFool and C&W are minimal-perturbation attacks and Boundary a decision-based one: they keep
the attack registry's settings everywhere.

Detector defaults follow the reference scripts of the baselines, lukasruff/Deep-SVDD
``src/scripts/<dataset>_<method>.sh``; the values and their sources are in each detector's entry
of ``detectors.registry`` (``grey_defaults``), which a benchmark takes or not:

- GTSRB: every detector keeps its own default. The scripts pass ``--gcn 0`` for every method
  on GTSRB, which is every detector's default here; their ``--pca`` is a script argument with no
  published GTSRB value, so IF keeps none.
- MNIST: ``--gcn 1`` for IF, the DCAE and both Deep SVDDs (``mnist_if.sh``, ``mnist_cae.sh``,
  ``mnist_svdd.sh``), none for OC-SVM and KDE (``mnist_ocsvm.sh``, ``mnist_kde.sh``); RCAE, the
  DCAE plus a sparse matrix, takes the DCAE's. IF also takes ``pca=0.95``: Deep SVDD's published
  IF numbers (its Table 1) are those of ``--pca 1``, PCA keeping 95 % of the variance after GCN
  (98.1 on digit 0 against 98.0 published; without PCA 91.1; ``reports/mnist-oneclass``).
- Fashion-MNIST: the reference publishes no Fashion-MNIST runs; its MNIST settings apply to both
  28 x 28 grey-scale benchmarks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from advbench.errors import AdvbenchError

#: What ``advbench run`` reads for a benchmark without ``--data``: a benchmark file of
#: ``generate-attacks`` (``--data`` required; one normal class, or all, the attacks are the anomaly
#: sets) or the labelled images themselves (``--root``; every class normal in turn, the other classes
#: anomalous). A benchmark file of any benchmark is read with ``--data``.
ATTACK_FILE = "attack-file"
LABELLED_IMAGES = "labelled-images"

#: Default data folder (git-ignored): downloaded archives, parsed caches, built HDF5 files.
DEFAULT_DATA_DIR = "datasets"

_DEEP_SVDD_SCRIPTS = "lukasruff/Deep-SVDD src/scripts"


def _load_gtsrb(root: Path, data_dir: Path, progress: bool):
    from advbench.datasets.gtsrb import load_gtsrb

    return load_gtsrb(root, cache_dir=Path(data_dir) / "cache", progress=progress)


def _download_gtsrb(target: Path, progress: bool) -> Path:
    from advbench.datasets.download import download_gtsrb

    return download_gtsrb(target, progress=progress)


@dataclass(frozen=True)
class Benchmark:
    """One benchmark (see the module docstring)."""

    name: str
    label: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    env_var: str
    run_source: str
    protocols: tuple[str, ...]
    load: Callable = field(repr=False)
    download: Callable = field(repr=False)
    #: The class ``generate-attacks`` makes normal unless ``--normal-class`` says otherwise (None: all).
    default_normal_class: int | None = None
    #: The victim of ``generate-attacks``: settings over ``attacks.victim.VictimConfig``'s defaults
    #: (sized for GTSRB: 8 epochs reach >= 95 % test accuracy).
    victim: dict = field(default_factory=dict)
    #: ``generate-attacks``' attack parameters: family -> values over the attack registry's defaults.
    attack_params: dict[str, dict] = field(default_factory=dict)
    #: Where each family's values in ``attack_params`` come from.
    attack_sources: dict[str, str] = field(default_factory=dict)
    #: The detectors take the preprocessing defaults of the 28 x 28 grey-scale benchmarks (their
    #: registry entries' ``grey_defaults``); else each keeps its own.
    grey_detector_defaults: bool = False
    #: Where the detectors' defaults come from: prefixed to each entry's source, or, where each
    #: detector keeps its own, the one source of that choice.
    detector_source_note: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def default_root(self, data_dir: str | os.PathLike = DEFAULT_DATA_DIR) -> Path:
        """``$<env_var>`` when set, else ``<data_dir>/<name>``."""
        return Path(os.environ.get(self.env_var) or Path(data_dir) / self.name)

    @property
    def detector_defaults(self) -> dict[str, dict]:
        """The preprocessing defaults this benchmark sets, by detector (``detectors.registry``)."""
        if not self.grey_detector_defaults:
            return {}
        from advbench.detectors.registry import grey_defaults

        return grey_defaults()[0]

    @property
    def detector_sources(self) -> dict[str, str]:
        """Where each of ``detector_defaults`` comes from (``"*"``: every detector keeps its own)."""
        if not self.grey_detector_defaults:
            return {"*": self.detector_source_note}
        from advbench.detectors.registry import grey_defaults

        return {name: f"{self.detector_source_note}{source}" for name, source in grey_defaults()[1].items()}

    def detector_params(self, detector: str) -> dict:
        """The preprocessing defaults this benchmark sets for ``detector`` (empty: the detector's own)."""
        return dict(self.detector_defaults.get(detector, {}))

    def class_slug(self, normal_class: int | str) -> str:
        """A file-name word for ``normal_class`` (a class id, or ``all``): its name, lower case, with
        ``-`` for spaces and slashes (GTSRB's class 14 is ``stop``)."""
        if normal_class == "all":
            return "all"
        name = self.class_names[int(normal_class)].lower()
        return "-".join(name.replace("/", " ").split())

    def check_class(self, normal_class: int, flag: str = "--normal-class") -> int:
        """``normal_class`` when it is one of the benchmark's classes; AdvbenchError naming ``flag`` otherwise."""
        if not 0 <= normal_class < self.num_classes:
            raise AdvbenchError(f"{flag} {normal_class}: must be a {self.label} class id in 0..{self.num_classes - 1}")
        return normal_class


GTSRB_CLASSES = (
    "speed limit 20",
    "speed limit 30",
    "speed limit 50",
    "speed limit 60",
    "speed limit 70",
    "speed limit 80",
    "end of speed limit 80",
    "speed limit 100",
    "speed limit 120",
    "no passing",
    "no passing for trucks",
    "right of way at next intersection",
    "priority road",
    "yield",
    "stop",
    "no vehicles",
    "no trucks",
    "no entry",
    "general caution",
    "dangerous curve left",
    "dangerous curve right",
    "double curve",
    "bumpy road",
    "slippery road",
    "road narrows on the right",
    "road work",
    "traffic signals",
    "pedestrians",
    "children crossing",
    "bicycles crossing",
    "beware of ice/snow",
    "wild animals crossing",
    "end of all limits",
    "turn right ahead",
    "turn left ahead",
    "ahead only",
    "go straight or right",
    "go straight or left",
    "keep right",
    "keep left",
    "roundabout mandatory",
    "end of no passing",
    "end of no passing for trucks",
)
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: Victim settings of the 28 x 28 grey-scale benchmarks (see the module docstring).
_IDX_VICTIMS = {
    "mnist": {"epochs": 4, "augment": False},
    "fashion-mnist": {"epochs": 8, "augment": False},
}
_FEINMAN = "Feinman et al. 2017, rfeinman/detecting-adversarial-samples scripts/craft_adv_samples.py"
_MADRY = "Madry et al. 2018, MadryLab/mnist_challenge config.json"
_WONG_KOLTER = "Wong and Kolter 2018, locuslab/convex_adversarial examples/fashion_mnist.py"
_ANDRIUSHCHENKO = "Andriushchenko et al. 2020, Square Attack (their MNIST experiments at L-inf 0.3)"


def _linf_budgets(eps: float) -> dict[str, dict]:
    """FGSM, BIM, PGD and Square at L-inf ``eps``, with the MNIST literature's step sizes and counts."""
    return {
        "fgsm": {"eps": eps},
        "bim": {"eps": eps, "alpha": 0.01, "steps": 50},
        "pgd": {"eps": eps, "alpha": 0.01, "steps": 40},
        "square": {"eps": eps},
    }


_IDX_ATTACKS = {
    "mnist": (
        _linf_budgets(0.3),
        {
            "fgsm": f"eps 0.3: {_FEINMAN}",
            "bim": f"eps 0.3, 50 steps of 0.01: {_FEINMAN}",
            "pgd": f"eps 0.3, 40 steps of 0.01, random start: {_MADRY}",
            "square": f"eps 0.3: {_ANDRIUSHCHENKO}",
        },
    ),
    "fashion-mnist": (
        _linf_budgets(0.1),
        {
            "fgsm": f"eps 0.1: {_WONG_KOLTER}",
            "bim": f"eps 0.1: {_WONG_KOLTER}; 50 steps of 0.01 as on MNIST ({_FEINMAN})",
            "pgd": f"eps 0.1: {_WONG_KOLTER}; 40 steps of 0.01 as on MNIST ({_MADRY})",
            "square": f"eps 0.1: {_WONG_KOLTER}, as FGSM",
        },
    ),
}


def _idx_benchmark(name: str, label: str, class_names: tuple[str, ...], note: str) -> Benchmark:
    """A 28 x 28 grey-scale benchmark read from its four IDX files (``datasets.mnist``), every class
    normal in turn under protocols 2 (the default) and 1."""

    def load(root: Path, data_dir: Path, progress: bool):
        from advbench.datasets import mnist

        return mnist.load(name, root)

    def download(target: Path, progress: bool) -> Path:
        from advbench.datasets import mnist

        return mnist.download(name, target, progress=progress)

    return Benchmark(
        name=name,
        label=label,
        image_shape=(1, 28, 28),
        class_names=class_names,
        env_var=f"ADVBENCH_{name.upper().replace('-', '_')}_ROOT",
        run_source=LABELLED_IMAGES,
        protocols=("2", "1"),
        load=load,
        download=download,
        victim=_IDX_VICTIMS[name],
        attack_params=_IDX_ATTACKS[name][0],
        attack_sources=_IDX_ATTACKS[name][1],
        grey_detector_defaults=True,
        detector_source_note=note,
    )


_REGISTRY: dict[str, Benchmark] = {
    "gtsrb": Benchmark(
        name="gtsrb",
        label="GTSRB",
        image_shape=(3, 32, 32),
        class_names=GTSRB_CLASSES,
        env_var="ADVBENCH_GTSRB_ROOT",
        run_source=ATTACK_FILE,
        protocols=("official", "heldout-train"),
        load=_load_gtsrb,
        download=_download_gtsrb,
        default_normal_class=14,
        victim={},
        detector_source_note=f"{_DEEP_SVDD_SCRIPTS}/gtsrb_*.sh (--gcn 0 for every method: each detector's default)",
    ),
    "mnist": _idx_benchmark("mnist", "MNIST", tuple(str(digit) for digit in range(10)), ""),
    "fashion-mnist": _idx_benchmark(
        "fashion-mnist",
        "Fashion-MNIST",
        FASHION_MNIST_CLASSES,
        "as MNIST: ",
    ),
}

#: The benchmark of a result line or command that names none (lines written before benchmarks had names).
DEFAULT = "gtsrb"


def names() -> list[str]:
    """The registered benchmark names, the default first."""
    return list(_REGISTRY)


def get(name: str | None, flag: str = "--benchmark") -> Benchmark:
    """The entry of ``name`` (None: ``DEFAULT``); AdvbenchError naming ``flag`` for an unknown one."""
    entry = _REGISTRY.get(DEFAULT if name is None else name)
    if entry is None:
        raise AdvbenchError(f"{flag}: expected one of {', '.join(_REGISTRY)}; got {name!r}")
    return entry


def of_record(record: dict) -> Benchmark:
    """The benchmark of a result line (lines from before the field existed are GTSRB's)."""
    return get(record.get("benchmark"), "results line")
