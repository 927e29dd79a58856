"""MNIST / Fashion-MNIST IDX files: reading, damaged files, ``info --benchmark``, checked downloads."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from advbench import cli
from advbench.datasets import mnist
from advbench.datasets.idx import read_idx
from advbench.errors import DataError

REAL_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def _idx(array: np.ndarray) -> bytes:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def write_files(folder: Path, n_train: int = 30, n_test: int = 10) -> Path:
    """Four small IDX files with labels cycling through 0-9."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = (rng.integers(0, 256, (n_train, 28, 28)), np.arange(n_train) % 10,
              rng.integers(0, 256, (n_test, 28, 28)), np.arange(n_test) % 10)  # fmt: skip
    for name, array in zip(mnist.FILES, arrays):
        (folder / name).write_bytes(_idx(array))
    return folder


def test_load_shapes_counts_and_summary(tmp_path):
    data = mnist.load("mnist", write_files(tmp_path / "m"))
    assert data.train_images.shape == (30, 1, 28, 28) and data.train_images.dtype == np.uint8
    assert data.test_labels.tolist() == list(range(10))
    info = data.summary()
    assert (info["train"], info["test"], info["classes"]) == (30, 10, 10)
    assert info["train_per_class"]["0"] == 3 and info["test_per_class"]["9"] == 1


@pytest.mark.parametrize(("damage", "message"), [
    (lambda raw: gzip.compress(gzip.decompress(raw)[:-5]), "the file holds"),
    (lambda raw: gzip.compress((1234).to_bytes(4, "big") + gzip.decompress(raw)[4:]), "magic number 1234"),
    (lambda raw: raw[: len(raw) // 2], "not a readable gzip file"),
    (lambda raw: gzip.compress(b"\x00\x00"), "too short"),
])  # fmt: skip
def test_damaged_files_are_one_line_errors_naming_the_file(tmp_path, capsys, damage, message):
    root = write_files(tmp_path / "m")
    path = root / mnist.FILES[0]
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataError, match=message):
        read_idx(path)
    assert cli.main(["info", "--benchmark", "mnist", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err and err.count("\n") == 1


def test_labels_that_do_not_match_the_images_are_refused(tmp_path):
    root = write_files(tmp_path / "m")
    (root / mnist.FILES[1]).write_bytes(_idx(np.zeros(29)))
    with pytest.raises(DataError, match="29 labels for 30 images"):
        mnist.load("mnist", root)


def test_info_reads_the_environment_default(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADVBENCH_FASHION_MNIST_ROOT", str(write_files(tmp_path / "f")))
    assert cli.main(["info", "--benchmark", "fashion-mnist", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["benchmark"] == "fashion-mnist" and info["train"] == 30


@pytest.fixture
def served(tmp_path, monkeypatch):
    """The small files behind a local HTTP server, their MD5s in place of the official ones."""
    folder = write_files(tmp_path / "served")
    md5 = {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in mnist.FILES}
    monkeypatch.setitem(mnist.SOURCES, "mnist", mnist.Source("unused", md5))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    httpd.shutdown()
    httpd.server_close()


def test_download_checks_md5s_and_keeps_good_files(tmp_path, served):
    url, folder = served
    target = mnist.download("mnist", tmp_path / "got", base_url=url)
    assert mnist.load("mnist", target).summary()["train"] == 30
    before = {name: (target / name).stat().st_mtime_ns for name in mnist.FILES}
    mnist.download("mnist", target, base_url=url)  # everything verified in place: nothing fetched
    assert before == {name: (target / name).stat().st_mtime_ns for name in mnist.FILES}
    (folder / mnist.FILES[3]).write_bytes(_idx(np.ones(10)))  # the server now serves another file
    (target / mnist.FILES[3]).unlink()
    with pytest.raises(DataError, match="MD5 mismatch"):
        mnist.download("mnist", target, base_url=url)
    assert not (target / mnist.FILES[3]).exists()


@pytest.mark.slow
@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="the official MNIST files are not beside the checkout")
def test_real_mnist_counts(capsys):
    assert cli.main(["info", "--benchmark", "mnist", "--root", str(REAL_MNIST), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["train"], info["test"]) == (60000, 10000)
    assert (info["train_per_class"]["0"], info["test_per_class"]["0"]) == (5923, 980)
