"""Human-readable outputs: the static HTML leaderboard."""
