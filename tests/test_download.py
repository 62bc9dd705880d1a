"""Resumable, verified downloads from a real HTTP server on 127.0.0.1; weight import by digest."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time
import urllib.parse
from typing import Self

import pytest

from faceboard.download import DownloadError, Unreachable, download
from faceboard.weights import manage, registry

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class FileServer:
    """A real HTTP server on 127.0.0.1 serving `files` ({path: bytes}) with `Range: bytes=N-` support.

    `cut[path] = n` makes the next answer for `path` stop after n body bytes although its
    Content-Length promised all of them (a dropped connection); `sent` counts body bytes sent,
    `requests` the paths asked for."""

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.files = dict(files or {})
        self.cut: dict[str, int] = {}
        self.sent = 0
        self.requests: list[str] = []

    def __enter__(self) -> Self:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        owner: FileServer = self.server.owner
        path = urllib.parse.unquote(self.path.lstrip("/"))
        owner.requests.append(path)
        if path not in owner.files:
            self.send_error(404)
            return
        start = int(self.headers.get("Range", "bytes=0-").split("=")[1].rstrip("-") or 0)
        body = owner.files[path][start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if path in owner.cut:
            body = body[:owner.cut.pop(path)]
            self.close_connection = True
        owner.sent += len(body)  # counted before writing: the client may finish before this thread resumes
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    with FileServer({"file": PAYLOAD}) as srv:
        yield srv


def test_download_verifies_and_places_atomically(server, tmp_path):
    target = download(f"{server.url}/file", tmp_path / "w.bin", sha256=DIGEST)
    assert target.read_bytes() == PAYLOAD and not (tmp_path / "w.bin.part").exists()


def test_download_resumes_a_partial_file(server, tmp_path):
    (tmp_path / "w.bin.part").write_bytes(PAYLOAD[:300_000])
    download(f"{server.url}/file", tmp_path / "w.bin", check=lambda d: d == DIGEST)
    assert (tmp_path / "w.bin").read_bytes() == PAYLOAD
    assert server.sent == len(PAYLOAD) - 300_000


def test_a_transfer_that_breaks_off_is_kept_and_resumed(server, tmp_path):
    server.cut["file"] = 300_000
    with pytest.raises(Unreachable, match="broke off after 300000 of 1048576 bytes.*resume"):
        download(f"{server.url}/file", tmp_path / "w.bin", sha256=DIGEST, retries=0)
    assert (tmp_path / "w.bin.part").stat().st_size == 300_000 and not (tmp_path / "w.bin").exists()
    download(f"{server.url}/file", tmp_path / "w.bin", sha256=DIGEST)
    assert (tmp_path / "w.bin").read_bytes() == PAYLOAD and server.sent == len(PAYLOAD)


def test_a_transfer_that_breaks_off_is_retried_at_once_from_where_it_stopped(server, tmp_path, capsys):
    server.cut["file"] = 300_000
    download(f"{server.url}/file", tmp_path / "w.bin", sha256=DIGEST)
    assert (tmp_path / "w.bin").read_bytes() == PAYLOAD and server.sent == len(PAYLOAD)  # no byte sent twice
    assert server.requests == ["file", "file"] and "retrying in 1 s (1 of 3)" in capsys.readouterr().err


def test_a_refused_connection_is_not_retried(tmp_path):
    start = time.monotonic()
    with pytest.raises(Unreachable):
        download("http://127.0.0.1:9/x", tmp_path / "w.bin", timeout=5)
    assert time.monotonic() - start < 0.9  # under the first retry's delay: offline fails at once


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match=f"checksum mismatch \\(sha256 {DIGEST}, expected 0+\\)"):
        download(f"{server.url}/file", tmp_path / "w.bin", sha256="0" * 64)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download(f"{server.url}/file", tmp_path / "w.bin", check=lambda d: False)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_or_missing_url_names_url_and_target(server, tmp_path):
    with pytest.raises(DownloadError, match=r"HTTP 404.*place it at .*w\.bin") as missing:
        download(f"{server.url}/nope", tmp_path / "w.bin")
    assert not isinstance(missing.value, Unreachable)  # a server that answers is not "offline"
    with pytest.raises(Unreachable, match="127.0.0.1:9/x"):
        download("http://127.0.0.1:9/x", tmp_path / "w.bin", timeout=5)


def test_a_silent_server_times_out_instead_of_hanging(tmp_path):
    with socket.socket() as listener:  # accepts connections (kernel backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        start = time.monotonic()
        with pytest.raises(Unreachable, match="timed out"):
            download(f"http://127.0.0.1:{listener.getsockname()[1]}/x", tmp_path / "w.bin", timeout=0.5, retries=1)
    assert time.monotonic() - start < 5


@pytest.fixture
def fake_weight(tmp_path, monkeypatch, server):
    monkeypatch.setenv("FACEBOARD_CACHE", str(tmp_path / "cache"))
    weight = registry.WeightFile("fake", "fake.bin", "faceboard/fake", urls=(f"{server.url}/file",), sha256=DIGEST)
    monkeypatch.setitem(registry.WEIGHTS, "fake", weight)
    return weight


def test_weights_fetch_status_and_import(fake_weight, tmp_path):
    assert manage.status(fake_weight).state == "missing"
    assert manage.fetch("fake").read_bytes() == PAYLOAD
    assert manage.status(fake_weight).state == "verified"
    fake_weight.path.unlink()
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "fake.bin").write_bytes(PAYLOAD)
    assert [w.name for w, _ in manage.import_dir(tmp_path / "downloads")] == ["fake"]
    assert fake_weight.path.read_bytes() == PAYLOAD


def test_import_refuses_a_file_with_the_wrong_digest(fake_weight, tmp_path):
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "fake.bin").write_bytes(b"tampered")
    with pytest.raises(ValueError, match="does not match"):
        manage.import_dir(tmp_path / "downloads")
    assert not fake_weight.path.exists()


def test_hugging_face_weights_are_fetched_through_the_hub_client(monkeypatch, tmp_path):
    calls = []

    def fake_download(repo_id, filename):
        calls.append((repo_id, filename))
        return str(tmp_path / filename)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(registry.WeightFile, "present", lambda self: False)
    path = manage.fetch("vit_base_patch8_224")
    assert calls == [("timm/vit_base_patch8_224.augreg2_in21k_ft_in1k", "model.safetensors")]
    assert path == tmp_path / "model.safetensors"
    assert "faceboard weights fetch vit_base_patch8_224" in registry.get("vit_base_patch8_224").fix


def test_hub_and_package_files_are_never_placed_by_hand(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    vit, ncnn = registry.get("vit_base_patch8_224"), registry.get("realesrgan_x4plus_ncnn_bin")
    assert manage.status(vit).fix == vit.fix and "place it at" not in vit.fix
    monkeypatch.setattr(registry, "package_dir", lambda sub: tmp_path / "not-installed")
    assert "pip install" in manage.status(ncnn).fix
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / vit.file_name).write_bytes(b"a hub file has no single place")
    assert manage.import_dir(tmp_path / "downloads") == []
