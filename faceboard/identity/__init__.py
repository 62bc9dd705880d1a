"""Identity gate: 5-point face alignment, face-ID backbones and the per-image similarity test."""
