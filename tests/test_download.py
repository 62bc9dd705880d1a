"""Resumable, verified downloads from a real HTTP server on 127.0.0.1; weight import by digest."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from faceboard.download import DownloadError, download
from faceboard.weights import manage, registry

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /file, honouring `Range: bytes=N-`; counts the bytes it sends."""

    sent = 0

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path != "/file":
            self.send_error(404)
            return
        start = int(self.headers.get("Range", "bytes=0-").split("=")[1].rstrip("-") or 0)
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        type(self).sent += len(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    RangeHandler.sent = 0
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def test_download_verifies_and_places_atomically(server, tmp_path):
    target = download(f"{server}/file", tmp_path / "w.bin", check=lambda d: d == DIGEST)
    assert target.read_bytes() == PAYLOAD and not (tmp_path / "w.bin.part").exists()


def test_download_resumes_a_partial_file(server, tmp_path):
    (tmp_path / "w.bin.part").write_bytes(PAYLOAD[:300_000])
    download(f"{server}/file", tmp_path / "w.bin", check=lambda d: d == DIGEST)
    assert (tmp_path / "w.bin").read_bytes() == PAYLOAD
    assert RangeHandler.sent == len(PAYLOAD) - 300_000


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download(f"{server}/file", tmp_path / "w.bin", check=lambda d: False)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_or_missing_url_names_url_and_target(server, tmp_path):
    with pytest.raises(DownloadError, match=r"HTTP 404.*place it at .*w\.bin"):
        download(f"{server}/nope", tmp_path / "w.bin")
    with pytest.raises(DownloadError, match="127.0.0.1:9/x"):
        download("http://127.0.0.1:9/x", tmp_path / "w.bin", timeout=5)


@pytest.fixture
def fake_weight(tmp_path, monkeypatch, server):
    monkeypatch.setenv("FACEBOARD_CACHE", str(tmp_path / "cache"))
    weight = registry.WeightFile("fake", "fake.bin", "faceboard/fake", urls=(f"{server}/file",), sha256=DIGEST)
    monkeypatch.setitem(registry.WEIGHTS, "fake", weight)
    return weight


def test_weights_fetch_status_and_import(fake_weight, tmp_path):
    assert manage.status(fake_weight).state == "missing"
    assert manage.fetch("fake").read_bytes() == PAYLOAD
    assert manage.status(fake_weight).state == "present"
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
