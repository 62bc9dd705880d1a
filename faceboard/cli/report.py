"""`faceboard report`: rebuild the HTML page from a board's tables alone (no model loads, no image is read)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="rebuild the HTML page from the leaderboard's Parquet files")
    report.add_argument("--board", help="a board folder, e.g. `faceboard score`'s OUT (default: the project's "
                                        "data/leaderboard, with the paired track)")
    report.add_argument("--out", help="the page (default: reports/leaderboard.html, or BOARD/leaderboard.html)")
    report.set_defaults(handler=_report, needs_root=False)


def _report(args: argparse.Namespace, root: Path | None) -> int:
    from faceboard.catalog import BoardFiles, Catalog
    from faceboard.report import page

    if args.board:
        board, paired = BoardFiles(Path(args.board)), None
        out = Path(args.out) if args.out else board.page
    elif root is not None:
        cat = Catalog(root)
        board, paired, out = cat.board, cat.paired_board, Path(args.out) if args.out else cat.report
    else:
        raise FileNotFoundError("not in a faceboard project: give --board DIR")
    if not board.leaderboard.is_file():
        raise FileNotFoundError(f"{board.leaderboard}: no leaderboard (run `faceboard run` or `faceboard score`)")
    print(f"page: {page.write(board, out, paired)}")
    return 0
