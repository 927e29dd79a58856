"""The benchmark HDF5 file: round trip, atomic writes, clear errors for missing/damaged/foreign files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from advbench.datasets import benchmark_file as bf
from advbench.errors import DataError
from advbench.fileio import sha256_file


def _benchmark(seed: int = 0) -> bf.BenchmarkContents:
    rng = np.random.default_rng(seed)
    images = lambda n: rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)  # noqa: E731
    attacks = {}
    for name, k in (("boundary", 3), ("fgsm", 0), ("bim", 4), ("bim@eps=32/255", 2)):
        attacks[name] = bf.AttackSet(
            images=images(k),
            source_index=np.arange(k),
            predicted_label=np.full(k, 2),
            l2=rng.random(k),
            linf=rng.random(k),
            attrs={
                "family": name.partition("@")[0],
                "params": {"eps": 0.03, "steps": 10},
                "attempted": 5,
                "succeeded": k,
                "kept": k,
                "nonfinite": 0,
            },
        )
    attrs = {
        "normal_class": 14,
        "seed": seed,
        "victim_test_accuracy": 0.97,
        "csv_sha256": {"a.csv": "ff"},
        "limit": None,
    }
    return bf.BenchmarkContents(images(6), images(5), attacks, attrs)


def test_round_trip_keeps_arrays_attrs_and_order(tmp_path):
    path = tmp_path / "b.h5"
    original = _benchmark()
    sha = bf.write_benchmark(path, original)
    back = bf.read_benchmark(path)
    assert sha == back.sha256 == sha256_file(path)
    np.testing.assert_array_equal(back.normal_train, original.normal_train)
    np.testing.assert_array_equal(back.normal_test, original.normal_test)
    assert list(back.attacks) == ["boundary", "fgsm", "bim", "bim@eps=32/255"]  # a "/" in a name nests no group
    for name, attack in original.attacks.items():
        for key in ("images", "source_index", "predicted_label", "l2", "linf"):
            np.testing.assert_array_equal(getattr(back.attacks[name], key), getattr(attack, key))
        assert back.attacks[name].attrs == attack.attrs
    assert back.attacks["fgsm"].images.shape == (0, 3, 32, 32)
    assert back.attrs["csv_sha256"] == {"a.csv": "ff"} and back.attrs["limit"] is None
    assert back.attrs["schema_version"] == bf.SCHEMA_VERSION


def test_summary_counts_and_medians(tmp_path):
    path = tmp_path / "b.h5"
    original = _benchmark()
    bf.write_benchmark(path, original)
    info = bf.summary(path)
    assert info["normal_train"] == 6 and info["normal_test"] == 5
    assert info["victim_test_accuracy"] == pytest.approx(0.97)
    bim = info["attacks"]["bim"]
    assert bim["count"] == 4 and bim["attempted"] == 5 and bim["kept_rate"] == pytest.approx(0.8)
    assert bim["median_l2"] == pytest.approx(np.median(original.attacks["bim"].l2))
    assert info["attacks"]["fgsm"]["median_l2"] is None and info["attacks"]["fgsm"]["kept_rate"] == 0


def test_version_1_file_is_read_with_succeeded_counted_after_rounding(tmp_path):
    """Version 1 counted ``succeeded`` before rounding (FGSM, BIM): it becomes ``fooled_before_rounding``."""
    path = tmp_path / "v1.h5"
    original = _benchmark()
    original.attacks["bim"].attrs.update(succeeded=5, kept=4)  # one image fooled the victim only before rounding
    bf.write_benchmark(path, original)
    with h5py.File(path, "r+") as handle:
        handle.attrs["schema_version"] = 1
    bim = bf.read_benchmark(path).attacks["bim"]
    assert (bim.attrs["fooled_before_rounding"], bim.attrs["succeeded"], bim.attrs["kept"]) == (5, 4, 4)
    summary = bf.summary(path)["attacks"]["bim"]
    assert (summary["succeeded"], summary["fooled_before_rounding"], summary["kept_rate"]) == (4, 5, 0.8)


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    path = tmp_path / "b.h5"
    real = h5py.Group.create_dataset
    calls = []

    def failing(self, name, *args, **kwargs):
        calls.append(name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", failing)
    with pytest.raises(KeyboardInterrupt):
        bf.write_benchmark(path, _benchmark())
    assert list(tmp_path.iterdir()) == []


def test_interrupted_overwrite_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "b.h5"
    bf.write_benchmark(path, _benchmark(0))
    before = sha256_file(path)
    monkeypatch.setattr(h5py.Group, "create_dataset", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        bf.write_benchmark(path, _benchmark(1))
    assert sha256_file(path) == before and len(list(tmp_path.iterdir())) == 1


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such benchmark file"):
        bf.read_benchmark(tmp_path / "absent.h5")


def test_not_hdf5(tmp_path):
    path = tmp_path / "text.h5"
    path.write_text("not hdf5\n")
    with pytest.raises(DataError, match=r"text\.h5.*not a readable HDF5 file"):
        bf.read_benchmark(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "b.h5"
    bf.write_benchmark(path, _benchmark())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"b\.h5"):
        bf.read_benchmark(path)


def test_other_schema_version(tmp_path):
    path = tmp_path / "b.h5"
    bf.write_benchmark(path, _benchmark())
    with h5py.File(path, "r+") as handle:
        handle.attrs["schema_version"] = bf.SCHEMA_VERSION + 1
    with pytest.raises(DataError, match="schema version"):
        bf.read_benchmark(path)


def test_foreign_hdf5_and_missing_dataset(tmp_path):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as handle:
        handle["x"] = np.zeros(3)
    with pytest.raises(DataError, match="not an advbench benchmark file"):
        bf.read_benchmark(foreign)
    path = tmp_path / "b.h5"
    bf.write_benchmark(path, _benchmark())
    with h5py.File(path, "r+") as handle:
        del handle["attacks/bim/l2"]
    with pytest.raises(DataError, match="damaged"):
        bf.read_benchmark(path)


def test_incomplete_flag(tmp_path):
    path = tmp_path / "b.h5"
    bf.write_benchmark(path, _benchmark())
    with h5py.File(path, "r+") as handle:
        handle.attrs["complete"] = False
    with pytest.raises(DataError, match="incomplete"):
        bf.read_benchmark(path)


def test_rejects_bad_arrays(tmp_path):
    bench = _benchmark()
    bench.attacks["bim"].l2 = bench.attacks["bim"].l2[:2]
    with pytest.raises(ValueError, match="unequal length"):
        bf.write_benchmark(tmp_path / "b.h5", bench)
    bench = _benchmark()
    bench.normal_test = bench.normal_test.astype(np.float32)
    with pytest.raises(ValueError, match="uint8"):
        bf.write_benchmark(tmp_path / "b.h5", bench)
    assert not (tmp_path / "b.h5").exists()


def test_schema_3_file_reads_without_victim_with_the_normal_class_as_labels(tmp_path):
    """Files before schema 4 (no benchmark, victim, labels or rows) are still read: GTSRB's, every label
    the normal class, the test rows from their attribute; asking for their victim is a one-line error."""
    path = tmp_path / "v3.h5"
    original = _benchmark()
    original.attrs["normal_test_gtsrb_index"] = [3, 5, 7, 9, 11]
    bf.write_benchmark(path, original)
    with h5py.File(path, "r+") as handle:
        handle.attrs["schema_version"] = 3
    back = bf.read_benchmark(path)
    assert back.benchmark == "gtsrb" and back.victim is None and back.train_index is None
    assert back.train_labels.tolist() == [14] * 6 and back.test_labels.tolist() == [14] * 5
    assert back.test_index.tolist() == [3, 5, 7, 9, 11]
    with pytest.raises(DataError, match=r"--victim-from .*v3\.h5: holds no victim \(schema version 3"):
        bf.read_victim(path)


def test_grey_images_labels_rows_and_victim_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    grey = lambda n: rng.integers(0, 256, size=(n, 1, 28, 28), dtype=np.uint8)  # noqa: E731
    attack = bf.AttackSet(grey(2), np.array([0, 2]), np.array([1, 1]), np.ones(2), np.ones(2), {"family": "fgsm"})
    victim = {"arrays": {"w.weight": rng.random((2, 3)).astype(np.float32)}, "attrs": {"sha256": "ab", "x": [1]}}
    bench = bf.BenchmarkContents(
        grey(4),
        grey(3),
        {"fgsm": attack},
        {"benchmark": "mnist", "normal_class": "all"},
        train_labels=np.array([0, 1, 2, 3]),
        test_labels=np.array([4, 5, 6]),
        train_index=np.array([10, 11, 12, 13]),
        test_index=np.array([0, 5, 9]),
        victim=victim,
    )
    path = tmp_path / "grey.h5"
    bf.write_benchmark(path, bench)
    back = bf.read_benchmark(path)
    assert back.benchmark == "mnist" and back.attrs["normal_class"] == "all"
    for key in ("train_labels", "test_labels", "train_index", "test_index"):
        np.testing.assert_array_equal(getattr(back, key), getattr(bench, key))
    np.testing.assert_array_equal(back.victim["arrays"]["w.weight"], victim["arrays"]["w.weight"])
    arrays, meta = bf.read_victim(path)
    assert meta == {"sha256": "ab", "x": [1], "benchmark": "mnist", "image_shape": [1, 28, 28]}
    assert bf.summary(path)["image_shape"] == [1, 28, 28] and bf.summary(path)["victim_sha256"] == "ab"
    bench.normal_train = rng.integers(0, 256, size=(4, 3, 28, 28), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"normal_train: expected uint8 images of shape \(N, 1, 28, 28\)"):
        bf.write_benchmark(tmp_path / "mixed.h5", bench)
