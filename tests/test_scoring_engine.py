"""The streaming scorer: values cached by content and producer, each content measured once, bounded read-ahead."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from faceboard.landmarks import load_landmarks
from faceboard.layout import list_images
from faceboard.metrics.table import MetricSpec
from faceboard.scoring.per_image import Scorer
from tasks.score import items_for
from tests.conftest import SAMPLE

SUBMISSION = SAMPLE / "submissions" / "team15_NAFNet"


class Brightness:
    """A per-image metric: the mean grey level; records every batch it is called on."""

    spec = MetricSpec("brightness", False, "tests.test_scoring_engine:Brightness")

    def __init__(self, version: str = "1") -> None:
        self.version = version
        self.seen = 0

    def __call__(self, batch):
        self.seen += len(batch)
        self.largest = max(getattr(self, "largest", 0), len(batch))
        return batch.mean(dim=(1, 2, 3)).double().numpy()

    def provenance(self) -> dict:
        return {"metric": "brightness", "version": self.version, "options": {}, "weights_verified": True}


def _scorer(cache, metric=None) -> Scorer:
    scorer = Scorer({}, None, "cpu", cache)
    scorer.metrics["brightness"] = metric or Brightness()
    return scorer


def _score(scorer, folder, batch_size=4):
    items, _ = items_for(list_images(SAMPLE / "lq"), list_images(folder), load_landmarks(SAMPLE / "landmarks.csv"))
    return scorer.score("m", items, batch_size)


def test_a_warm_rescore_computes_nothing_and_gives_the_same_rows(tmp_path):
    cold = _scorer(tmp_path / "cache")
    first = _score(cold, SUBMISSION)
    assert cold.timings.counts == {"brightness computed": 20}  # 10 outputs and their 10 LQ inputs
    warm = _scorer(tmp_path / "cache")
    again = _score(warm, SUBMISSION)
    assert warm.timings.counts == {"brightness cached": 20} and warm.metrics["brightness"].seen == 0
    assert again == first
    assert len({row["brightness"] for row in first}) == 10 and all("lq_brightness" in row for row in first)


def test_only_a_changed_image_is_measured_again(tmp_path):
    folder = tmp_path / "team"
    shutil.copytree(SUBMISSION, folder)
    first = {r["image"]: r for r in _score(_scorer(tmp_path / "cache"), folder)}
    changed = folder / "LFW-Test" / "Alex_Penelas_0001_00.png"
    shutil.copy(folder / "CelebA" / "162798.png", changed)  # another image's content under this name
    scorer = _scorer(tmp_path / "cache")
    again = {r["image"]: r for r in _score(scorer, folder)}
    assert scorer.metrics["brightness"].seen == 0  # that content was measured before, under its own name
    assert again["Alex_Penelas_0001_00"]["brightness"] == first["162798"]["brightness"]
    changed.write_bytes((SAMPLE / "lq" / "CelebA" / "162798.png").read_bytes()[:-1] + b"\0")  # new bytes
    scorer = _scorer(tmp_path / "cache")
    _score(scorer, folder)
    assert scorer.timings.counts["brightness computed"] == 1


def test_a_changed_producer_never_reads_old_values(tmp_path):
    _score(_scorer(tmp_path / "cache"), SUBMISSION)
    scorer = _scorer(tmp_path / "cache", Brightness(version="2"))
    _score(scorer, SUBMISSION)
    assert scorer.timings.counts == {"brightness computed": 20}


def test_the_same_content_is_measured_once(tmp_path):
    scorer = _scorer(tmp_path / "cache")
    rows = _score(scorer, SAMPLE / "lq", batch_size=10)  # every output is its own LQ input
    assert scorer.timings.counts == {"brightness computed": 10}
    assert all(row["brightness"] == row["lq_brightness"] for row in rows)


@pytest.mark.parametrize("lanes", [1, 2])
def test_memory_holds_a_bounded_number_of_chunks(tmp_path, monkeypatch, lanes):
    scorer = _scorer(tmp_path / "cache")
    scorer.lanes = lanes
    events = []
    prepare, measure = scorer._prepare, scorer._measure_chunk
    monkeypatch.setattr(scorer, "_prepare", lambda *a: events.append("read") or prepare(*a))
    monkeypatch.setattr(scorer, "_measure_chunk", lambda *a: events.append("measure") or measure(*a))
    rows = _score(scorer, SUBMISSION, batch_size=1)
    assert len(rows) == 10 and events.count("read") == events.count("measure") == 10
    for k in range(len(events)):
        ahead = events[:k + 1].count("read") - events[:k + 1].count("measure")
        assert ahead <= lanes + 1, events  # the chunks being measured and the one read ahead


def test_lanes_do_not_change_rows(tmp_path):
    """Several lanes run torch single-threaded: the same rows, values equal up to float32 rounding."""
    one, three = _scorer(tmp_path / "a"), _scorer(tmp_path / "b")
    one.lanes, three.lanes = 1, 3
    _assert_same_rows(_score(three, SUBMISSION, batch_size=1), _score(one, SUBMISSION, batch_size=1))


def test_an_unreadable_output_fails_alone_and_keeps_its_lq_values(tmp_path):
    folder = tmp_path / "team"
    shutil.copytree(SUBMISSION, folder)
    broken = folder / "CelebA" / "162798.png"
    broken.write_bytes(broken.read_bytes()[:200])
    rows = {r["image"]: r for r in _score(_scorer(tmp_path / "cache"), folder)}
    assert rows["162798"]["status"] == "failed" and "corrupt, truncated" in rows["162798"]["error"]
    assert np.isfinite(rows["162798"]["lq_brightness"])
    assert sum(r["status"] == "ok" for r in rows.values()) == 9


def test_a_model_never_gets_more_images_than_its_device_cap(tmp_path):
    metric = Brightness()
    metric.max_batch = {"cpu": 3, "cuda": 100}
    rows = _score(_scorer(tmp_path / "cache", metric), SUBMISSION, batch_size=8)
    assert metric.largest == 3 and metric.seen == 20 and all(r["status"] == "ok" for r in rows)


def test_freed_memory_goes_back_to_the_system():
    """glibc's arenas keep freed pages; malloc_trim hands them back (Linux CI has glibc)."""
    from faceboard.memory import release_freed_memory

    def rss_mb() -> float:
        return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) / 1024

    blocks = [bytearray(64 * 1024) for _ in range(4000)]  # ~250 MB in small chunks below the mmap threshold
    del blocks[:-1]  # the last one pins the heap top, so free() alone cannot shrink the heap
    before = rss_mb()
    assert release_freed_memory()
    assert rss_mb() < before - 100


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_batch_size_does_not_change_values(tmp_path, batch_size):
    """Values equal up to float32 rounding (a batched mean sums in another order)."""
    reference = _score(_scorer(tmp_path / "a"), SUBMISSION, batch_size=4)
    _assert_same_rows(_score(_scorer(tmp_path / f"b{batch_size}"), SUBMISSION, batch_size), reference)


def _assert_same_rows(rows: list[dict], reference: list[dict]) -> None:
    assert [(r["image"], r["status"], r["error"]) for r in rows] == [
        (r["image"], r["status"], r["error"]) for r in reference]
    for column in ("brightness", "lq_brightness"):
        np.testing.assert_allclose([r[column] for r in rows], [r[column] for r in reference], rtol=1e-6)
