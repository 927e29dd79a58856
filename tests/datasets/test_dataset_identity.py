"""Which benchmark a folder of IDX files holds: another benchmark's official files are refused, a
copy of neither is read with a one-line warning, the official files pass silently.

The official files cannot ship with the tests, so most tests enter the small files' hashes in the
table of official ones (``official.OFFICIAL``) under the name they should pass for."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
from idx_files import REAL_FASHION_MNIST, REAL_MNIST, idx_bytes, write_files

from advbench import cli
from advbench.datasets import mnist, official
from advbench.errors import DataError


def _content_sha256(path) -> str:
    return hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()


def _as_official(monkeypatch, root, benchmark: str, names=None) -> None:
    """Enter the files of ``root`` into the table of official files as ``benchmark``'s (each under
    its own name, or under ``names[i]``)."""
    for name, official_name in zip(mnist.FILES, names or mnist.FILES, strict=True):
        monkeypatch.setitem(official.OFFICIAL, _content_sha256(root / name), (benchmark, official_name))


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    """Each test starts as a fresh process that has warned about no copy."""
    monkeypatch.setattr(official, "_WARNED", set())


def _commands(root, tmp_path) -> list[list[str]]:
    """The commands that read ``--benchmark mnist --root ROOT``, cut short where they can be."""
    common = ["--benchmark", "mnist", "--root", str(root)]
    return [
        ["info", *common],
        ["generate-attacks", *common, "--out", str(tmp_path / "out.h5"), "--attacks", "fgsm", "--device", "cpu"],
        ["run", *common, "--out", str(tmp_path / "run"), "--detectors", "ocsvm"],
    ]


def test_another_benchmarks_files_are_refused_by_every_command(tmp_path, monkeypatch, capsys):
    root = write_files(tmp_path / "fashion")
    _as_official(monkeypatch, root, "fashion-mnist")
    message = f"{root}: holds the official fashion-mnist files, not mnist's (read them with --benchmark fashion-mnist)"
    for argv in _commands(root, tmp_path):
        assert cli.main(argv) == 2, argv
        assert capsys.readouterr().err == f"advbench {argv[0]}: error: {message}\n"
    assert not (tmp_path / "out.h5").exists() and not (tmp_path / "run" / "results.jsonl").exists()
    assert cli.main(["info", "--benchmark", "fashion-mnist", "--root", str(root)]) == 0
    assert capsys.readouterr().err == ""  # the same files are fine as what they are


def test_one_misplaced_official_file_is_named(tmp_path, monkeypatch):
    root = write_files(tmp_path / "m")
    names = list(mnist.FILES)
    names[2] = mnist.FILES[0]  # the test images are MNIST's training images
    _as_official(monkeypatch, root, "mnist", names)
    with pytest.raises(DataError) as caught:
        mnist.load("mnist", root)
    assert str(caught.value) == (
        f"{root / mnist.FILES[2]}: is the official mnist {mnist.FILES[0]}, not mnist's {mnist.FILES[2]}"
    )
    _as_official(monkeypatch, root, "mnist")
    monkeypatch.setitem(official.OFFICIAL, _content_sha256(root / mnist.FILES[3]), ("fashion-mnist", mnist.FILES[3]))
    with pytest.raises(DataError, match=f"{mnist.FILES[3]}: is the official fashion-mnist {mnist.FILES[3]}, not mnist"):
        mnist.load("mnist", root)


def test_an_unknown_copy_is_read_with_one_warning_naming_its_hash(tmp_path, capsys):
    root = write_files(tmp_path / "m")
    assert cli.main(["info", "--benchmark", "mnist", "--root", str(root), "--json"]) == 0
    sha256 = mnist.files_sha256(root)
    assert capsys.readouterr().err == (
        f"advbench: warning: {root}: not the official mnist files (4 of 4 match no official checksum; "
        f"sha256 {sha256[:16]}...); read as mnist\n"
    )
    assert mnist.load("mnist", root).sha256 == sha256  # loaded again in this process: no second warning
    assert capsys.readouterr().err == ""


def test_official_files_pass_silently_and_a_changed_one_is_counted(tmp_path, monkeypatch, capsys):
    root = write_files(tmp_path / "m")
    _as_official(monkeypatch, root, "mnist")
    assert mnist.load("mnist", root).summary()["train"] == 30
    assert capsys.readouterr().err == ""
    # recompressed (another gzip header), the files are the same
    for name in mnist.FILES:
        (root / name).write_bytes(gzip.compress(gzip.decompress((root / name).read_bytes()), mtime=1))
    mnist.load("mnist", root)
    assert capsys.readouterr().err == ""
    (root / mnist.FILES[3]).write_bytes(idx_bytes(np.ones(10)))
    mnist.load("mnist", root)
    assert "(1 of 4 match no official checksum;" in capsys.readouterr().err


@pytest.mark.skipif(
    not (REAL_MNIST.is_dir() and REAL_FASHION_MNIST.is_dir()),
    reason="the official MNIST and Fashion-MNIST files are not beside the checkout",
)
def test_real_fashion_mnist_is_not_mnist(capsys):
    assert cli.main(["info", "--benchmark", "mnist", "--root", str(REAL_FASHION_MNIST)]) == 2
    assert capsys.readouterr().err == (
        f"advbench info: error: {REAL_FASHION_MNIST}: holds the official fashion-mnist files, not mnist's "
        "(read them with --benchmark fashion-mnist)\n"
    )
    assert cli.main(["info", "--benchmark", "mnist", "--root", str(REAL_MNIST)]) == 0
    assert capsys.readouterr().err == ""
