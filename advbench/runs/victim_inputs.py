"""What the victim-aware detectors of a run use: the victim and the reference data.

A detector that looks through the victim (``BaseDetector.needs_victim``) is fitted with
``victim=`` and, when it also ``needs_reference``, ``reference=`` (the victim's clean training
images of every class, a seeded class-stratified sample, ``datasets.reference``). One-class
detectors get neither, and their result lines and config hashes hold no ``uses``.

- ``victim_for_run`` is the one place that says where a run's victim comes from: ``--victim PATH``,
  a checkpoint written by ``advbench generate-attacks`` (cached beside the benchmark file as
  ``victim-<key>.pt``), when given; else the victim stored in the benchmark file itself (schema 4
  on), identified by the sha256 of its weights.
- ``resolve`` runs before the first pair: it loads the victim, checks it against the data (it must
  take the images' shape; when the file records its victim's sha256, it must be that checkpoint),
  builds the reference sample when a detector needs it and returns the picklable ``Inputs`` that
  every pair's task carries. Each problem is an AdvbenchError (one line, exit 2).
- The reference sample: a file with every class normal (``--normal-class all``) carries it, its
  ``/normal/train``, the class-stratified sample of the victim's training split that the one-class
  detectors train on, with its labels; the file alone is then enough. Otherwise it is drawn from
  the training split of the benchmark's labelled images (GTSRB from ``--gtsrb-root``, whose
  content must be the one the file was built from).
- ``given`` is what a pair's detector is fitted with, loaded once per process (``--jobs`` workers
  and Ray tasks load it themselves, and stop with a DataError when the victim or the reference
  changed since the run began).
- ``Inputs.record`` is what a result line records (``uses``) and what the detector's config hash
  includes: the victim's checkpoint sha256, the reference's size, seed and sha256.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advbench.datasets import allclasses, registry
from advbench.datasets.reference import REFERENCE_SEED, REFERENCE_SIZE, Reference, stratified_sample
from advbench.errors import AdvbenchError, DataError
from advbench.fileio import sha256_file

_CACHE: dict = {}


@dataclass(frozen=True)
class VictimSource:
    """Where a run's victim comes from: a checkpoint file and its sha256 (``flag`` ``--victim``), or a
    benchmark file and the sha256 of the victim weights it stores (``flag`` ``--data``)."""

    path: str
    sha256: str
    flag: str = "--victim"

    @property
    def in_file(self) -> bool:
        """Whether the victim is the one stored in the benchmark file."""
        return self.flag == "--data"


@dataclass(frozen=True)
class ReferenceSource:
    """How a run's reference sample is drawn (the benchmark's labelled images at ``root``, or the
    ``/normal/train`` of the benchmark file at ``root`` when ``in_file``) and its sha256."""

    benchmark: str
    root: str
    size: int
    seed: int
    sha256: str
    source: str
    in_file: bool = False


@dataclass(frozen=True)
class Inputs:
    """The victim and reference data of a run (picklable: every pair's task carries it)."""

    victim: VictimSource | None
    reference: ReferenceSource | None

    def record(self, wanted: tuple[str, ...]) -> dict:
        """What a result line of a detector that uses ``wanted`` records (``uses``)."""
        out = {}
        if "victim" in wanted:
            where = "stored in the data file" if self.victim.in_file else Path(self.victim.path).name
            out["victim"] = {"sha256": self.victim.sha256, "checkpoint": where}
        if "reference" in wanted:
            ref = self.reference
            out["reference"] = {"n": ref.size, "sha256": ref.sha256, "seed": ref.seed, "source": ref.source}
        return out


def victim_for_run(victim_flag, source) -> VictimSource | None:
    """The victim of a run: the checkpoint of ``--victim``, else the victim stored in the benchmark file
    (None when there is neither)."""
    if victim_flag is None:
        stored = source.bench and source.bench.victim
        if not stored:
            return None
        return VictimSource(source.location, stored["attrs"]["sha256"], "--data")
    path = Path(victim_flag)
    if not path.is_file():
        raise DataError(f"--victim {path}: no such checkpoint file")
    return VictimSource(str(path), sha256_file(path))


def _load_victim(found: VictimSource):
    """The victim of ``found`` as a detector sees it, and its checkpoint's or stored attributes."""
    from advbench.attacks.victim import load_checkpoint, load_file_victim
    from advbench.detectors.victim_access import Victim

    if found.in_file:
        model, _, _, meta = load_file_victim(found.path, flag="--data")
        if meta["sha256"] != found.sha256:
            raise DataError(f"--data {found.path}: the victim it stores changed while the run was going on")
        return Victim(model, found.sha256, f"{Path(found.path).name} (stored victim)"), meta
    model, _, _, meta = load_checkpoint(found.path)
    return Victim(model, found.sha256, Path(found.path).name), meta


def _labelled_images(benchmark: registry.Benchmark, root: Path):
    """The benchmark's labelled images (train and test splits) at ``root``; AdvbenchError naming ``--gtsrb-root``."""
    if not root.exists():
        raise AdvbenchError(
            f"--gtsrb-root {root}: no such folder; the reference data (the victim's clean training images of "
            f"every class) comes from {benchmark.label}'s training split (or set {benchmark.env_var})"
        )
    try:
        return benchmark.load(root, Path(registry.DEFAULT_DATA_DIR), False)
    except DataError as exc:
        raise AdvbenchError(f"--gtsrb-root {root}: {exc}") from None


def _draw(benchmark: registry.Benchmark, data) -> Reference:
    return stratified_sample(
        data.train.images, data.train.labels, REFERENCE_SIZE, REFERENCE_SEED, f"{benchmark.label} training split"
    )


def _carried(bench, location: str) -> Reference | None:
    """The reference sample a benchmark file with every class normal carries (its ``/normal/train`` and
    labels), None for a file of one normal class."""
    if str(bench.attrs.get("normal_class")) != allclasses.ALL or bench.train_labels is None:
        return None
    label = registry.get(bench.benchmark).label
    return Reference(
        bench.normal_train,
        bench.train_labels,
        int(bench.attrs.get("seed", 0)),
        f"{Path(location).name} /normal/train ({label} training split, class-stratified)",
    )


def resolve(victim_flag, gtsrb_root, source, image_shape: tuple, wanted: dict[str, tuple[str, ...]]) -> Inputs:
    """Check and load what the detectors of a run use (``wanted``: detector -> ``needs``, some not empty;
    ``image_shape``: the data's ``C x H x W``). AdvbenchError (one line) for a missing or mismatched victim
    or reference."""
    users = {name: needed for name, needed in wanted.items() if needed}
    found = victim_for_run(victim_flag, source)
    if found is None:
        raise AdvbenchError(
            f"--victim: {', '.join(users)} look through the victim, and {source.location} carries none (files "
            "store theirs from schema 4 on); pass --victim PATH (a victim checkpoint of `advbench generate-attacks`, "
            "victim-<key>.pt beside its file)"
        )
    victim, meta = _load_victim(found)
    recorded = source.bench and source.bench.attrs.get("victim", {}).get("checkpoint_sha256")
    if not found.in_file and recorded and recorded != found.sha256:
        raise AdvbenchError(
            f"--victim {found.path}: not the victim the attacks of {source.location} were made against (sha256 "
            f"{found.sha256[:12]}, the file records {recorded[:12]})"
        )
    try:
        victim.check_input(tuple(image_shape), "the data's images")
    except ValueError as exc:
        raise AdvbenchError(f"--victim {found.path}: {exc}") from None
    reference, drawn = None, None
    readers = [name for name, needed in users.items() if "reference" in needed]
    bench = source.bench
    if readers and bench is not None and (drawn := _carried(bench, source.location)) is not None:
        reference = ReferenceSource(
            bench.benchmark, source.location, len(drawn), drawn.seed, drawn.sha256, drawn.source, in_file=True
        )
    elif readers:
        benchmark = registry.get(source.benchmark)
        if benchmark.run_source != registry.ATTACK_FILE:
            names = ", ".join(readers)
            raise AdvbenchError(f"--detectors: {names} need reference data; {benchmark.label} has none yet")
        root = Path(gtsrb_root) if gtsrb_root is not None else benchmark.default_root()
        data = _labelled_images(benchmark, root)
        _check_same_data(found, meta, source, data, root)
        drawn = _draw(benchmark, data)
        reference = ReferenceSource(benchmark.name, str(root), len(drawn), REFERENCE_SEED, drawn.sha256, drawn.source)
    inputs = Inputs(found, reference)
    _CACHE.update(key=inputs, loaded=(victim, drawn))
    return inputs


def _check_same_data(found: VictimSource, meta: dict, source, data, root: Path) -> None:
    """AdvbenchError when the labelled images at ``root`` are not those the victim or the file was built from."""
    built_from = source.bench and source.bench.attrs.get("gtsrb_content_sha256")
    if built_from and built_from != data.content_sha256:
        raise AdvbenchError(
            f"--gtsrb-root {root}: not the copy {source.location} was built from (content sha256 "
            f"{data.content_sha256[:12]}, the file records {built_from[:12]})"
        )
    trained_on = meta.get("data_sha256")
    if trained_on and trained_on != data.content_sha256:
        raise AdvbenchError(
            f"--gtsrb-root {root}: not the copy the victim {found.path} was trained on (content sha256 "
            f"{data.content_sha256[:12]}, the checkpoint records {trained_on[:12]})"
        )


def _loaded(inputs: Inputs):
    """The victim and reference of ``inputs``, loaded once per process; DataError when either changed."""
    if _CACHE.get("key") != inputs:
        found = inputs.victim
        if not found.in_file and sha256_file(found.path) != found.sha256:
            raise DataError(f"--victim {found.path}: the checkpoint changed while the run was going on")
        victim, _ = _load_victim(found)
        drawn = None
        if inputs.reference is not None:
            ref = inputs.reference
            if ref.in_file:
                from advbench.datasets.benchmark_file import read_benchmark

                drawn, flag = _carried(read_benchmark(ref.root), ref.root), "--data"
            else:
                benchmark = registry.get(ref.benchmark)
                drawn = _draw(benchmark, benchmark.load(Path(ref.root), Path(registry.DEFAULT_DATA_DIR), False))
                flag = "--gtsrb-root"
            if drawn is None or drawn.sha256 != ref.sha256:
                raise DataError(f"{flag} {ref.root}: the reference data changed while the run was going on")
        _CACHE.update(key=inputs, loaded=(victim, drawn))
    return _CACHE["loaded"]


def given(inputs: Inputs | None, wanted: tuple[str, ...]) -> dict:
    """The keyword arguments of ``fit`` for a detector that uses ``wanted`` (empty for a one-class detector)."""
    if not wanted:
        return {}
    victim, reference = _loaded(inputs)
    return {name: value for name, value in (("victim", victim), ("reference", reference)) if name in wanted}
