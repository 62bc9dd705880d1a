"""Protocol editions: the same per-image table judged under NTIRE 2025 and NTIRE 2026 rules."""

from __future__ import annotations

import pandas as pd
import pytest

from faceboard.catalog import ScoreFiles
from faceboard.config import Params, load_params
from faceboard.protocol import EDITIONS, NTIRE2025, NTIRE2026
from faceboard.scoring import build
from tests import boards
from tests.conftest import ROOT, run_cli

#: (subset, AdaFace similarity): 2025 fails Wider < 0.3 and WebPhoto < 0.3; 2026 Wider < 0.2, WebPhoto < 0.25.
SIMILARITIES = [("Wider-Test", 0.25), ("Wider-Test", 0.19), ("WebPhoto-Test", 0.27), ("WebPhoto-Test", 0.22),
                ("CelebA", 0.55), ("LFW-Test", 0.61), ("CelebChild-Test", 0.59), ("Wider-Test", 0.2)]


def _params(protocol: str) -> Params:
    raw = load_params(ROOT / "params.yaml").model_dump()
    raw["protocol"] = protocol
    raw["identity"]["backbone"] = "adaface_ir50"
    return Params.model_validate(raw)


@pytest.mark.parametrize(("protocol", "failed"), [
    ("ntire2025", {"Wider-Test": 3, "WebPhoto-Test": 2, "CelebChild-Test": 1}),
    ("ntire2026", {"Wider-Test": 1, "WebPhoto-Test": 1, "CelebChild-Test": 1}),
])
def test_one_table_gated_under_each_edition(tmp_path, protocol, failed):
    frame = pd.DataFrame({"method": "m", "subset": [s for s, _ in SIMILARITIES],
                          "image": [f"i{i}" for i in range(len(SIMILARITIES))], "status": "ok", "error": "",
                          "id_sim": [sim for _, sim in SIMILARITIES], "niqe": 5.0})
    record = boards.provenance(len(frame), backbone="adaface_ir50")
    record["dataset"]["protocol"] = protocol
    board = build.build(_params(protocol), {"m": boards.write(ScoreFiles(tmp_path), frame, record)})
    gated = board.per_image.set_index("image")
    assert gated.loc["i0", "id_pass"] == (protocol == "ntire2026")  # Wider-Test 0.25
    assert gated.loc["i7", "id_pass"] == (protocol == "ntire2026")  # 0.2 is not strictly below 0.2
    rows = board.table.set_index("subset")
    assert {s: int(rows.loc[s, "id_failures"]) for s in failed} == failed
    assert rows.loc["all", "id_failures"] == sum(failed.values())
    assert (board.table["protocol"] == protocol).all() and board.run["protocol"] == protocol
    assert board.run["rules"]["id_thresholds"] == EDITIONS[protocol].thresholds


def test_scores_made_for_another_edition_are_refused(tmp_path):
    frame = pd.DataFrame({"method": "m", "subset": ["CelebA"], "image": ["x"], "status": "ok", "error": "",
                          "id_sim": 0.9, "niqe": 5.0})
    files = boards.write(ScoreFiles(tmp_path), frame, boards.provenance(1, backbone="adaface_ir50"))
    with pytest.raises(ValueError, match="made for protocol ntire2025, the run follows ntire2026"):
        build.build(_params("ntire2026"), {"m": files})


def test_editions_share_terms_and_limit_and_differ_in_two_thresholds():
    assert NTIRE2025.terms == NTIRE2026.terms and NTIRE2025.subsets == NTIRE2026.subsets
    differ = {s for s in NTIRE2025.thresholds if NTIRE2025.thresholds[s] != NTIRE2026.thresholds[s]}
    assert differ == {"Wider-Test", "WebPhoto-Test"}
    assert (NTIRE2026.max_failures, NTIRE2026.failures_per, NTIRE2026.images) == (10, 450, 450)


def test_an_unknown_protocol_is_a_clear_error():
    raw = load_params(ROOT / "params.yaml").model_dump()
    raw["protocol"] = "ntire2030"
    with pytest.raises(ValueError, match="unknown protocol 'ntire2030'; known: ntire2025, ntire2026"):
        Params.model_validate(raw)


def test_datasets_lists_the_2026_split_and_how_to_get_it():
    out = run_cli("datasets", "-v").stdout
    line = next(line for line in out.splitlines() if " ntire2026-test " in line)
    assert "ntire2026" in line.split("ntire2026-test", 1)[1] and "--from DIR" in line
    assert "jkwang28/NTIRE2026_RealWorld_Face_Restoration" in line
    assert "test_2026_face.csv at commit 50e70cd2" in out.replace("\n      ", " ")
    params = load_params(ROOT / "params.yaml")
    entry = params.datasets["ntire2026-test"]
    assert entry.edition == "ntire2026" and NTIRE2026.splits == ("ntire2026-test",)
    assert "50e70cd235466db6df0b8d39364531371bc3da37/face_alignment/test_2026_face.csv" in entry.source.parts[1].urls[0]


def test_scores_are_judged_against_the_edition_they_were_made_for():
    from faceboard.scoring.comparability import method_reasons

    record = boards.provenance(450, backbone="adaface_ir50")
    record["dataset"]["protocol"] = "ntire2026"
    assert not any("scored for protocol" in r for r in method_reasons(record))
    assert "scored for protocol ntire2026, not ntire2025" in method_reasons(record, NTIRE2025)
