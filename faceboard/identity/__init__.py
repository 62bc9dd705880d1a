"""Identity gate: 5-point landmark detection and alignment, face-ID backbones, the per-image similarity test."""
