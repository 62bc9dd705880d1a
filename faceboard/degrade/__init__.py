"""Synthetic degradation of HQ faces into LQ inputs (GFPGAN, CodeFormer and Real-ESRGAN training pipelines).

Every image gets its own random generator, seeded from the global seed and the image's name, and
all its random choices are drawn from it up front into one flat parameter record; the image is then
degraded from that record alone. Same parameters, same bytes: in any order, in any process.
"""
