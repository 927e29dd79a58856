"""Real GTSRB loader: official or Kaggle layout -> 32x32 RGB ROI crops, with a parsed cache.

Layouts read:

- official archives: ``Final_Training/Images/000NN/*.ppm`` with ``GT-000NN.csv`` (or
  ``Training/000NN/`` as in the re-packaged ``GTSRB-Training_fixed.zip``), and
  ``Final_Test/Images/*.ppm`` with the labelled ``GT-final_test.csv`` found in ``Final_Test/``,
  ``Final_Test/Images/`` or the root (the official GT archive extracts it without a folder);
- the Kaggle re-packaging: ``Train.csv`` / ``Test.csv`` with a ``Path`` column, PNG files.

The root may be the folder that holds ``GTSRB/`` or ``GTSRB/`` itself.

Each sign is cropped to its annotated ROI and resized to ``size x size`` RGB (uint8,
channels-first) with Pillow's bilinear filter (``Image.resize(..., BILINEAR, box=roi)``,
which samples the ROI at sub-pixel precision and antialiases when shrinking). The CSVs give
the ROI in the coordinates of the original frame (``Width`` x ``Height``); when the image file
has another size -- some copies, like the shared one, hold frames already resized to 32x32 --
the ROI is scaled to the file's size (``x * file_width / Width``) instead of being cropped out
of bounds.

Parsed arrays are cached in ``cache_dir`` as an ``.npz`` keyed by the sha256 of every CSV,
the size and modification time of every image, and the crop settings, so a changed source
invalidates the cache.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from advbench.datasets.splits import ImageSet
from advbench.errors import DataError
from advbench.fileio import arrays_sha256, atomic_path

#: Bump when the crop or parse logic changes, to invalidate old caches.
LOADER_VERSION = 1
#: Interpolation used to resize ROIs (stated in provenance).
INTERPOLATION = "bilinear"
NUM_CLASSES = 43
_TEST_GT = "GT-final_test.csv"
_OFFICIAL_COLUMNS = ("Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId")
_KAGGLE_COLUMNS = ("Path", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId")


@dataclass(frozen=True)
class Annotation:
    """One CSV row: an image file, its original frame size, ROI and class."""

    path: str
    width: int
    height: int
    roi: tuple[int, int, int, int]
    class_id: int
    source: str  # "csv-name:row" for error messages


@dataclass(frozen=True)
class GTSRB:
    """The whole 43-class train/test sets plus provenance."""

    train: ImageSet
    test: ImageSet
    root: Path
    layout: str
    csv_sha256: dict[str, str] = field(repr=False)
    fingerprint: str  # the loader cache's key: file names, sizes and modification times

    @functools.cached_property
    def content_sha256(self) -> str:
        """sha256 of the loaded images and labels: the same for every copy of the same data, wherever
        and whenever it was unpacked (what the victim cache is keyed by)."""
        return arrays_sha256(self.train.images, self.train.labels, self.test.images, self.test.labels)

    def provenance(self) -> dict:
        """What a benchmark file records of the GTSRB copy it was built from."""
        return {
            "gtsrb_fingerprint": self.fingerprint,
            "gtsrb_content_sha256": self.content_sha256,
            "gtsrb_layout": self.layout,
            "csv_sha256": dict(self.csv_sha256),
        }

    def summary(self) -> dict:
        """Counts and provenance for ``advbench info``."""
        return {
            "root": str(self.root),
            "layout": self.layout,
            "train": len(self.train),
            "test": len(self.test),
            "classes": int(np.unique(np.concatenate([self.train.labels, self.test.labels])).size),
            "image_shape": list(self.train.images.shape[1:]),
            "interpolation": INTERPOLATION,
            "fingerprint": self.fingerprint,
            "content_sha256": self.content_sha256,
        }


@dataclass(frozen=True)
class NormalSplit:
    """The normal class's train and test images, and where the test ones sit in the full test set."""

    normal_class: int
    train: np.ndarray
    test: np.ndarray
    test_index: np.ndarray


@dataclass(frozen=True)
class _Layout:
    kind: str
    base: Path
    train_csvs: list[Path]
    test_csv: Path
    test_image_dir: Path


