"""Compare two benchmark files array by array: are their images, attack sets and victims the same bytes?

A rebuilt file never has the sha256 of the old one (its attributes record creation times and
seconds), so this script compares what matters: every array both files hold (the normal images,
each attack set's images, sources, labels and distances, the victim's weights), byte for byte,
dtype and shape included, and names the arrays only one of them holds (a newer schema adds the
victim and the normal images' labels). Prints each file's benchmark version (``datasets.versions``:
the same settings give the same version on every machine) and one line per array; exit status 1
when an array differs. Used to check that GTSRB's default file is unchanged by a change of the code
(``docs/reproducibility.md``).

    python benchmarks/compare_files.py OLD.h5 NEW.h5
"""

from __future__ import annotations

import argparse
import sys

import h5py
import numpy as np


def arrays(path: str) -> dict[str, np.ndarray]:
    """Every dataset of the HDF5 file at ``path``, by its path in the file."""
    found = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, obj: found.update({name: obj[()]}) if isinstance(obj, h5py.Dataset) else None)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    args = parser.parse_args()
    from advbench.datasets import versions
    from advbench.datasets.benchmark_file import read_benchmark
    from advbench.errors import DataError

    for label, path in (("old", args.old), ("new", args.new)):
        try:
            contents = read_benchmark(path)
        except DataError as exc:  # arrays can be compared all the same
            print(f"{label}: no benchmark version ({exc})")
            continue
        named = versions.record(contents)
        digest = named["settings_sha256"][:12]
        print(f"{label}: {path}: version {named['benchmark_version']} (settings sha256 {digest})")
    old, new = arrays(args.old), arrays(args.new)
    differ = 0
    for name in sorted(set(old) | set(new)):
        if name not in new or name not in old:
            print(f"only in {'old' if name in old else 'new'}: {name}")
            continue
        a, b = np.asarray(old[name]), np.asarray(new[name])
        same = a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        differ += not same
        print(f"{'identical' if same else 'DIFFERENT'}: {name} {a.shape}")
    print(f"{differ} of {len(set(old) & set(new))} arrays held by both differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
