"""The leaderboard page from a board's tables: sections, ranking, escaping, the gallery's budget, `faceboard report`
without any model, what DVC's metrics and plots show, and the ranking's Prefect artifacts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from faceboard.config import ReportConfig, load_params
from faceboard.report import dvc_views, page, publish, sections, thumbnails
from faceboard.report.sections import SECTIONS, Section
from faceboard.report.sources import Sources
from tests.boards import CRASH, XSS, page_board
from tests.conftest import FACEBOARD, ROOT, SAMPLE


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    params = load_params(ROOT / "params.yaml")
    return page_board(tmp_path_factory.mktemp("page"), SAMPLE / "lq", params)


@pytest.fixture(scope="module")
def html(board, tmp_path_factory):
    return page.write(board, tmp_path_factory.mktemp("html") / "page.html").read_text()


def _rows(html: str, subset: str) -> list[str]:
    """The methods of the ranking table's rows of `subset`, in page order (names unescaped)."""
    body = html[html.index('<table id="ranking-table"'):html.index("</table>", html.index('id="ranking-table"'))]
    found = re.findall(r'<tr data-subset="([^"]*)" data-method="([^"]*)"', body)
    return [m.replace("&lt;", "<").replace("&gt;", ">") for s, m in found if s == subset]


def test_sections_come_in_their_order_and_one_entry_adds_one(board, monkeypatch):
    names = [s.name for s in SECTIONS]
    assert names == ["header", "ranking", "gate", "plots", "gallery", "failures", "paired", "presets"]
    built = page.build(board)
    found = [n for n in names if f'id="{n}"' in built]
    assert found == ["header", "ranking", "gate", "plots", "gallery", "failures"]  # no paired track on this board
    extra = Section("notes", lambda src: {"count": len(src.overall)}, "sections/failures.html")
    monkeypatch.setattr(page, "SECTIONS", (*SECTIONS, extra))
    monkeypatch.setattr(sections.gate, "failed_rows", lambda frame: frame.iloc[:0])  # its template, no rows
    assert 'id="notes"' in page.build(board)


def test_the_ranking_lists_the_parquet_rows_ranked_first_with_each_reason(board, html):
    table = pd.read_parquet(board.leaderboard)
    overall = table[table["subset"] == "all"]
    ranked = overall.dropna(subset=["rank"]).sort_values("rank")["method"].tolist()
    unranked = sorted(overall[overall["rank"].isna()]["method"])
    assert ranked == ["good", XSS] and unranked == ["bad_id", "crashed"]
    assert _rows(html, "all") == ranked + unranked
    assert _rows(html, "CelebA") == ranked + unranked
    assert "1 ID failure, over the limit of 0" in html
    assert "failed run: all 10 images failed" in html
    best = float(overall.loc[overall["method"].isin(ranked), "niqe"].min())
    assert f'<td data-v="{best!r}" class="best">{best:.4f}</td>' in html
    low, high = overall.set_index("method").loc["good", ["score_ci_low", "score_ci_high"]]
    assert f"[{low:.4f}, {high:.4f}]" in html
    assert "niqe ↓" in html and "score ↑" in html


def test_everything_from_params_or_submissions_is_escaped(html):
    assert XSS not in html and CRASH not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # in the table, as text
    data = html[html.index('id="gallery-data">') + len('id="gallery-data">'):]
    data = data[:data.index("</script>")]
    assert "<" not in data and XSS in json.loads(data)["methods"]  # JSON with < escaped, still the same name
    failures = html[html.index('id="failures"'):]
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in failures


def test_the_verdict_lists_each_reason_once_collapsed(board, html):
    run = json.loads(board.run_info.read_text())
    header = html[:html.index('id="ranking"')]
    assert not run["comparable_to_official"]
    for reason in run["not_comparable_to_official"]["shared"]:
        assert header.count(reason.replace("'", "&#39;")) == 1
    assert re.search(r'<details class="verdict">\s*<summary class="warn">Not comparable', header)
    assert "(all methods)" in header
    assert run["params_fingerprint"] in header and "dlib_resnet" in header and "built " in header


def test_the_gate_section_draws_each_method_and_subset_with_its_threshold(board, html):
    gate = html[html.index('id="gate"'):html.index('id="plots"')]
    per_image = pd.read_parquet(board.per_image)
    assert gate.count("<svg") == per_image["method"].nunique() * per_image["subset"].nunique()
    assert gate.count('class="threshold"') == gate.count("<svg")
    assert '<td class="over">1 / 0</td>' in gate  # bad_id: one failure, limit 0
    assert gate.count('class="fail"') >= 1


def test_the_gallery_holds_every_image_and_column_within_budget(board):
    gallery = thumbnails.read(board.thumbnails)
    assert gallery.record["shown"] == gallery.record["images"] == 10 and gallery.note is None
    assert gallery.record["columns"] == ["input", "good", XSS, "bad_id"]  # crashed wrote no output
    assert len(gallery.table) == 10 * 4
    first = gallery.table.iloc[0]
    assert (first["subset"], first["image"]) == ("CelebA", "162798")  # bad_id's failed image first
    assert gallery.table["data"].map(len).max() < 20_000


