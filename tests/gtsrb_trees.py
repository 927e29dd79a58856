"""Build tiny synthetic GTSRB trees (official and Kaggle layouts) for the loader tests.

Each image is a blue frame with a solid ROI whose colour encodes the class, so a correct crop
is (away from its blended border) a single known colour.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

FRAME = (40, 30)  # width, height of the image files
ROI = (10, 5, 30, 25)  # x1, y1, x2, y2 inside the file
BACKGROUND = (0, 0, 255)


def class_colour(class_id: int) -> tuple[int, int, int]:
    return (200, 10 * class_id % 256, 50)


def _image(class_id: int) -> Image.Image:
    pixels = np.zeros((FRAME[1], FRAME[0], 3), dtype=np.uint8)
    pixels[:] = BACKGROUND
    x1, y1, x2, y2 = ROI
    pixels[y1:y2, x1:x2] = class_colour(class_id)
    return Image.fromarray(pixels)


def _row(name: str, class_id: int, scale: int) -> list:
    # The CSV describes the original frame; ``scale`` > 1 mimics files that were shrunk later.
    width, height = FRAME[0] * scale, FRAME[1] * scale
    return [name, width, height, *(v * scale for v in ROI), class_id]


def make_official(root: Path, counts: dict[int, tuple[int, int]], scale: int = 1, gt_in: str = "Final_Test") -> Path:
    """Official layout under ``root/GTSRB``; ``counts`` maps class -> (n_train, n_test)."""
    base = root / "GTSRB"
    header = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
    test_rows = []
    for class_id, (n_train, n_test) in counts.items():
        folder = base / "Final_Training" / "Images" / f"{class_id:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(n_train):
            name = f"00000_{i:05d}.ppm"
            _image(class_id).save(folder / name)
            rows.append(_row(name, class_id, scale))
        (folder / f"GT-{class_id:05d}.csv").write_text(header + "".join(";".join(map(str, r)) + "\r\n" for r in rows))
        test_rows += [class_id] * n_test
    test_dir = base / "Final_Test" / "Images"
    test_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, class_id in enumerate(test_rows):
        name = f"{i:05d}.ppm"
        _image(class_id).save(test_dir / name)
        rows.append(_row(name, class_id, scale))
    gt_dir = {"Final_Test": base / "Final_Test", "Images": test_dir, "root": root}[gt_in]
    (gt_dir / "GT-final_test.csv").write_text(header + "".join(";".join(map(str, r)) + "\n" for r in rows))
    return root


def make_kaggle(root: Path, counts: dict[int, tuple[int, int]]) -> Path:
    """Kaggle layout: ``Train.csv`` / ``Test.csv`` with a Path column, PNG files."""
    header = "Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path\n"
    for split, column in (("Train", 0), ("Test", 1)):
        lines = []
        for class_id, n in counts.items():
            folder = root / split / (str(class_id) if split == "Train" else "")
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n[column]):
                rel = (
                    f"{split}/{class_id}/{class_id}_{i}.png"
                    if split == "Train"
                    else f"{split}/{class_id:02d}{i:03d}.png"
                )
                _image(class_id).save(root / rel)
                name, *geometry = _row(rel, class_id, 1)
                lines.append(",".join(map(str, [*geometry, name])))
        (root / f"{split}.csv").write_text(header + "\n".join(lines) + "\n")
    return root
