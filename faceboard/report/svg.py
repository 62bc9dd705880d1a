"""Geometry of the page's inline SVG plots; templates/svg.html draws it (so every label is escaped there)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")


def histogram(values: Sequence[float], threshold: float | None, lo: float, hi: float, bins: int = 20,
              width: float = 160, height: float = 44) -> dict:
    """Bars of `values` in `bins` equal bins over [lo, hi] (values outside are clamped into the end bins);
    bars left of `threshold` are marked `fail`."""
    counts = [0] * bins
    step = (hi - lo) / bins
    for v in values:
        if math.isfinite(v):
            counts[min(max(int((v - lo) / step), 0), bins - 1)] += 1
    top = max(counts, default=0) or 1
    bar_w = width / bins
    bars = [{"x": round(i * bar_w, 2), "w": round(bar_w - 1, 2), "h": round(height * c / top, 2),
             "y": round(height - height * c / top, 2), "n": c, "fail": threshold is not None and lo + (i + 1) * step <= threshold,
             "range": f"{lo + i * step:.3f}–{lo + (i + 1) * step:.3f}"}
            for i, c in enumerate(counts) if c]
    line = None if threshold is None else round((threshold - lo) / (hi - lo) * width, 2)
    return {"width": width, "height": height, "bars": bars, "threshold_x": line, "lo": lo, "hi": hi}


def stacked_bars(rows: Sequence[tuple[str, Mapping[str, float]]], terms: Sequence[str], width: float = 520,
                 bar: float = 22, label_w: float = 170) -> dict:
    """One horizontal bar per (label, {term: value}), its segments the terms in `terms` order, on one scale."""
    top = max((sum(v for v in parts.values() if v > 0) for _, parts in rows), default=0) or 1.0
    plot_w = width - label_w - 60
    colours = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(terms)}
    out = []
    for i, (label, parts) in enumerate(rows):
        x, segments = label_w, []
        for term in terms:
            value = parts.get(term)
            if value is None or value <= 0:
                continue
            w = plot_w * value / top
            segments.append({"x": round(x, 2), "w": round(w, 2), "term": term, "value": value, "colour": colours[term]})
            x += w
        out.append({"y": i * (bar + 6) + 4, "label": label, "short": shorten(label), "segments": segments,
                    "total": sum(parts.values()), "end": round(x, 2)})
    return {"width": width, "height": len(rows) * (bar + 6) + 30, "bar": bar, "label_w": label_w, "rows": out,
            "legend": [{"term": t, "colour": colours[t], "x": label_w + i * 90} for i, t in enumerate(terms)]}


def scatter(points: Sequence[tuple[str, float, float]], x_label: str, y_label: str, width: float = 520,
            height: float = 320) -> dict:
    """Labelled points on linear axes fitted to them, with about five ticks each."""
    finite = [(n, x, y) for n, x, y in points if math.isfinite(x) and math.isfinite(y)]
    left, bottom, pad = 60, 40, 14
    xs, ys = [x for _, x, _ in finite] or [0.0, 1.0], [y for _, _, y in finite] or [0.0, 1.0]
    x_ticks, y_ticks = ticks(min(xs), max(xs)), ticks(min(ys), max(ys))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]

    def px(x: float) -> float:
        return round(left + (x - x0) / (x1 - x0) * (width - left - pad), 2)

    def py(y: float) -> float:
        return round(height - bottom - (y - y0) / (y1 - y0) * (height - bottom - pad), 2)

    return {"width": width, "height": height, "left": left, "bottom": height - bottom, "right": width - pad, "top": pad,
            "x_label": x_label, "y_label": y_label,
            "x_ticks": [{"at": px(t), "text": f"{t:g}"} for t in x_ticks],
            "y_ticks": [{"at": py(t), "text": f"{t:g}"} for t in y_ticks],
            "points": [{"x": px(x), "y": py(y), "label": n, "short": shorten(n), "vx": x, "vy": y,
                        "colour": PALETTE[i % len(PALETTE)], "end": px(x) > 0.7 * width}
                       for i, (n, x, y) in enumerate(finite)]}


def shorten(label: str, chars: int = 24) -> str:
    """A label cut to `chars` characters (the plots' titles keep the whole)."""
    return label if len(label) <= chars else label[:chars - 1] + "…"


def ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (a step of 1, 2 or 5 times a power of ten)."""
    if not hi > lo:
        lo, hi = lo - 0.5 * (abs(lo) or 1), hi + 0.5 * (abs(hi) or 1)
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step) * step
    n = math.ceil((hi - start) / step - 1e-9)
    return [round(start + i * step, 12) for i in range(n + 1)]
