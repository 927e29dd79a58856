"""Download files with resume and MD5 checks; the official GTSRB archives, verified and extracted.

The archives and MD5 checksums are those torchvision's ``GTSRB`` dataset uses (hosted by the
University of Copenhagen's ERDA archive for the benchmark's authors). The training archive is
the re-packaged ``GTSRB-Training_fixed.zip`` (``GTSRB/Training/000NN/``); the loader reads
that layout as well as the original ``Final_Training/Images/``.

Downloads go to ``<name>.part`` and resume with an HTTP ``Range`` request when interrupted; a
server that ignores the range restarts the file. A finished archive whose checksum does not
match is deleted and reported. Extraction is marked done with a ``.<name>.extracted`` file,
so an interrupted extraction is simply redone.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from advbench.errors import DataError

#: Base address of the archives; override with ADVBENCH_GTSRB_MIRROR (or ``base_url``).
DEFAULT_BASE_URL = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"


@dataclass(frozen=True)
class Archive:
    """One archive: file name, MD5 and the folder (relative to the target) it extracts into."""

    filename: str
    md5: str
    extract_to: str


ARCHIVES = (
    Archive("GTSRB-Training_fixed.zip", "513f3c79a4c5141765e10e952eaa2478", ""),
    Archive("GTSRB_Final_Test_Images.zip", "c7e4e6327067d32654124b0fe9e82185", ""),
    # The ground-truth archive holds GT-final_test.csv without a folder.
    Archive("GTSRB_Final_Test_GT.zip", "fe31e9c9270bbcd7b84b7f21a9d9d9e5", "GTSRB/Final_Test"),
)


def md5_file(path: Path) -> str:
    """MD5 hex digest of a file (read in 1 MiB blocks)."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def fetch_file(url: str, dest: Path, progress: bool, timeout: float) -> None:
    """Download ``url`` to ``dest`` via ``dest.part``, resuming a partial file when possible."""
    from tqdm import tqdm

    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range beyond the end: the part file is complete or stale
            part.unlink()
            return fetch_file(url, dest, progress, timeout)
        raise
    with response:
        resumed = response.status == 206
        mode = "ab" if resumed else "wb"
        total = response.headers.get("Content-Length")
        total = int(total) + (offset if resumed else 0) if total else None
        with (
            open(part, mode) as handle,
            tqdm(
                total=total,
                initial=offset if resumed else 0,
                unit="B",
                unit_scale=True,
                desc=dest.name,
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            while block := response.read(1 << 16):
                handle.write(block)
                bar.update(len(block))
    os.replace(part, dest)


def fetch_checked(url: str, path: Path, md5: str, hint: str, *, progress: bool = False, timeout: float = 60.0) -> None:
    """Make ``path`` the file at ``url`` with MD5 ``md5``: kept when already there and right, else
    downloaded (resuming) and checked; DataError (one line, ending with ``hint``) when the download
    fails, and a wrong checksum deletes the file."""
    if path.exists() and md5_file(path) == md5:
        return
    try:
        fetch_file(url, path, progress, timeout)
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"cannot download {url} ({getattr(exc, 'reason', exc)}); {hint}") from None
    if md5_file(path) != md5:
        path.unlink()
        raise DataError(f"{path}: MD5 mismatch after download (expected {md5}); deleted, rerun to retry")


def download_gtsrb(
    target: str | os.PathLike,
    *,
    base_url: str | None = None,
    progress: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download, verify and extract the three archives into ``target``; return ``target``.

    Archives already present with the right checksum are not downloaded again, and archives
    already extracted are not extracted again.
    """
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    base_url = base_url or os.environ.get("ADVBENCH_GTSRB_MIRROR", DEFAULT_BASE_URL)
    if not base_url.endswith("/"):
        base_url += "/"
    for archive in ARCHIVES:
        path = target / archive.filename
        marker = target / f".{archive.filename}.extracted"
        if marker.exists():
            continue
        hint = (
            f"put {', '.join(a.filename for a in ARCHIVES)} into {target} by hand and rerun, or pass "
            "--gtsrb-root to an extracted copy"
        )
        fetch_checked(base_url + archive.filename, path, archive.md5, hint, progress=progress, timeout=timeout)
        try:
            with zipfile.ZipFile(path) as zf:
                zf.extractall(target / archive.extract_to)
        except zipfile.BadZipFile:
            raise DataError(f"{path}: not a valid zip archive") from None
        marker.touch()
    return target
