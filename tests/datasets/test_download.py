"""GTSRB download: checksums, extraction, resume, restart and offline errors, against a local server."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest
from gtsrb_trees import make_official

from advbench.datasets import download
from advbench.datasets.download import Archive, download_gtsrb
from advbench.datasets.gtsrb import load_gtsrb
from advbench.errors import DataError

COUNTS = {14: (3, 2), 1: (2, 1)}


def _zip_folder(folder: Path, arcroot: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(arcroot))
    return buffer.getvalue()


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    honour_range = True
    requests: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802 - http.server API
        name = self.path.rsplit("/", 1)[-1]
        self.requests.append((name, self.headers.get("Range")))
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if self.honour_range and self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve three archives shaped like the official ones on 127.0.0.1."""
    src = make_official(tmp_path / "src", COUNTS)
    gtsrb = src / "GTSRB"
    gt_csv = gtsrb / "Final_Test" / "GT-final_test.csv"
    gt_bytes = gt_csv.read_bytes()
    gt_csv.unlink()
    (gtsrb / "Final_Training" / "Images").rename(gtsrb / "Training")  # like GTSRB-Training_fixed.zip
    gt_zip = io.BytesIO()
    with zipfile.ZipFile(gt_zip, "w") as zf:
        zf.writestr("GT-final_test.csv", gt_bytes)
    files = {
        "train.zip": _zip_folder(gtsrb / "Training", src),
        "test.zip": _zip_folder(gtsrb / "Final_Test", src),
        "gt.zip": gt_zip.getvalue(),
    }
    archives = (
        Archive("train.zip", hashlib.md5(files["train.zip"]).hexdigest(), ""),
        Archive("test.zip", hashlib.md5(files["test.zip"]).hexdigest(), ""),
        Archive("gt.zip", hashlib.md5(files["gt.zip"]).hexdigest(), "GTSRB/Final_Test"),
    )
    monkeypatch.setattr(download, "ARCHIVES", archives)
    handler = type("Handler", (_RangeHandler,), {"files": files, "requests": [], "honour_range": True})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", handler
    httpd.shutdown()
    httpd.server_close()


def test_download_verify_extract_and_load(tmp_path, server):
    url, handler = server
    root = download_gtsrb(tmp_path / "gtsrb", base_url=url)
    data = load_gtsrb(root)
    assert (len(data.train), len(data.test)) == (5, 3)
    # A second call finds everything extracted and downloads nothing.
    handler.requests.clear()
    download_gtsrb(tmp_path / "gtsrb", base_url=url)
    assert handler.requests == []


def test_interrupted_download_resumes_with_range(tmp_path, server):
    url, handler = server
    target = tmp_path / "gtsrb"
    target.mkdir()
    body = handler.files["train.zip"]
    (target / "train.zip.part").write_bytes(body[: len(body) // 2])
    download_gtsrb(target, base_url=url)
    assert ("train.zip", f"bytes={len(body) // 2}-") in handler.requests
    assert (target / "train.zip").read_bytes() == body


def test_server_without_range_support_restarts_cleanly(tmp_path, server):
    url, handler = server
    handler.honour_range = False
    target = tmp_path / "gtsrb"
    target.mkdir()
    body = handler.files["test.zip"]
    (target / "test.zip.part").write_bytes(b"stale partial bytes")
    download_gtsrb(target, base_url=url)
    assert (target / "test.zip").read_bytes() == body


def test_checksum_mismatch_is_reported_and_file_removed(tmp_path, server, monkeypatch):
    url, _ = server
    bad = tuple(Archive(a.filename, "0" * 32, a.extract_to) for a in download.ARCHIVES)
    monkeypatch.setattr(download, "ARCHIVES", bad)
    with pytest.raises(DataError, match="MD5 mismatch"):
        download_gtsrb(tmp_path / "gtsrb", base_url=url)
    assert not (tmp_path / "gtsrb" / "train.zip").exists()


def test_interrupted_extraction_is_redone(tmp_path, server):
    url, _ = server
    root = download_gtsrb(tmp_path / "gtsrb", base_url=url)
    (root / ".test.zip.extracted").unlink()
    (root / "GTSRB" / "Final_Test" / "Images" / "00000.ppm").unlink()
    download_gtsrb(root, base_url=url)
    assert len(load_gtsrb(root).test) == 3


def test_offline_error_says_where_to_put_a_manual_copy(tmp_path):
    # Port 9 on loopback (discard) has no HTTP server here: the connection is refused at once.
    with pytest.raises(DataError, match=r"cannot download .*put .*into .* by hand"):
        download_gtsrb(tmp_path / "gtsrb", base_url="http://127.0.0.1:9/", timeout=5)