def _find_layout(root: Path) -> _Layout:
    if not root.is_dir():
        raise DataError(f"GTSRB root {root} does not exist or is not a folder")
    for base in (root / "GTSRB", root):
        for train_dir in (base / "Final_Training" / "Images", base / "Training"):
            if train_dir.is_dir():
                return _official_layout(root, base, train_dir)
        if (base / "Train.csv").is_file() or (base / "Test.csv").is_file():
            for name in ("Train.csv", "Test.csv"):
                if not (base / name).is_file():
                    raise DataError(f"{base / name}: missing (Kaggle layout needs Train.csv and Test.csv)")
            return _Layout("kaggle", base, [base / "Train.csv"], base / "Test.csv", base)
    raise DataError(
        f"{root}: no GTSRB found (expected GTSRB/Final_Training/Images/ or Train.csv/Test.csv); "
        "pass --download or point --gtsrb-root at a copy"
    )


def _official_layout(root: Path, base: Path, train_dir: Path) -> _Layout:
    class_dirs = sorted(d for d in train_dir.iterdir() if d.is_dir())
    if not class_dirs:
        raise DataError(f"{train_dir}: no class folders (000NN) found")
    train_csvs = []
    for class_dir in class_dirs:
        csv_path = class_dir / f"GT-{class_dir.name}.csv"
        if not csv_path.is_file():
            raise DataError(f"{csv_path}: missing annotation CSV")
        train_csvs.append(csv_path)
    test_dir = base / "Final_Test" / "Images"
    candidates = [base / "Final_Test" / _TEST_GT, test_dir / _TEST_GT, base / _TEST_GT, root / _TEST_GT]
    test_csv = next((c for c in candidates if c.is_file()), None)
    if test_csv is None:
        raise DataError(
            f"{base / 'Final_Test'}: labelled test CSV {_TEST_GT} not found "
            "(looked in Final_Test/, Final_Test/Images/ and the root)"
        )
    return _Layout("official", base, train_csvs, test_csv, test_dir)


def _read_csv(csv_path: Path, columns: tuple[str, ...], image_dir: Path, delimiter: str) -> list[Annotation]:
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"{csv_path}: cannot read ({exc.strerror})") from None
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{csv_path}: missing column(s) {', '.join(missing)}")
    rows = []
    for line, row in enumerate(reader, start=2):
        try:
            width, height, x1, y1, x2, y2, class_id = (int(row[c]) for c in columns[1:])
        except (TypeError, ValueError):
            raise DataError(f"{csv_path}: line {line}: non-integer geometry or ClassId") from None
        if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
            raise DataError(f"{csv_path}: line {line}: ROI ({x1},{y1},{x2},{y2}) outside the {width}x{height} frame")
        rows.append(
            Annotation(
                os.path.join(image_dir, row[columns[0]]),
                width,
                height,
                (x1, y1, x2, y2),
                class_id,
                f"{csv_path.name}:{line}",
            )
        )
    return rows


def _annotations(layout: _Layout) -> tuple[list[Annotation], list[Annotation]]:
    if layout.kind == "official":
        train = [a for p in layout.train_csvs for a in _read_csv(p, _OFFICIAL_COLUMNS, p.parent, ";")]
        test = _read_csv(layout.test_csv, _OFFICIAL_COLUMNS, layout.test_image_dir, ";")
    else:
        train = _read_csv(layout.train_csvs[0], _KAGGLE_COLUMNS, layout.base, ",")
        test = _read_csv(layout.test_csv, _KAGGLE_COLUMNS, layout.base, ",")
    return train, test


def crop_roi(annotation: Annotation, size: int = 32) -> np.ndarray:
    """Read one image, crop its ROI (scaled to the file's size if needed), resize to size x size.

    Returns a ``3 x size x size`` uint8 array. Raises DataError naming the CSV row and file when
    the image is missing or unreadable.
    """
    try:
        with Image.open(annotation.path) as image:
            image = image.convert("RGB")
            sx, sy = image.width / annotation.width, image.height / annotation.height
            x1, y1, x2, y2 = annotation.roi
            box = (x1 * sx, y1 * sy, x2 * sx, y2 * sy)
            crop = image.resize((size, size), Image.Resampling.BILINEAR, box=box)
    except FileNotFoundError:
        raise DataError(f"{annotation.source}: image {annotation.path} is missing") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{annotation.source}: image {annotation.path} cannot be read ({exc})") from None
    return np.asarray(crop, dtype=np.uint8).transpose(2, 0, 1)


