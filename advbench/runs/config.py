"""The resolved configuration of ``advbench run``: command line over ``--config`` TOML over defaults.

The TOML file may hold a ``[run]`` table with defaults for the flags (``benchmark``, ``data``,
``root``, ``classes``, ``out``, ``detectors``, ``seeds``, ``attacks``, ``jobs``, ``threads``,
``device``, ``profile``, ``protocol``, ``executor``, ``ray_address``, ``victim``, ``gtsrb_root``) and one
``[detectors.<name>]`` table per detector with
hyperparameters passed to its constructor::

    [run]
    data = "datasets/gtsrb_stop_adv.h5"
    seeds = 10
    jobs = 2

    [detectors.dual-adversarial]
    epochs = 15

Built-in defaults (``DEFAULTS``): every detector of the ``all`` group, 10 seeds (the paper's
Table 4 averages over 10), every attack of the data file, one job, one thread per job (see
``advbench.runs.runner`` for why the thread count is fixed), device ``auto``, training profile
``default`` (``advbench.detectors.profiles``; passed to every detector that has a ``profile``
parameter, as the device is to every detector that has a ``device`` parameter), benchmark
``gtsrb`` with protocol ``official`` (``advbench.datasets.protocols``).

``--benchmark mnist|fashion-mnist`` reads the four IDX files from ``--root`` (default
``$ADVBENCH_MNIST_ROOT`` / ``$ADVBENCH_FASHION_MNIST_ROOT``, then ``datasets/<benchmark>``) and runs
every class of ``--classes`` (default ``all``) as the normal class under ``--protocol 2`` (default)
or ``1`` (``advbench.datasets.oneclass``). Each benchmark sets the preprocessing defaults of some
detectors, as the reference scripts of the baselines do, unless a detector's table sets them
(``datasets.registry``: GCN and IF's PCA on MNIST-type benchmarks; none on GTSRB).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from advbench.datasets import registry
from advbench.errors import AdvbenchError

DEFAULTS = {
    "benchmark": registry.DEFAULT,
    "detectors": "all",
    "seeds": 10,
    "attacks": "all",
    "jobs": 1,
    "threads": 1,
    "device": "auto",
    "profile": "default",
    "protocol": None,
    "classes": None,
    "executor": "local",
    "ray_address": None,
}
RUN_KEYS = ("data", "root", "out", "victim", "gtsrb_root", *DEFAULTS)
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
    benchmark: str = registry.DEFAULT
    classes: str = "all"
    executor: str = "local"
    ray_address: str | None = None
    params: dict[str, dict] = field(default_factory=dict)
    config_file: str | None = None
    force: bool = False
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


def load_toml(path: str) -> dict:
    """Read ``--config``; AdvbenchError naming the file for a missing file, bad TOML or unknown keys."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise AdvbenchError(f"--config {path}: no such file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AdvbenchError(f"--config {path}: not readable TOML: {exc}") from None
    unknown = set(data) - {"run", "detectors"}
    if unknown:
        raise AdvbenchError(
            f"--config {path}: unknown table(s) {sorted(unknown)}; expected [run] and [detectors.<name>]"
        )
    bad = set(data.get("run", {})) - set(RUN_KEYS)
    if bad:
        raise AdvbenchError(f"--config {path}: unknown key(s) {sorted(bad)} in [run]; valid: {', '.join(RUN_KEYS)}")
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

    benchmark = registry.get(pick("benchmark"))
    data, out, classes = _location(benchmark, pick("data"), pick("root"), pick("classes")), pick("out"), pick("classes")
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
    return RunConfig(
        data=Path(data),
        out=Path(out),
        detectors=names,
        seeds=parse_seeds(pick("seeds"), "--seeds"),
        attacks=",".join(attacks) if isinstance(attacks, list) else str(attacks),
        jobs=_positive_int(pick("jobs"), "--jobs"),
        threads=_positive_int(pick("threads"), "--threads"),
        device=_device(pick("device")),
        profile=_choice("profile", pick("profile"), PROFILES),
        protocol=_choice("protocol", str(pick("protocol") or benchmark.protocols[0]), benchmark.protocols),
        benchmark=benchmark.name,
        classes=",".join(map(str, classes)) if isinstance(classes, list) else str(classes or "all"),
        executor=_executor(pick("executor"), pick("ray_address")),
        ray_address=pick("ray_address"),
        params={name: dict(params.get(name, {})) for name in names},
        config_file=args.config,
        force=bool(args.force),
        victim=None if pick("victim") is None else Path(pick("victim")),
        gtsrb_root=None if pick("gtsrb_root") is None else Path(pick("gtsrb_root")),
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


def _location(benchmark: registry.Benchmark, data, root, classes) -> Path:
    """The benchmark file (``--data``) or the folder of labelled images (``--root``, else its default),
    as the benchmark's ``run_source`` says; AdvbenchError for a flag that does not belong to it."""
    reads_folder = [name for name in registry.names() if registry.get(name).run_source == registry.LABELLED_IMAGES]
    if benchmark.run_source == registry.ATTACK_FILE:
        if root is not None or classes is not None:
            flag = "--root" if root is not None else "--classes"
            raise AdvbenchError(
                f"{flag}: only for --benchmark {'|'.join(reads_folder)} ({benchmark.label} reads --data)"
            )
        if data is None:
            raise AdvbenchError("--data: required (or `data` in the [run] table of --config)")
        return Path(data)
    if data is not None:
        reads_file = [name for name in registry.names() if name not in reads_folder]
        raise AdvbenchError(
            f"--data: only for --benchmark {'|'.join(reads_file)}; {benchmark.name} reads its IDX files from --root"
        )
    return Path(root) if root is not None else benchmark.default_root()


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


def detector_params(
    name: str, overrides: dict, seed: int, device: str, profile: str, benchmark: str = registry.DEFAULT
) -> dict:
    """The constructor parameters of one (detector, seed): the benchmark's defaults for the detector
    (``datasets.registry``), the config's overrides over them, the seed, and the device and profile
    for a detector that takes them."""
    from advbench import detectors

    defaults = detectors.create(name).get_params()
    params = {**registry.get(benchmark).detector_params(name), **overrides, "random_state": seed}
    params |= {key: value for key, value in (("device", device), ("profile", profile)) if key in defaults}
    return params
