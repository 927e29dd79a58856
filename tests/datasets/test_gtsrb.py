"""GTSRB loader: layouts, crops, ROI scaling, cache, errors, and the real copy when present."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gtsrb_trees import BACKGROUND, class_colour, make_kaggle, make_official
from paths import REPO, SHARED_DATA

from advbench import cli
from advbench.datasets import gtsrb
from advbench.datasets.gtsrb import load_gtsrb, normal_split
from advbench.errors import DataError

COUNTS = {0: (3, 2), 14: (4, 3), 42: (2, 1)}
REAL_ROOT = SHARED_DATA / "gtsrb"


def _assert_clean_crop(image: np.ndarray, class_id: int) -> None:
    assert image.shape == (3, 32, 32) and image.dtype == np.uint8
    inner = image[:, 3:-3, 3:-3].reshape(3, -1)
    assert (inner == np.array(class_colour(class_id))[:, None]).all(), "crop is not the ROI"
    assert not (image.reshape(3, -1).T == BACKGROUND).all(axis=1).any(), "background leaked into the crop"


@pytest.mark.parametrize("gt_in", ["Final_Test", "Images", "root"])
def test_official_layout_counts_and_crops(tmp_path, gt_in):
    root = make_official(tmp_path, COUNTS, gt_in=gt_in)
    data = load_gtsrb(root)
    assert len(data.train) == 9 and len(data.test) == 6
    assert data.layout == "official"
    for split in (data.train, data.test):
        for image, label in zip(split.images, split.labels, strict=True):
            _assert_clean_crop(image, int(label))


def test_root_may_be_the_gtsrb_folder_itself(tmp_path):
    make_official(tmp_path, COUNTS)
    assert len(load_gtsrb(tmp_path / "GTSRB").train) == 9


def test_kaggle_layout(tmp_path):
    data = load_gtsrb(make_kaggle(tmp_path, COUNTS))
    assert data.layout == "kaggle"
    assert len(data.train) == 9 and len(data.test) == 6
    for image, label in zip(data.train.images, data.train.labels, strict=True):
        _assert_clean_crop(image, int(label))


def test_roi_is_scaled_to_the_file_size(tmp_path):
    # CSV describes frames twice the size of the files: the ROI must be scaled, not cropped out of bounds.
    direct = load_gtsrb(make_official(tmp_path / "a", COUNTS, scale=1))
    scaled = load_gtsrb(make_official(tmp_path / "b", COUNTS, scale=2))
    np.testing.assert_array_equal(direct.train.images, scaled.train.images)
    np.testing.assert_array_equal(direct.test.images, scaled.test.images)


def test_normal_split(tmp_path):
    data = load_gtsrb(make_official(tmp_path, COUNTS))
    split = normal_split(data, 14)
    assert split.train.shape == (4, 3, 32, 32) and split.test.shape == (3, 3, 32, 32)
    assert (data.test.labels[split.test_index] == 14).all()
    np.testing.assert_array_equal(data.test.images[split.test_index], split.test)
    assert normal_split(data, 0).train.shape[0] == 3


def test_cache_hit_skips_image_decoding(tmp_path, monkeypatch):
    root = make_official(tmp_path / "data", COUNTS)
    first = load_gtsrb(root, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1

    def fail(*_args, **_kwargs):
        raise AssertionError("image decoded despite a valid cache")

    monkeypatch.setattr(gtsrb, "crop_roi", fail)
    second = load_gtsrb(root, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(first.train.images, second.train.images)
    np.testing.assert_array_equal(first.test.labels, second.test.labels)
    assert first.fingerprint == second.fingerprint


def test_a_fresh_copy_of_the_same_data_has_the_same_content_hash(tmp_path):
    import shutil
    import time

    root = make_official(tmp_path / "data", COUNTS)
    first = load_gtsrb(root, cache_dir=tmp_path / "cache")
    time.sleep(0.01)
    copy = shutil.copytree(root, tmp_path / "copy", copy_function=shutil.copy)  # new modification times
    second = load_gtsrb(copy, cache_dir=tmp_path / "cache")
    assert second.fingerprint != first.fingerprint  # the loader cache is keyed by file times ...
    assert second.content_sha256 == first.content_sha256  # ... the victim cache by the content


def test_changed_csv_invalidates_cache(tmp_path):
    root = make_official(tmp_path / "data", COUNTS)
    first = load_gtsrb(root, cache_dir=tmp_path / "cache")
    csv_path = root / "GTSRB" / "Final_Training" / "Images" / "00000" / "GT-00000.csv"
    lines = csv_path.read_text().splitlines(keepends=True)
    csv_path.write_text("".join(lines[:-1]))  # drop one training image
    second = load_gtsrb(root, cache_dir=tmp_path / "cache")
    assert len(second.train) == len(first.train) - 1
    assert second.fingerprint != first.fingerprint


def test_damaged_cache_is_rebuilt(tmp_path):
    root = make_official(tmp_path / "data", COUNTS)
    load_gtsrb(root, cache_dir=tmp_path / "cache")
    (cache_file,) = (tmp_path / "cache").glob("*.npz")
    cache_file.write_bytes(b"not an npz")
    assert len(load_gtsrb(root, cache_dir=tmp_path / "cache").train) == 9


def test_missing_root(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_gtsrb(tmp_path / "nope")


def test_folder_without_gtsrb(tmp_path):
    with pytest.raises(DataError, match="no GTSRB found"):
        load_gtsrb(tmp_path)


def test_missing_training_csv(tmp_path):
    root = make_official(tmp_path, COUNTS)
    (root / "GTSRB" / "Final_Training" / "Images" / "00014" / "GT-00014.csv").unlink()
    with pytest.raises(DataError, match=r"GT-00014\.csv: missing"):
        load_gtsrb(root)


def test_missing_test_csv(tmp_path):
    root = make_official(tmp_path, COUNTS)
    (root / "GTSRB" / "Final_Test" / "GT-final_test.csv").unlink()
    with pytest.raises(DataError, match="GT-final_test.csv not found"):
        load_gtsrb(root)


def test_missing_image(tmp_path):
    root = make_official(tmp_path, COUNTS)
    (root / "GTSRB" / "Final_Test" / "Images" / "00001.ppm").unlink()
    with pytest.raises(DataError, match=r"GT-final_test\.csv:3: image .*00001\.ppm is missing"):
        load_gtsrb(root)


def test_unreadable_image(tmp_path):
    root = make_official(tmp_path, COUNTS)
    (root / "GTSRB" / "Final_Training" / "Images" / "00042" / "00000_00001.ppm").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"GT-00042\.csv:3: image .*00000_00001\.ppm cannot be read"):
        load_gtsrb(root)


def test_malformed_csv_row(tmp_path):
    root = make_official(tmp_path, COUNTS)
    csv_path = root / "GTSRB" / "Final_Test" / "GT-final_test.csv"
    csv_path.write_text(csv_path.read_text().replace(";14\n", ";x\n", 1))
    with pytest.raises(DataError, match="non-integer"):
        load_gtsrb(root)


def test_normal_class_without_images(tmp_path):
    data = load_gtsrb(make_official(tmp_path, COUNTS))
    with pytest.raises(DataError, match="--normal-class 5: no images"):
        normal_split(data, 5)
    with pytest.raises(DataError, match="must be a GTSRB class id"):
        normal_split(data, 99)


def test_cli_info_json(tmp_path, capsys):
    root = make_official(tmp_path / "data", COUNTS)
    code = cli.main(["info", "--gtsrb-root", str(root), "--data-dir", str(tmp_path / "d"), "--json"])
    assert code == 0
    info = json.loads(capsys.readouterr().out)
    assert info["train"] == 9 and info["test"] == 6 and info["classes"] == 3
    assert (info["normal_class"], info["normal_train"], info["normal_test"]) == (14, 4, 3)


def test_cli_root_from_environment(tmp_path, capsys, monkeypatch):
    root = make_official(tmp_path / "data", COUNTS)
    monkeypatch.setenv("ADVBENCH_GTSRB_ROOT", str(root))
    assert cli.main(["info", "--data-dir", str(tmp_path / "d"), "--normal-class", "0"]) == 0
    fields = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert fields["root"] == str(root) and fields["layout"] == "official"
    assert (fields["train"], fields["test"], fields["classes"]) == ("9", "6", "3")
    assert (fields["normal_class"], fields["normal_train"], fields["normal_test"]) == ("0", "3", "2")  # COUNTS[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--gtsrb-root", "MISSING"], "does not exist"),
        (["--normal-class", "5"], "--normal-class 5: no images"),
        ([], "--gtsrb-root is required"),
    ],
)
def test_cli_errors_are_one_line_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.delenv("ADVBENCH_GTSRB_ROOT", raising=False)
    root = make_official(tmp_path / "data", COUNTS)
    args = [str(tmp_path / a) if a == "MISSING" else a for a in args]
    if "--gtsrb-root" not in args and args:
        args = ["--gtsrb-root", str(root), *args]
    code = cli.main(["info", "--data-dir", str(tmp_path / "d"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.skipif(not REAL_ROOT.is_dir(), reason="real GTSRB copy (../shared/data/gtsrb) not present")
def test_real_gtsrb(tmp_path_factory):
    data = load_gtsrb(REAL_ROOT, cache_dir=REPO / "datasets" / "cache")
    assert (len(data.train), len(data.test)) == (39209, 12630)
    assert np.unique(data.train.labels).size == 43 and np.unique(data.test.labels).size == 43
    split = normal_split(data, 14)
    assert (split.train.shape[0], split.test.shape[0]) == (780, 270)
    assert split.train.shape[1:] == (3, 32, 32) and split.train.dtype == np.uint8
    # Sane statistics: real photographs, not blank or saturated crops; stop signs are red.
    for images in (data.train.images, data.test.images):
        assert 60 < images.mean() < 140 and images.std() > 40
        assert (images.reshape(len(images), -1).std(axis=1) > 2).mean() > 0.97  # GTSRB has some very dark frames
    red, green, blue = split.train.astype(float).mean(axis=(0, 2, 3))
    assert red > green + 30 and red > blue + 30
