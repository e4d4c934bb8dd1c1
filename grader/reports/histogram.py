"""Histograms for summary.html as small, self-contained SVG images (no plotting library: a
class's summary is written in milliseconds, and the page stays one file)."""

from __future__ import annotations

import base64
import math
from html import escape

WIDTH, HEIGHT = 660, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 34, 46


def counts(values: list[float], bins: int, lo: float, hi: float) -> list[int]:
    """How many of `values` fall in each of `bins` equal bins over [lo, hi] (the last one closed,
    values outside the range clamped into the end bins)."""
    span = (hi - lo) or 1.0
    out = [0] * bins
    for v in values:
        out[min(bins - 1, max(0, int((v - lo) / span * bins)))] += 1
    return out


def _ticks(top: int) -> list[int]:
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + step, step))


def _label(x: float) -> str:
    return f"{x:.3g}"


def svg(values: list[float], *, bins: int, lo: float, hi: float, title: str, xlabel: str,
        ylabel: str = "", color: str = "#3a6ea5") -> str:
    """The histogram of `values` as an SVG document."""
    n = counts(values, bins, lo, hi)
    y_ticks = _ticks(max(n) if n else 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    y_of = lambda c: TOP + plot_h - plot_h * c / y_ticks[-1]       # noqa: E731
    bar_w = plot_w / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
             f'<text x="{LEFT + plot_w / 2}" y="20" text-anchor="middle" font-size="14">'
             f'{escape(title)}</text>']
    for c in y_ticks:
        y = y_of(c)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{c}</text>')
    for i, c in enumerate(n):
        if c:
            y = y_of(c)
            parts.append(f'<rect x="{LEFT + i * bar_w + 0.5:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{TOP + plot_h - y:.1f}" fill="{color}"><title>{c}</title></rect>')
    for i in range(0, bins + 1, max(1, bins // 5)):
        x = LEFT + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
                     f'{_label(lo + (hi - lo) * i / bins)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
                 f'stroke="#333"/>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
                 f'{escape(xlabel)}</text>')
    if ylabel:
        parts.append(f'<text transform="translate(14 {TOP + plot_h / 2}) rotate(-90)" '
                     f'text-anchor="middle">{escape(ylabel)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def data_uri(document: str) -> str:
    """`document` as a data: URI for an <img>, so the page needs no other file."""
    return "data:image/svg+xml;base64," + base64.b64encode(document.encode()).decode()


__all__ = ["counts", "svg", "data_uri"]