def test_over_the_budget_the_gallery_keeps_failures_then_a_share_of_each_subset(board):
    per_image = pd.read_parquet(board.per_image).query("method != 'crashed'")  # it failed on every image
    folders = {m: board.folder.parent / "restored" / f"m{k}" for k, m in enumerate(["good", XSS])}
    full = thumbnails.of_board(per_image, SAMPLE / "lq", folders, ReportConfig())
    small = ReportConfig(gallery_mb=full.record["used_mb"] * 0.55)
    cut = thumbnails.of_board(per_image, SAMPLE / "lq", folders, small)
    keys = list(dict.fromkeys(zip(cut.table["subset"], cut.table["image"])))
    assert 0 < cut.record["shown"] < 10 and cut.record["left_out"] == 10 - cut.record["shown"]
    assert keys[0] == ("CelebA", "162798")  # the failed image
    turn = ["CelebA", "CelebChild-Test", "LFW-Test", "WebPhoto-Test", "Wider-Test"]  # then one of each subset
    assert len(keys) >= 3 and [s for s, _ in keys[1:]] == turn[:len(keys) - 1]
    assert cut.record["used_mb"] <= small.gallery_mb
    assert "of 10 images shown" in cut.note and "report.gallery_mb" in cut.note


def test_faceboard_report_rebuilds_the_same_page_from_tables_alone(board, tmp_path):
    out = tmp_path / "again.html"
    probe = ("import sys; from faceboard.cli import main; code = main(sys.argv[1:]); "
             "heavy = sorted({'torch', 'pyiqa', 'prefect', 'dlib'} & set(sys.modules)); "
             "print('heavy:', heavy); sys.exit(code)")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764547200"}
    done = subprocess.run([sys.executable, "-c", probe, "report", "--board", str(board.folder), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert "heavy: []" in done.stdout
    os.environ["SOURCE_DATE_EPOCH"] = "1764547200"
    try:
        assert out.read_text() == page.build(board)
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    assert "built 2025-12-01 00:00 UTC" in out.read_text()
    missing = subprocess.run([*FACEBOARD, "report", "--board", str(tmp_path / "none")], capture_output=True,
                             text=True, check=False)
    assert missing.returncode == 2 and "no leaderboard" in missing.stderr


def test_dvc_metrics_and_plot_come_from_the_overall_rows(board, tmp_path):
    metrics, plot = dvc_views.write(board, tmp_path / "metrics.json", tmp_path / "plots" / "score_terms.svg")
    values = json.loads(metrics.read_text())
    overall = pd.read_parquet(board.leaderboard).query("subset == 'all'").set_index("method")
    assert set(values) == set(overall.index)
    good = values["good"]
    assert good["score"] == pytest.approx(overall.loc["good", "score"], abs=1e-6)
    assert good["niqe_term"] == pytest.approx(max(0.0, (10 - overall.loc["good", "niqe"]) / 10), abs=1e-6)
    assert good["rank"] == 1 and good["valid"] is True and values["bad_id"]["rank"] is None
    svg = ET.parse(plot).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert f"good: niqe {overall.loc['good', 'score']:.4f}" in titles
    assert XSS in titles  # escaped in the file, the same name parsed back


def test_the_ranking_rows_published_to_prefect_follow_the_board(board):
    rows = publish.ranking_rows(board)
    assert [r["method"] for r in rows] == ["good", XSS, "bad_id", "crashed"]
    assert [r["rank"] for r in rows] == [1, 2, None, None] and rows[2]["valid"] is False
    src = Sources(board)
    assert rows[0]["niqe"] == pytest.approx(src.overall.loc[0, "niqe"], abs=1e-6)


def test_the_leaderboard_flow_publishes_its_ranking_to_prefect_under_stable_keys(board):
    from faceboard import prefect_api

    prefect_api.start_early()
    prefect_api.ready()
    from prefect import flow, get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from tasks.leaderboard import publish_board_task

    @flow(name="publish-test")
    def publish_twice() -> None:
        publish_board_task(board, board.page)
        publish_board_task(board, board.page)

    publish_twice()
    keys = ArtifactFilter(key=ArtifactFilterKey(any_=[publish.TABLE_KEY, publish.SUMMARY_KEY]))
    with get_client(sync_client=True) as client:
        latest = {a.key: a for a in client.read_latest_artifacts(artifact_filter=keys)}
        history = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[publish.TABLE_KEY])))
    assert set(latest) == {publish.TABLE_KEY, publish.SUMMARY_KEY} and len(history) >= 2  # every run kept
    table = latest[publish.TABLE_KEY].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert [r["method"] for r in rows] == ["good", XSS, "bad_id", "crashed"] and rows[0]["rank"] == 1
    summary = latest[publish.SUMMARY_KEY].data
    assert "| 1 | good |" in summary and "&lt;img src=x onerror=alert(1)&gt;" in summary


def test_the_report_section_changes_no_result_fingerprint():
    params = load_params(ROOT / "params.yaml")
    other = params.model_copy(update={"report": ReportConfig(thumbnail_px=64, gallery_mb=1)})
    assert other.results_config() == params.results_config() and "report" not in params.results_config()
