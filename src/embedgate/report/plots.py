"""Plots as inline SVG, drawn by our own code: no plotting dependency, no network, no files.

Each function returns one ``<svg>`` element as text, sized in CSS pixels, with a ``<title>``
on every mark so a reader hovering over a point or a bar sees its exact value. Text is
escaped. The HTML report embeds them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

__all__ = ["IntervalPoint", "diverging_bars", "histogram", "interval_plot"]

_FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"'
_BETTER = "#1a7f37"
_WORSE = "#cf222e"
_NEUTRAL = "#0969da"
_GRID = "#d0d7de"
_INK = "#24292f"


@dataclass(frozen=True, slots=True)
class IntervalPoint:
    """One model's score with its confidence interval; ``mark`` is ``"▲"``, ``"▼"`` or ``""``."""

    label: str
    value: float
    low: float
    high: float
    mark: str = ""


def _nice_ticks(lo: float, hi: float, count: int = 5, *, integer: bool = False) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * mag for m in steps if m * mag >= raw)
    if integer:
        step = max(1.0, step)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = first
    while t <= hi + 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _fmt(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".") if x != 0 else "0"


def interval_plot(
    points: Sequence[IntervalPoint],
    *,
    title: str,
    axis_label: str,
    domain: tuple[float, float] | None = None,
    width: int = 540,
) -> str:
    """Models as rows: a dot at the score and a line over its confidence interval."""
    row_h, top, bottom = 28, 34, 40
    left = 12 + 7 * max([len(p.label) for p in points] + [6])
    right = 70
    height = top + bottom + row_h * max(1, len(points))
    finite = [v for p in points for v in (p.low, p.high, p.value) if math.isfinite(v)]
    lo, hi = domain or (min([*finite, 0.0]), max([*finite, 1.0]))
    ticks = _nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    span = hi - lo or 1.0

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        return left + (width - left - right) * (v - lo) / span

    out = [
        f'<svg class="eg-plot eg-interval" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" {_FONT}>',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="18" font-weight="600" fill="{_INK}">{escape(title)}</text>',
    ]
    for t in ticks:
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 6}" y2="{height - bottom}" '
            f'stroke="{_GRID}"/>'
            f'<text x="{x(t):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'fill="{_INK}">{_fmt(t)}</text>'
        )
    out.append(
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 8}" text-anchor="middle" '
        f'fill="{_INK}">{escape(axis_label)}</text>'
    )
    for i, p in enumerate(points):
        y = top + row_h * i + row_h / 2
        color = _BETTER if p.mark == "▲" else _WORSE if p.mark == "▼" else _NEUTRAL
        tip = escape(f"{p.label}: {p.value:.4f} [{p.low:.4f}, {p.high:.4f}] {p.mark}".rstrip())
        out.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" fill="{_INK}">'
            f"{escape(p.label)}</text>"
        )
        if math.isfinite(p.low) and math.isfinite(p.high):
            out.append(
                f'<line class="ci" x1="{x(p.low):.1f}" x2="{x(p.high):.1f}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="{color}" stroke-width="2.5"><title>{tip}</title></line>'
            )
            for end in (p.low, p.high):
                out.append(
                    f'<line x1="{x(end):.1f}" x2="{x(end):.1f}" y1="{y - 6:.1f}" '
                    f'y2="{y + 6:.1f}" stroke="{color}" stroke-width="1.5"/>'
                )
        out.append(
            f'<circle class="point" cx="{x(p.value):.1f}" cy="{y:.1f}" r="5" fill="{color}">'
            f"<title>{tip}</title></circle>"
            f'<text x="{width - right + 8}" y="{y + 4:.1f}" fill="{_INK}">'
            f"{p.value:.4f} {escape(p.mark)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def histogram(
    values: Sequence[float] | np.ndarray,
    *,
    title: str,
    axis_label: str,
    bins: int = 20,
    width: int = 540,
    height: int = 220,
) -> str:
    """Bars counting the non-zero values per bin, symmetric around 0; losses red, gains green.

    Exact zeros (queries a swap left unchanged, often the largest group) would dwarf every
    other bar, so they are counted in the title instead. ``bins`` is rounded up to an even
    number, so 0 is a bin edge and no bar mixes gains and losses.
    """
    v = np.asarray(values, dtype=np.float64)
    zeros = int((v == 0).sum())
    v = v[v != 0]
    bins += bins % 2
    top, bottom, left, right = 34, 44, 44, 16
    reach = float(np.max(np.abs(v))) if v.size else 1.0
    edges = np.linspace(-reach, reach, bins + 1)
    counts, _ = np.histogram(v, bins=edges)
    peak = max(1, int(counts.max()) if counts.size else 1)
    plot_w, plot_h = width - left - right, height - top - bottom
    heading = f"{title} ({zeros} unchanged not shown)" if zeros else title

    def x(value: float) -> float:
        return left + plot_w * (value + reach) / (2 * reach)

    def y(count: float) -> float:
        return top + plot_h * (1 - count / peak)

    out = [
        f'<svg class="eg-plot eg-histogram" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" {_FONT}>',
        f"<title>{escape(heading)}</title>",
        f'<text x="{left}" y="18" font-weight="600" fill="{_INK}">{escape(heading)}</text>',
    ]
    for t in _nice_ticks(0, peak, 5, integer=True):
        if t <= peak:
            out.append(
                f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                f'stroke="{_GRID}"/><text x="{left - 6}" y="{y(t) + 4:.1f}" '
                f'text-anchor="end" fill="{_INK}">{int(t)}</text>'
            )
    for i, c in enumerate(counts.tolist()):
        a, b = float(edges[i]), float(edges[i + 1])
        color = _WORSE if b <= 1e-12 else _BETTER
        tip = escape(f"{c} queries with Δ in [{a:+.3f}, {b:+.3f})")
        out.append(
            f'<rect class="bar" x="{x(a) + 1:.1f}" y="{y(c):.1f}" '
            f'width="{max(0.5, x(b) - x(a) - 2):.1f}" height="{top + plot_h - y(c):.1f}" '
            f'fill="{color}"><title>{tip}</title></rect>'
        )
    out.append(
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 4}" y2="{top + plot_h}" '
        f'stroke="{_INK}" stroke-dasharray="4 3"/>'
    )
    for t in _nice_ticks(-reach, reach, 6):
        if -reach - 1e-9 <= t <= reach + 1e-9:
            out.append(
                f'<text x="{x(t):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'fill="{_INK}">{_fmt(t)}</text>'
            )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" '
        f'fill="{_INK}">{escape(axis_label)}</text></svg>'
    )
    return "".join(out)


