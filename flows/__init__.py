"""Prefect flows: one per DVC stage (what `dvc repro` runs) and the whole leaderboard (what a deployment runs)."""
