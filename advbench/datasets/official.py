"""Which benchmark a folder of the four IDX files holds: the official MNIST or Fashion-MNIST files, or neither.

Both benchmarks have the same four file names and shapes, so nothing else tells a copy of one
from the other: Fashion-MNIST read as MNIST would be counted, trained on and attacked as MNIST.
The loader (``datasets.mnist``) hashes each file's decompressed bytes (``idx.read_idx_hashed``; a
recompressed copy, whose gzip header differs, is the same file) and ``check`` looks each hash up
in ``OFFICIAL``, the sha256s of the decompressed official files (those whose ``.gz`` have the MD5s
of ``mnist.SOURCES``). It

- passes silently when every file is the official file of its name of the benchmark asked for;
- raises DataError when a file is an official file of another benchmark (or another file of the
  same one, test images in place of training images, say), naming the folder or file and what
  it holds (benchmarks as ``--benchmark`` names them: this module does not import the registry,
  which imports the loader);
- warns on stderr in one line, once per copy and process, when a file matches no official file
  (a subset, an edited or a synthetic copy): the copy is read as the benchmark asked for, and the
  warning names the sha256 of its four files that runs and benchmark files record (``idx_sha256``).
  A worker process (``advbench run --jobs``) does not repeat the warning of its parent.

What the check costs a load: ``benchmarks/bench_idx_identity.py``.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

from advbench.errors import DataError

#: sha256 of each official file's decompressed bytes, per benchmark.
OFFICIAL_FILES = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

#: sha256 -> (benchmark, file name): what ``check`` looks each file up in.
OFFICIAL = {sha256: (benchmark, name) for benchmark, files in OFFICIAL_FILES.items() for name, sha256 in files.items()}

#: (benchmark, idx_sha256) of the unknown copies this process has warned about.
_WARNED: set[tuple[str, str]] = set()


def check(benchmark: str, root: Path, hashes: dict[str, str], idx_sha256: str) -> None:
    """Refuse or warn about the files of ``root`` (file name -> sha256 of its decompressed bytes) read
    as ``benchmark`` (see the module docstring)."""
    found = {name: OFFICIAL.get(sha256) for name, sha256 in hashes.items()}
    misplaced = {name: hit for name, hit in found.items() if hit is not None and hit != (benchmark, name)}
    if misplaced:
        raise DataError(_refusal(benchmark, root, misplaced, len(hashes)))
    unknown = sum(hit is None for hit in found.values())
    if unknown:
        _warn_once(benchmark, root, unknown, len(hashes), idx_sha256)


def _refusal(benchmark: str, root: Path, misplaced: dict[str, tuple[str, str]], total: int) -> str:
    """The error for files that are official files of another benchmark, or of another name."""
    owners = {owner for owner, _ in misplaced.values()}
    if len(misplaced) == total and len(owners) == 1 and all(name == other for name, (_, other) in misplaced.items()):
        owner = owners.pop()
        return f"{root}: holds the official {owner} files, not {benchmark}'s (read them with --benchmark {owner})"
    name, (owner, other) = next(iter(misplaced.items()))
    return f"{root / name}: is the official {owner} {other}, not {benchmark}'s {name}"


def _warn_once(benchmark: str, root: Path, unknown: int, total: int, idx_sha256: str) -> None:
    """The one-line warning about a copy that is not the official files (see the module docstring)."""
    key = (benchmark, idx_sha256)
    if key in _WARNED or multiprocessing.parent_process() is not None:
        return
    _WARNED.add(key)
    print(
        f"advbench: warning: {root}: not the official {benchmark} files ({unknown} of {total} match no official "
        f"checksum; sha256 {idx_sha256[:16]}...); read as {benchmark}",
        file=sys.stderr,
    )
