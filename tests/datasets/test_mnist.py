"""MNIST / Fashion-MNIST IDX files: reading, damaged files, ``info --benchmark``, checked downloads."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import threading

import numpy as np
import pytest
from idx_files import REAL_FASHION_MNIST, REAL_MNIST, idx_bytes, write_files

from advbench import cli
from advbench.datasets import mnist
from advbench.datasets.idx import read_idx
from advbench.errors import DataError


def test_load_shapes_counts_and_summary(tmp_path):
    data = mnist.load("mnist", write_files(tmp_path / "m"))
    assert data.train_images.shape == (30, 1, 28, 28) and data.train_images.dtype == np.uint8
    assert data.test_labels.tolist() == list(range(10))
    info = data.summary()
    assert (info["train"], info["test"], info["classes"]) == (30, 10, 10)
    assert info["train_per_class"]["0"] == 3 and info["test_per_class"]["9"] == 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: gzip.compress(gzip.decompress(raw)[:-5]), "the file holds"),
        (lambda raw: gzip.compress((1234).to_bytes(4, "big") + gzip.decompress(raw)[4:]), "magic number 1234"),
        (lambda raw: raw[: len(raw) // 2], "not a readable gzip file"),
        (lambda raw: gzip.compress(b"\x00\x00"), "too short"),
    ],
)
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
    (root / mnist.FILES[1]).write_bytes(idx_bytes(np.zeros(29)))
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
    (folder / mnist.FILES[3]).write_bytes(idx_bytes(np.ones(10)))  # the server now serves another file
    (target / mnist.FILES[3]).unlink()
    with pytest.raises(DataError, match="MD5 mismatch"):
        mnist.download("mnist", target, base_url=url)
    assert not (target / mnist.FILES[3]).exists()


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="the official MNIST files are not beside the checkout")
def test_real_mnist_counts(capsys):
    assert cli.main(["info", "--benchmark", "mnist", "--root", str(REAL_MNIST), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["train"], info["test"]) == (60000, 10000)
    assert (info["train_per_class"]["0"], info["test_per_class"]["0"]) == (5923, 980)


@pytest.mark.skipif(
    not REAL_FASHION_MNIST.is_dir(), reason="the official Fashion-MNIST files are not beside the checkout"
)
def test_real_fashion_mnist_counts(capsys):
    assert cli.main(["info", "--benchmark", "fashion-mnist", "--root", str(REAL_FASHION_MNIST), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["benchmark"] == "fashion-mnist" and (info["train"], info["test"]) == (60000, 10000)
    assert info["train_per_class"] == {str(c): 6000 for c in range(10)}
    assert info["test_per_class"] == {str(c): 1000 for c in range(10)}
