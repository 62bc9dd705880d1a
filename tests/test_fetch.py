"""Fetching datasets: embedded, downloaded from a real HTTP server on 127.0.0.1 (archives built from
the sample's images), imported with --from, offline with a fallback, and with landmarks detected when
none are published. A fetch either leaves a complete, verified dataset or nothing that looks like one."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from faceboard import download as download_module
from faceboard.config import DatasetConfig, PartConfig, SourceConfig, load_params
from faceboard.datasets import DatasetError, manifest
from faceboard.datasets.extract import ArchiveError, UnsafeArchive
from faceboard.download import DownloadError, Unreachable
from faceboard.imageio import write_png_atomic
from tasks.fetch import fetch_dataset, fetch_entry
from tests.conftest import ROOT, SAMPLE, run_cli
from tests.test_download import FileServer

PARAMS = load_params(ROOT / "params.yaml")
SUBSETS = PARAMS.datasets["ntire2025-val-sample"].subsets


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(folder: Path) -> str:
    """A sha256sum list of the files under `folder`."""
    return "".join(f"{sha(p.read_bytes())}  {p.relative_to(folder).as_posix()}\n"
                   for p in sorted(folder.rglob("*")) if p.is_file())


def sample_config(**update) -> DatasetConfig:
    """The embedded sample, with its source at an absolute path (any root works)."""
    config = PARAMS.datasets["ntire2025-val-sample"]
    return config.model_copy(update={"source": config.source.model_copy(update={"path": str(SAMPLE)}), **update})


def http_config(*parts: dict, **update) -> DatasetConfig:
    return DatasetConfig(source=SourceConfig(type="http", parts=tuple(PartConfig(**p) for p in parts)),
                         subsets=SUBSETS, **update)


def assert_nothing_left(dest: Path) -> None:
    """No dataset, no `.partial`, no work folder: nothing that could pass for the dataset."""
    assert not dest.exists()
    assert not dest.parent.exists() or list(dest.parent.iterdir()) == []


@pytest.fixture
def release(tmp_path) -> Path:
    """The sample as an upstream release lays it out: release/images/<Subset>/*.png, release/faces.csv."""
    folder = tmp_path / "upstream" / "release"
    shutil.copytree(SAMPLE / "lq", folder / "images")
    shutil.copyfile(SAMPLE / "landmarks.csv", folder / "faces.csv")
    return folder


@pytest.fixture
def served(release):
    """release.tar.gz, release.zip and faces.csv on a real local HTTP server."""
    tgz, zipped = release.parent / "release.tar.gz", release.parent / "release.zip"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(release, arcname="release")
    with zipfile.ZipFile(zipped, "w") as zf:
        for path in sorted(release.rglob("*")):
            zf.write(path, path.relative_to(release.parent).as_posix())
    files = {p.name: p.read_bytes() for p in (tgz, zipped, release / "faces.csv")}
    with FileServer(files) as server:
        yield server


def archive_parts(server: FileServer, name: str = "release.tar.gz", fmt: str = "tar.gz", digest: bool = True,
                  **lq) -> tuple[dict, dict]:
    archive = {"into": "lq", "urls": [f"{server.url}/{name}"], "format": fmt, "select": "release/images",
               "sha256": sha(server.files[name]) if digest else None, "count": 10, **lq}
    csv = {"into": "landmarks.csv", "urls": [f"{server.url}/faces.csv"], "select": "release/faces.csv",
           "sha256": sha(server.files["faces.csv"])}
    return archive, csv


# --- embedded ---------------------------------------------------------------------------------------

def test_embedded_sample_is_copied_with_a_manifest_and_reused_when_intact(tmp_path):
    dest = tmp_path / "data" / "datasets" / "s"
    fetched = fetch_dataset("s", sample_config(), tmp_path, dest)
    assert fetched.status == "fetched"
    record = json.loads((dest / "manifest.json").read_text())
    files = {entry["file"]: entry for entry in record["files"]}
    assert len([f for f in files if f.startswith("lq/")]) == 10 and "landmarks.csv" in files
    entry = files["lq/CelebChild-Test/149_Kristen Bell_00.png"]
    assert entry["sha256"] == sha((dest / entry["file"]).read_bytes()) and entry["size"] == (dest / entry["file"]).stat().st_size
    assert record["verified"] is False and record["landmarks"]["source"] == "csv"  # no published digests
    assert fetch_dataset("s", sample_config(), tmp_path, dest).status == "up to date"
    (dest / entry["file"]).write_bytes(b"tampered")
    assert manifest.problems(dest, record) == [f"changed {entry['file']}"]
    assert fetch_dataset("s", sample_config(), tmp_path, dest).status == "fetched"  # rebuilt, not trusted
    assert manifest.problems(dest, manifest.read(dest)) == []


def test_undeclared_subset_leaves_no_dataset(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(SAMPLE, source)
    (source / "lq" / "Unknown").mkdir()
    shutil.copy(source / "lq" / "CelebA" / "162798.png", source / "lq" / "Unknown" / "x.png")
    config = sample_config(source=SourceConfig(type="embedded", path=str(source)))
    with pytest.raises(DatasetError, match="Unknown"):
        fetch_dataset("x", config, tmp_path, tmp_path / "ds" / "x")
    assert_nothing_left(tmp_path / "ds" / "x")


# --- over HTTP --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt", [("release.tar.gz", "tar.gz"), ("release.zip", "zip")])
def test_http_archive_is_downloaded_verified_and_cached(tmp_path, served, name, fmt):
    dest = tmp_path / "data" / "datasets" / "web"
    config = http_config(*archive_parts(served, name, fmt))
    fetched = fetch_dataset("web", config, tmp_path, dest)
    assert fetched.status == "fetched" and "UNVERIFIED" not in fetched.message
    record = manifest.read(dest)
    assert record["verified"] and record["parts"][0]["checks"] == [f"sha256 of {name}"]
    assert record["parts"][0]["images"] == 10 and record["parts"][0]["urls"] == [f"{served.url}/{name}"]
    for entry in record["files"]:
        assert sha((dest / entry["file"]).read_bytes()) == entry["sha256"]
    assert (dest / "landmarks.csv").read_bytes() == (SAMPLE / "landmarks.csv").read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["web"]  # no .partial, no work folder
    asked = len(served.requests)
    assert fetch_dataset("web", config, tmp_path, dest).status == "up to date" and len(served.requests) == asked
    shutil.rmtree(dest / "lq" / "CelebA")
    assert fetch_dataset("web", config, tmp_path, dest).status == "fetched"  # rebuilt from the download cache
    assert len(served.requests) == asked and manifest.problems(dest, manifest.read(dest)) == []


def test_a_files_part_fetches_each_listed_file_and_resumes_per_file(tmp_path):
    files = {f"lq/{p.relative_to(SAMPLE / 'lq').as_posix()}": p.read_bytes()
             for p in (SAMPLE / "lq").rglob("*.png")}
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "lq.sha256").write_text(listing(SAMPLE / "lq"))
    with FileServer({**files, "faces.csv": (SAMPLE / "landmarks.csv").read_bytes()}) as server:
        config = http_config(
            {"into": "lq", "format": "files", "urls": [f"{server.url}/lq"], "checksums": "lists/lq.sha256", "count": 10},
            {"into": "landmarks.csv", "urls": [f"{server.url}/faces.csv"], "sha256": sha(server.files["faces.csv"])})
        dest = tmp_path / "data" / "datasets" / "listed"
        record = fetch_dataset("listed", config, tmp_path, dest).manifest
        assert "lq/CelebChild-Test/149_Kristen Bell_00.png" in server.requests  # quoted in the URL, served back
        assert record["parts"][0]["checks"] == ["10 files against lists/lq.sha256"] and record["verified"]
        cached = tmp_path / "data" / "cache" / "downloads" / "listed" / "lq" / "CelebA" / "162798.png"
        cached.unlink()
        shutil.rmtree(dest)
        asked = len(server.requests)
        fetch_dataset("listed", config, tmp_path, dest)
        assert server.requests[asked:] == ["lq/CelebA/162798.png"]  # only the missing file again


@pytest.mark.parametrize("retries", [0, 3])
def test_an_interrupted_download_fails_cleanly_then_resumes(tmp_path, served, monkeypatch, retries):
    """Without retries the fetch fails cleanly and the next one resumes; with them it resumes at once."""
    monkeypatch.setattr(download_module, "RETRIES", retries)
    dest = tmp_path / "data" / "datasets" / "web"
    config = http_config(*archive_parts(served))
    size = len(served.files["release.tar.gz"])
    served.cut["release.tar.gz"] = size // 3
    if not retries:
        with pytest.raises(Unreachable, match="broke off.*run again to resume"):
            fetch_dataset("web", config, tmp_path, dest)
        assert_nothing_left(dest)
    fetched = fetch_dataset("web", config, tmp_path, dest)
    assert fetched.manifest["verified"]
    archive_bytes = [r for r in served.requests if r == "release.tar.gz"]
    assert len(archive_bytes) == 2 and served.sent == size + len(served.files["faces.csv"])  # nothing sent twice


def test_a_wrong_catalog_checksum_is_refused(tmp_path, served):
    dest = tmp_path / "data" / "datasets" / "web"
    archive, csv = archive_parts(served)
    with pytest.raises(DownloadError, match="checksum mismatch .*expected 0{64}"):
        fetch_dataset("web", http_config({**archive, "sha256": "0" * 64}, csv), tmp_path, dest)
    assert_nothing_left(dest)
    assert not list((tmp_path / "data" / "cache" / "downloads" / "web").iterdir())  # the bad bytes are gone


@pytest.mark.parametrize("corruption", ["archive with a digest", "file against its list", "unreadable archive"])
def test_corrupted_data_is_refused(tmp_path, served, release, corruption):
    dest = tmp_path / "data" / "datasets" / "web"
    good = served.files["release.tar.gz"]
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    if corruption == "archive with a digest":
        served.files["release.tar.gz"] = bytes(flipped)
        parts, error, match = archive_parts(served), DownloadError, "checksum mismatch"
        parts[0]["sha256"] = sha(good)
    elif corruption == "file against its list":
        (tmp_path / "lq.sha256").write_text(listing(release / "images").replace(sha((release / "images/CelebA/162798.png")
                                            .read_bytes()), "f" * 64))
        parts = archive_parts(served, digest=False, checksums="lq.sha256")
        error, match = DatasetError, r"1 files do not match lq\.sha256: CelebA/162798\.png"
    else:
        served.files["release.tar.gz"] = good[: len(good) // 2]
        parts, error, match = archive_parts(served, digest=False), ArchiveError, "not a readable tar.gz archive"
    with pytest.raises(error, match=match):
        fetch_dataset("web", http_config(*parts), tmp_path, dest)
    assert_nothing_left(dest)


@pytest.mark.parametrize("attack", ["zip-slip", "tar symlink"])
def test_a_path_escaping_archive_is_refused(tmp_path, attack):
    name = "evil.zip" if attack == "zip-slip" else "evil.tar.gz"
    archive = tmp_path / "upstream" / name
    archive.parent.mkdir()
    if attack == "zip-slip":
        with zipfile.ZipFile(archive, "w") as zf:
            zf.write(SAMPLE / "lq/CelebA/162798.png", "release/images/CelebA/162798.png")
            zf.writestr("release/images/../../../../escaped.png", b"owned")
    else:
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(SAMPLE / "lq/CelebA/162798.png", "release/images/CelebA/162798.png")
            link = tarfile.TarInfo("release/images/CelebA/link.png")
            link.type, link.linkname = tarfile.SYMTYPE, "../../../../../escaped.png"
            tar.addfile(link)
    dest = tmp_path / "data" / "datasets" / "evil"
    with FileServer({name: archive.read_bytes()}) as server:
        config = http_config({"into": "lq", "urls": [f"{server.url}/{name}"], "format": "zip" if "zip" in name else "tar.gz",
                              "select": "release/images"}, landmarks=None)
        with pytest.raises(UnsafeArchive, match=f"{name}: refused entry"):
            fetch_dataset("evil", config, tmp_path, dest)
    assert_nothing_left(dest)
    assert not list(tmp_path.rglob("escaped.png"))


# --- --from DIR ---------------------------------------------------------------------------------------

def test_from_a_folder_or_the_archive_is_verified_like_a_download(tmp_path, served, release):
    config = http_config(*archive_parts(served))
    dest = tmp_path / "data" / "datasets" / "web"
    record = fetch_dataset("web", config, tmp_path, dest, from_dir=release).manifest
    assert record["parts"][0]["origin"] == f"--from {release}" and record["parts"][1]["checks"] == ["sha256 of faces.csv"]
    assert record["parts"][0]["checks"] == []  # an unpacked folder cannot be held to the archive's digest
    archive = release.parent / "release.tar.gz"
    record = fetch_dataset("web", config, tmp_path, dest, from_dir=archive).manifest
    assert record["verified"] and record["parts"][0]["checks"] == ["sha256 of release.tar.gz"]
    assert served.requests == []  # nothing was downloaded
    renamed = Path(shutil.copy(archive, tmp_path / "repacked.tar.gz"))  # not the release's name: not its digest
    assert fetch_dataset("web", config, tmp_path, dest, from_dir=renamed).manifest["parts"][0]["verified"] is False
    with pytest.raises(DatasetError, match="release.tar.gz: sha256 .* does not match"):
        fetch_dataset("web", http_config({**archive_parts(served)[0], "sha256": "1" * 64}, archive_parts(served)[1]),
                      tmp_path, dest, from_dir=archive)
    assert manifest.problems(dest, manifest.read(dest)) == []  # the earlier complete dataset is untouched


def test_from_a_tampered_folder_is_refused(tmp_path, served, release):
    (tmp_path / "lq.sha256").write_text(listing(release / "images"))
    (release / "images" / "Wider-Test" / "0020.png").write_bytes(b"not the released bytes")
    config = http_config(*archive_parts(served, checksums="lq.sha256"))
    dest = tmp_path / "data" / "datasets" / "web"
    with pytest.raises(DatasetError, match="Wider-Test/0020.png"):
        fetch_dataset("web", config, tmp_path, dest, from_dir=release)
    assert_nothing_left(dest)


def test_a_manual_dataset_needs_from(tmp_path, release):
    config = DatasetConfig(source=SourceConfig(type="manual", page="https://example.org/set",
                                               parts=(PartConfig(into="lq/Wider-Test", count=2),)),
                           subsets={"Wider-Test": SUBSETS["Wider-Test"]}, landmarks=None)
    dest = tmp_path / "data" / "datasets" / "manual"
    with pytest.raises(FileNotFoundError, match=r"https://example.org/set.*faceboard fetch manual --from DIR"):
        fetch_dataset("manual", config, tmp_path, dest)
    record = fetch_dataset("manual", config, tmp_path, dest, from_dir=release / "images" / "Wider-Test").manifest
    assert record["verified"] is False and record["parts"][0]["images"] == 2
    wrong = tmp_path / "wrong"  # no folder named for the part: the folder itself is taken, and counted
    shutil.copytree(release / "images", wrong)
    (wrong / "Wider-Test").rename(wrong / "W")
    with pytest.raises(DatasetError, match="lq/Wider-Test: 10 images, expected 2"):
        fetch_dataset("manual", config, tmp_path, dest, from_dir=wrong)
    assert manifest.problems(dest, manifest.read(dest)) == [] and len(list(dest.rglob("*.png"))) == 2


# --- offline ------------------------------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_the_embedded_sample_stands_in_and_is_replaced_online(tmp_path, served):
    dest = tmp_path / "data" / "datasets" / "web"
    offline = http_config({"into": "lq", "urls": [f"http://127.0.0.1:{closed_port()}/release.tar.gz"],
                           "format": "tar.gz", "select": "release/images"}, archive_parts(served)[1])
    with pytest.raises(Unreachable):
        fetch_dataset("web", offline, tmp_path, dest)
    assert_nothing_left(dest)
    fetched = fetch_dataset("web", offline, tmp_path, dest, fallback=("sample", sample_config()))
    assert fetched.status == "stand-in" and "offline: web could not be downloaded" in fetched.message
    assert "stand-in" in fetched.message and "faceboard fetch web" in fetched.message
    record = manifest.read(dest)
    assert record["fallback"]["dataset"] == "sample" and record["fallback"]["instead_of"] == "web"
    assert record["dataset"] == "sample" and len(list((dest / "lq").rglob("*.png"))) == 10
    online = http_config(*archive_parts(served))
    assert fetch_dataset("web", online, tmp_path, dest, fallback=("sample", sample_config())).status == "fetched"
    assert "fallback" not in manifest.read(dest)


def test_a_silent_server_falls_back_in_seconds(tmp_path, monkeypatch):
    monkeypatch.setattr(download_module, "TIMEOUT", 0.5)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        config = http_config({"into": "lq", "urls": [f"http://127.0.0.1:{listener.getsockname()[1]}/x.zip"],
                              "format": "zip"}, landmarks=None)
        start = time.monotonic()
        fetched = fetch_dataset("web", config, tmp_path, tmp_path / "ds" / "web", fallback=("sample", sample_config()))
    assert fetched.status == "stand-in" and "timed out" in fetched.message
    assert time.monotonic() - start < 10



def test_a_weight_source_is_fetched_through_the_weight_registry(tmp_path, monkeypatch):
    from faceboard.weights import registry

    payload = b"statistics" * 1000
    monkeypatch.setenv("FACEBOARD_CACHE", str(tmp_path / "cache"))
    with FileServer({"stats.pth": payload}) as server:
        weight = registry.WeightFile("fake_stats", "stats.pth", "faceboard/fid", urls=(f"{server.url}/stats.pth",),
                                     sha256=sha(payload))
        monkeypatch.setitem(registry.WEIGHTS, "fake_stats", weight)
        config = DatasetConfig(kind="reference", source=SourceConfig(type="weight", weight="fake_stats"))
        fetched = fetch_dataset("stats", config, tmp_path, tmp_path / "ds" / "stats")
    assert fetched.status == "weight" and fetched.path == weight.path and weight.path.read_bytes() == payload
    assert fetched.message.endswith("(verified)") and not (tmp_path / "ds").exists()

# --- landmarks detected at fetch (issue 3) -----------------------------------------------------------

def test_landmarks_are_detected_when_none_are_published(tmp_path):
    from tasks.landmarks import with_failures
    from tasks.score import items_for, load_dataset

    source = tmp_path / "copy"
    shutil.copytree(SAMPLE / "lq", source / "lq")
    write_png_atomic(source / "lq" / "CelebA" / "noface.png", np.full((512, 512, 3), 128, np.uint8))
    config = sample_config(source=SourceConfig(type="embedded", path=str(source)), landmarks=None)
    dest = tmp_path / "data" / "datasets" / "detected"
    fetched = fetch_dataset("detected", config, tmp_path, dest)
    assert "landmarks.csv: detected with MTCNN; no face found in 1 images" in fetched.message
    record = fetched.manifest
    assert record["landmarks"]["source"] == "detected"
    assert record["landmarks"]["detector"]["detector"] == "mtcnn" and record["landmarks"]["detector"]["onnx"]
    assert list(record["landmarks"]["failures"]) == ["CelebA/noface"]
    assert "landmarks.csv" in {entry["file"] for entry in record["files"]}  # a content-manifested output

    lq, landmarks = load_dataset(dest)  # what the score stage reads
    assert len(lq) == 11 and len(landmarks) == 10 and ("CelebA", "noface") not in landmarks
    items, _ = items_for(lq, lq, landmarks)
    items = {(i.subset, i.name): i for i in with_failures(items, manifest.landmark_failures(dest))}
    assert "no face found" in items[("CelebA", "noface")].error
    assert items[("CelebA", "162798")].error == "" and items[("CelebA", "162798")].landmarks is not None


# --- the command line -------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path, served):
    """A minimal project: the sample, and params.yaml with datasets served here, offline and broken."""
    proj = tmp_path / "proj"
    shutil.copytree(SAMPLE, proj / "data" / "samples" / "ntire2025-val")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    archive, csv = archive_parts(served)
    subsets = raw["datasets"]["ntire2025-val-sample"]["subsets"]
    unreachable = {**archive, "urls": [f"http://127.0.0.1:{closed_port()}/release.tar.gz"]}
    raw["datasets"].update({
        "served": {"source": {"type": "http", "parts": [archive, csv]}, "subsets": subsets},
        "offline": {"source": {"type": "http", "parts": [unreachable, csv]}, "subsets": subsets,
                    "fallback": "ntire2025-val-sample"},
        "broken": {"source": {"type": "http", "parts": [{**archive, "sha256": "0" * 64}, csv]}, "subsets": subsets},
    })
    (proj / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return proj


def test_cli_fetch_lists_and_imports(project, release):
    done = run_cli("fetch", "served", cwd=project)
    assert "served: 11 files in" in done.stdout and "lq: sha256 of release.tar.gz" in done.stdout
    assert (project / "data" / "datasets" / "served" / "manifest.json").is_file()
    table = run_cli("datasets", cwd=project).stdout
    assert re.search(r"  served\s+lq\s+-\s+http\s+verified\s+faceboard fetch served", table)
    assert re.search(r"\* ntire2025-val-sample\s+lq\s+ntire2025\s+embedded\s+absent", table)
    assert re.search(r"lfw-test\s+lq\s+-\s+manual\s+absent\s+faceboard fetch lfw-test --from DIR", table)
    done = run_cli("fetch", "served", "--from", str(release.parent / "release.tar.gz"), cwd=project)
    assert "lq: sha256 of release.tar.gz" in done.stdout


def test_cli_fetch_offline_and_broken(project):
    offline = run_cli("fetch", "offline", cwd=project, check=False)
    assert offline.returncode == 3 and "offline: offline could not be downloaded" in offline.stderr
    assert manifest.read(project / "data" / "datasets" / "offline")["fallback"]["dataset"] == "ntire2025-val-sample"
    broken = run_cli("fetch", "broken", cwd=project, check=False)
    assert broken.returncode == 1 and "checksum mismatch" in broken.stderr
    assert not (project / "data" / "datasets" / "broken").exists()


def test_an_unknown_name_lists_the_catalog(tmp_path):
    with pytest.raises(KeyError, match="no dataset 'nope' in params.yaml; the catalog has: ntire2025-val-sample"):
        fetch_entry(PARAMS, "nope", tmp_path)
