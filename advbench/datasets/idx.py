"""Read the IDX files of MNIST and Fashion-MNIST (gzip-compressed or not).

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions, one
uint32 per dimension) followed by the data, row-major. The official files hold unsigned bytes
(type code 0x08): labels with magic 2049 (one dimension), images with magic 2051 (count, rows,
columns). Everything that does not fit (another magic, a size that disagrees with the header, a
broken gzip stream) is a DataError naming the file. ``read_idx_hashed`` also gives the sha256 of
the decompressed bytes, which names a file's content whichever way it was compressed (what
``gunzip -c FILE | sha256sum`` prints).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

from advbench.errors import DataError

MAGIC = {2049: 1, 2051: 3}  # labels, images: number of dimensions


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The uint8 array of an IDX file (``.gz`` decompressed), shape from its header."""
    return read_idx_hashed(path)[0]


def read_idx_hashed(path: str | os.PathLike) -> tuple[np.ndarray, str]:
    """The uint8 array of an IDX file and the sha256 of its decompressed bytes."""
    raw = _decompressed(Path(path))
    return _parse(raw, Path(path)), hashlib.sha256(raw).hexdigest()


def _decompressed(path: Path) -> bytes:
    """The file's bytes, gunzipped when its name ends in ``.gz``."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable gzip file ({exc})") from None
    return raw


def _parse(raw: bytes, path: Path) -> np.ndarray:
    """The array that the IDX bytes ``raw`` of ``path`` hold, their header checked."""
    if len(raw) < 8:
        raise DataError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in MAGIC:
        raise DataError(f"{path}: magic number {magic} is not an IDX label (2049) or image (2051) file")
    ndim = MAGIC[magic]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: header says {'x'.join(map(str, shape))} = {expected} bytes of data, "
            f"the file holds {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
