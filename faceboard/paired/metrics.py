"""The paired track's columns beyond the metric table: the identity similarity to the HQ face, and directions.

Its full-reference metrics (psnr, ssim, lpips) are rows of `faceboard.metrics.table` (mode `full-reference`).
"""

from __future__ import annotations

from faceboard.metrics.table import get

ID_SIM_HQ = "id_sim_hq"  # identity similarity of the restored face to the HQ face


def lower_better(name: str) -> bool:
    """Direction of any column of the paired leaderboard: a metric of the table or the identity similarity."""
    return False if name == ID_SIM_HQ else get(name).lower_better