def diverging_bars(
    items: Sequence[tuple[str, float, int]],
    *,
    title: str,
    axis_label: str,
    width: int = 540,
) -> str:
    """One bar per ``(label, value, n)`` from 0: left and red below 0, right and green above."""
    row_h, top, bottom = 22, 34, 40
    left = 16 + 7 * max([len(label) for label, _, _ in items] + [6])
    right = 130
    height = top + bottom + row_h * max(1, len(items))
    reach = max([abs(v) for _, v, _ in items] + [1e-3])
    plot_w = width - left - right

    def x(value: float) -> float:
        return left + plot_w * (value + reach) / (2 * reach)

    out = [
        f'<svg class="eg-plot eg-slices" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" {_FONT}>',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="18" font-weight="600" fill="{_INK}">{escape(title)}</text>',
    ]
    for i, (label, value, n) in enumerate(items):
        y = top + row_h * i
        x0, x1 = sorted((x(0.0), x(value)))
        color = _BETTER if value > 0 else _WORSE
        tip = escape(f"{label}: mean Δ {value:+.4f} over {n} queries")
        out.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="{_INK}">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{x0:.1f}" y="{y + 4}" width="{max(0.5, x1 - x0):.1f}" '
            f'height="{row_h - 8}" fill="{color}"><title>{tip}</title></rect>'
            f'<text x="{width - right + 8}" y="{y + 15}" fill="{_INK}">{value:+.4f} '
            f"(n={n})</text>"
        )
    out.append(
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 4}" '
        f'y2="{height - bottom + 4}" stroke="{_INK}"/>'
    )
    for t in _nice_ticks(-reach, reach, 4):
        if -reach - 1e-9 <= t <= reach + 1e-9:
            out.append(
                f'<text x="{x(t):.1f}" y="{height - bottom + 18}" text-anchor="middle" '
                f'fill="{_INK}">{_fmt(t)}</text>'
            )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'fill="{_INK}">{escape(axis_label)}</text></svg>'
    )
    return "".join(out)