def _crop_all(rows: list[Annotation], size: int, progress: bool, desc: str) -> ImageSet:
    from tqdm import tqdm

    images = np.empty((len(rows), 3, size, size), dtype=np.uint8)
    for i, row in enumerate(tqdm(rows, desc=desc, unit="img", disable=not progress, leave=False)):
        images[i] = crop_roi(row, size)
    labels = np.fromiter((r.class_id for r in rows), dtype=np.int64, count=len(rows))
    return ImageSet(images, labels)


def _cache_key(root: Path, layout: _Layout, rows: list[Annotation], csv_sha: dict[str, str], size: int) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([LOADER_VERSION, size, INTERPOLATION, layout.kind, sorted(csv_sha.items())]).encode())
    prefix = len(str(root))
    for row in rows:
        try:
            stat = os.stat(row.path)
        except OSError:
            raise DataError(f"{row.source}: image {row.path} is missing") from None
        digest.update(f"{row.path[prefix:]}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def load_gtsrb(
    root: str | os.PathLike,
    *,
    size: int = 32,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> GTSRB:
    """Load the whole GTSRB train and test sets as ROI crops.

    Parameters
    ----------
    root : folder holding ``GTSRB/`` (or ``GTSRB/`` itself), official or Kaggle layout.
    size : side of the square crops (default 32, as in the paper and Deep SVDD).
    cache_dir : where to keep the parsed ``.npz`` cache; ``None`` disables caching.
    progress : show a progress bar while cropping.
    """
    root = Path(root)
    layout = _find_layout(root)
    train_rows, test_rows = _annotations(layout)
    if not train_rows:
        raise DataError(f"{root}: the training CSVs list no images")
    if not test_rows:
        raise DataError(f"{layout.test_csv}: lists no images")
    csv_files = [*layout.train_csvs, layout.test_csv]
    csv_sha = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in csv_files}
    key = _cache_key(root, layout, train_rows + test_rows, csv_sha, size)

    cache_file = Path(cache_dir) / f"gtsrb-{size}px-{key[:20]}.npz" if cache_dir is not None else None
    arrays = _read_cache(cache_file)
    if arrays is None:
        train = _crop_all(train_rows, size, progress, "GTSRB train")
        test = _crop_all(test_rows, size, progress, "GTSRB test")
        if cache_file is not None:
            _write_cache(cache_file, train, test)
    else:
        train, test = arrays
    return GTSRB(train, test, root, layout.kind, csv_sha, key)


def _read_cache(cache_file: Path | None) -> tuple[ImageSet, ImageSet] | None:
    if cache_file is None or not cache_file.is_file():
        return None
    try:
        with np.load(cache_file) as npz:
            return ImageSet(npz["train_images"], npz["train_labels"]), ImageSet(npz["test_images"], npz["test_labels"])
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache is rebuilt


def _write_cache(cache_file: Path, train: ImageSet, test: ImageSet) -> None:
    try:
        with atomic_path(cache_file, suffix=".npz") as tmp, open(tmp, "wb") as handle:
            np.savez(
                handle,
                train_images=train.images,
                train_labels=train.labels,
                test_images=test.images,
                test_labels=test.labels,
            )
    except OSError:
        pass  # caching is an optimisation: a read-only data folder must not stop the load


def normal_split(data: GTSRB, normal_class: int = 14) -> NormalSplit:
    """The normal class's images (default 14, stop: 780 train, 270 test on the official data)."""
    if not 0 <= normal_class < NUM_CLASSES:
        raise DataError(f"--normal-class {normal_class}: must be a GTSRB class id in 0..{NUM_CLASSES - 1}")
    train_mask = data.train.labels == normal_class
    test_index = np.flatnonzero(data.test.labels == normal_class)
    if not train_mask.any() or test_index.size == 0:
        raise DataError(
            f"--normal-class {normal_class}: no images of this class in the "
            f"{'training' if not train_mask.any() else 'test'} set of {data.root}"
        )
    return NormalSplit(normal_class, data.train.images[train_mask], data.test.images[test_index], test_index)
