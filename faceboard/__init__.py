"""faceboard: reproducible leaderboards for real-world blind face restoration."""

__version__ = "0.1.0"
