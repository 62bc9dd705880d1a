"""From per-image measurements to gated, scored leaderboard rows."""
