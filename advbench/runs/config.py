"""The resolved configuration of ``advbench run``: command line over ``--config`` TOML over defaults.

The TOML file may hold a ``[run]`` table with a value for any flag of ``RUN_FLAGS`` but the switches
(``advbench.runs.run_flags``, which declares each flag's default and the types its value may take) and one
``[detectors.<name>]`` table per detector with hyperparameters passed to its constructor::

    [run]
    data = "datasets/gtsrb_stop_adv.h5"
    seeds = 10
    jobs = 2

    [detectors.dual-adversarial]
    epochs = 15

The training profile is passed to every detector that has a ``profile`` parameter, as the device is
to every detector that has a ``device`` parameter.

What a run reads (``RunConfig.source_kind``): a benchmark file (``--data``) of any benchmark, whose
benchmark is the file's own ``benchmark`` attribute (``--benchmark``, when given, must agree), or,
without ``--data``, the labelled images of ``--benchmark mnist|fashion-mnist``: the four IDX files
from ``--root`` (default ``$ADVBENCH_MNIST_ROOT`` / ``$ADVBENCH_FASHION_MNIST_ROOT``, then
``datasets/<benchmark>``), every class of ``--classes`` (default ``all``) normal in turn under
``--protocol 2`` (default) or ``1`` (``advbench.datasets.oneclass``). Each benchmark sets the
preprocessing defaults of some detectors, as the reference scripts of the baselines do, unless a
detector's table sets them (``datasets.registry``: GCN and IF's PCA on MNIST-type benchmarks; none
on GTSRB); ``advbench.detectors.params`` resolves every detector's parameters and their sources.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from advbench.config_file import read_toml
from advbench.datasets import protocols, registry
from advbench.errors import AdvbenchError, DataError
from advbench.flags import toml_types
from advbench.runs.run_flags import RUN_FLAGS

#: The ``[run]`` keys and the types each value may take (a type, or ``list[T]`` for a list of T).
RUN_TYPES = toml_types(RUN_FLAGS)
RUN_KEYS = tuple(RUN_TYPES)
#: The built-in defaults of the ``[run]`` keys (None: the run works it out, see ``resolve``).
DEFAULTS = {flag.dest: flag.default for flag in RUN_FLAGS if flag.toml}
#: Constructor parameters that the run sets itself (from ``--seeds``, ``--device`` and ``--profile``).
RUN_SET_PARAMS = ("random_state", "device", "profile")
#: What ``--device`` accepts (``auto``: CUDA when available, else the CPU).
DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


@dataclass
class RunConfig:
    """Everything that decides what a run computes and where it writes."""

    data: Path
    out: Path
    detectors: list[str]
    seeds: list[int]
    attacks: str
    jobs: int
    threads: int
    device: str
    profile: str
    protocol: str = "official"
    fit_attack: str | None = None
    benchmark: str = registry.DEFAULT
    source_kind: str = registry.ATTACK_FILE
    classes: str = "all"
    executor: str = "local"
    ray_address: str | None = None
    params: dict[str, dict] = field(default_factory=dict)
    config_file: str | None = None
    force: bool = False
    recompute_changed: bool = False
    victim: Path | None = None
    gtsrb_root: Path | None = None

    def to_json(self) -> dict:
        out = asdict(self)
        out["data"], out["out"] = str(self.data), str(self.out)
        for key in ("victim", "gtsrb_root"):
            out[key] = None if out[key] is None else str(out[key])
        return out


def parse_seeds(value, where: str) -> list[int]:
    """``10`` -> seeds 0..9; ``"3,7,11"`` or ``[3, 7, 11]`` -> those seeds (a comma makes a list)."""
    try:
        if isinstance(value, list):
            seeds = [int(v) for v in value]
        elif isinstance(value, str) and "," in value:
            seeds = [int(v) for v in value.split(",") if v.strip()]
        else:
            count = int(value)
            if count < 1:
                raise ValueError
            seeds = list(range(count))
    except (TypeError, ValueError):
        raise AdvbenchError(f"{where}: expected a seed count >= 1 or a comma list of seeds; got {value!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise AdvbenchError(f"{where}: seeds must be distinct non-negative integers; got {value!r}")
    return seeds


def _positive_int(value, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise AdvbenchError(f"{where}: expected an integer >= 1; got {value!r}")
    return number


def _device(value) -> str:
    """Check the form of ``--device`` (whether this machine has it is checked by the runner)."""
    if not DEVICE_PATTERN.fullmatch(str(value)):
        raise AdvbenchError(f"--device: expected auto, cpu, cuda or cuda:N; got {value!r}")
    return str(value)


def _choice(flag: str, value, choices) -> str:
    if value not in choices:
        raise AdvbenchError(f"--{flag}: expected one of {', '.join(choices)}; got {value!r}")
    return value


def _matches(value, kind) -> bool:
    if isinstance(kind, type):
        return isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    (item,) = kind.__args__  # list[T]
    return isinstance(value, list) and all(_matches(element, item) for element in value)


def _kind_name(kind) -> str:
    return kind.__name__ if isinstance(kind, type) else f"a list of {kind.__args__[0].__name__}"


def _check_run_types(path: str, table: dict) -> None:
    """AdvbenchError naming the key when a ``[run]`` value has a type its flag cannot take."""
    for key, value in table.items():
        kinds = RUN_TYPES[key]
        if not any(_matches(value, kind) for kind in kinds):
            expected = " or ".join(_kind_name(kind) for kind in kinds)
            raise DataError(f"--config {path}: [run] {key} must be {expected}; got {value!r}")


def load_toml(path: str) -> dict:
    """Read ``--config`` (``config_file.read_toml``); DataError naming the file for unknown keys or ``[run]``
    values of a type their flag cannot take."""
    data = read_toml(path, ("run", "detectors"), shown=("run", "detectors.<name>"))
    bad = set(data.get("run", {})) - set(RUN_KEYS)
    if bad:
        raise DataError(f"--config {path}: unknown key(s) {sorted(bad)} in [run]; valid: {', '.join(RUN_KEYS)}")
    _check_run_types(path, data.get("run", {}))
    return data


def check_detector_params(params: dict[str, dict], where: str) -> None:
    """Every ``[detectors.<name>]`` table must name a detector and only its constructor parameters."""
    from advbench import detectors

    for name, table in params.items():
        if name not in detectors.names() and not name.startswith("pyod:"):
            raise AdvbenchError(f"{where}: [detectors.{name}]: unknown detector; valid: {', '.join(detectors.names())}")
        if not isinstance(table, dict):
            raise AdvbenchError(f"{where}: detectors.{name} must be a table of parameters")
        valid = set(detectors.create(name).get_params())
        bad = sorted(set(table) - (valid - set(RUN_SET_PARAMS)))
        if bad:
            allowed = ", ".join(sorted(valid - set(RUN_SET_PARAMS)))
            raise AdvbenchError(
                f"{where}: [detectors.{name}] has unknown or reserved parameter(s) {bad} (random_state comes from "
                f"--seeds, device from --device, profile from --profile); valid: {allowed}"
            )


def resolve(args) -> RunConfig:
    """Build the RunConfig from parsed ``advbench run`` arguments (flags left at None were not given)."""
    from advbench import detectors
    from advbench.detectors.profiles import PROFILES

    toml = load_toml(args.config) if args.config else {}
    where = f"--config {args.config}" if args.config else "command line"
    file_run = toml.get("run", {})

    def pick(key):
        value = getattr(args, key, None)
        return value if value is not None else file_run.get(key, DEFAULTS.get(key))

    out, classes = pick("out"), pick("classes")
    if out is None:
        raise AdvbenchError("--out: required (or `out` in the [run] table of --config)")
    spec = pick("detectors")
    try:
        names = detectors.expand(",".join(spec) if isinstance(spec, list) else str(spec))
        for name in names:
            detectors.describe(name)  # a PyOD model or plug-in that cannot be loaded: one line, before anything runs
    except ValueError as exc:
        raise AdvbenchError(f"--detectors: {exc}") from None
    attacks = pick("attacks")
    params = toml.get("detectors", {})
    check_detector_params(params, where)
    checked = {
        "seeds": parse_seeds(pick("seeds"), "--seeds"),
        "jobs": _positive_int(pick("jobs"), "--jobs"),
        "threads": _positive_int(pick("threads"), "--threads"),
        "device": _device(pick("device")),
        "profile": _choice("profile", pick("profile"), PROFILES),
        "executor": _executor(pick("executor"), pick("ray_address")),
    }
    # the data last: a benchmark file is opened to read its benchmark
    benchmark, kind, data = _location(_given(args, file_run, "benchmark"), pick("data"), pick("root"), classes)
    known = protocols.PROTOCOLS if kind == registry.ATTACK_FILE else benchmark.protocols
    protocol = _choice("protocol", str(pick("protocol") or known[0]), known)
    fit_attack = pick("fit_attack")
    if protocol == protocols.SUPERVISED and fit_attack is None:
        raise AdvbenchError("--fit-attack: required with --protocol supervised (a training attack set of --data)")
    if fit_attack is not None and protocol != protocols.SUPERVISED:
        raise AdvbenchError(f"--fit-attack {fit_attack}: only with --protocol supervised")
    return RunConfig(
        data=data,
        out=Path(out),
        detectors=names,
        attacks=",".join(attacks) if isinstance(attacks, list) else str(attacks),
        protocol=protocol,
        fit_attack=None if fit_attack is None else str(fit_attack),
        benchmark=benchmark.name,
        source_kind=kind,
        classes=",".join(map(str, classes)) if isinstance(classes, list) else str(classes or "all"),
        ray_address=pick("ray_address"),
        params={name: dict(params.get(name, {})) for name in names},
        config_file=args.config,
        force=bool(args.force),
        recompute_changed=bool(getattr(args, "recompute_changed", False)),
        victim=None if pick("victim") is None else Path(pick("victim")),
        gtsrb_root=None if pick("gtsrb_root") is None else Path(pick("gtsrb_root")),
        **checked,
    )


def _executor(executor, address) -> str:
    """``local`` (the process pool of ``--jobs``) or ``ray`` (Ray installed; ``--ray-address`` only with it)."""
    executor = _choice("executor", executor, ("local", "ray"))
    if executor == "ray":
        from advbench.runs.ray_executor import check_available

        try:
            check_available()
        except ValueError as exc:
            raise AdvbenchError(f"--executor ray: {exc}") from None
    elif address is not None:
        raise AdvbenchError("--ray-address: only with --executor ray")
    return executor


def _given(args, file_run: dict, key: str):
    """A value the user gave (flag, else the ``[run]`` table), None when neither gives it."""
    value = getattr(args, key, None)
    return value if value is not None else file_run.get(key)


def _location(named, data, root, classes) -> tuple[registry.Benchmark, str, Path]:
    """The benchmark, what the run reads (``registry.ATTACK_FILE`` or ``LABELLED_IMAGES``) and where:
    ``--data`` (a benchmark file, whose own benchmark wins; ``named``, the ``--benchmark`` given, must
    agree) or the labelled images of ``named`` at ``--root`` (else its default folder); AdvbenchError
    for a flag that does not belong, or a benchmark that disagrees with the file's."""
    from advbench.datasets.benchmark_file import file_benchmark

    if data is not None:
        if root is not None or classes is not None:
            flag = "--root" if root is not None else "--classes"
            raise AdvbenchError(f"{flag}: not with --data (a benchmark file holds its own normal class and images)")
        found = registry.get(file_benchmark(Path(data), "--data"), f"--data {data}: benchmark attribute")
        if named is not None and registry.get(named).name != found.name:
            raise AdvbenchError(
                f"--benchmark {named}: --data {data} is a {found.label} benchmark file; leave --benchmark out "
                "(a file's benchmark is its own)"
            )
        return found, registry.ATTACK_FILE, Path(data)
    benchmark = registry.get(named)
    if benchmark.run_source == registry.ATTACK_FILE:
        reads_folder = [name for name in registry.names() if registry.get(name).run_source == registry.LABELLED_IMAGES]
        if root is not None or classes is not None:
            flag = "--root" if root is not None else "--classes"
            raise AdvbenchError(
                f"{flag}: only for --benchmark {'|'.join(reads_folder)} ({benchmark.label} reads --data)"
            )
        raise AdvbenchError("--data: required (or `data` in the [run] table of --config)")
    return benchmark, registry.LABELLED_IMAGES, Path(root) if root is not None else benchmark.default_root()


def resolve_attacks(spec: str, available: list[str], data: Path) -> list[str]:
    """``all`` or a comma list of attack sets present in the data file (in the file's order); a variant
    with several parameters is one item (``bim@alpha=2/255,eps=32/255``)."""
    from advbench.attacks.variants import split_variants

    if spec.strip() == "all":
        return list(available)
    wanted = split_variants(spec)
    unknown = [name for name in wanted if name not in available]
    if unknown or not wanted:
        raise AdvbenchError(f"--attacks: {unknown or spec!r} not in {data}; available: all, {', '.join(available)}")
    return [name for name in available if name in wanted]


def _jsonable(value):
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def config_hash(data_sha256: str, detector: str, params: dict, uses: dict | None = None) -> str:
    """A detector's parameters and the data file's sha256 (seed, device and profile aside: see ``guard``), and
    for a victim-aware detector what it uses (``victim_inputs.Inputs.record``)."""
    kept = {key: value for key, value in params.items() if key not in RUN_SET_PARAMS}
    found = {"data_sha256": data_sha256, "detector": detector, "params": _jsonable(kept)}
    text = json.dumps(found | ({"uses": uses} if uses else {}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
