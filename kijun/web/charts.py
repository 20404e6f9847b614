"""Charts drawn on the server as inline SVG: no JavaScript, no external assets.

Each chart is an ``<svg role="img">`` labelled by its own ``<title>`` and
``<desc>`` (the desc states the range of the values in words), with
presentation attributes only (the Content Security Policy allows no inline
style). A chart never stands alone: the page shows a data table with the
same numbers beside it, for screen readers, for copying and for printing.

Colours are the Digital Agency design system's blue (bars, lines) and grey
(axes); the heat map's shades go from white to that blue, with each count
written in its cell (dark text on light cells, white on dark), so nothing
depends on colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PRIMARY = "#0017c1"
GRID = "#cccccc"
AXIS = "#4d4d4d"
TEXT = "#1a1a1c"

Formatter = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Box:
    """Where the plot sits inside the SVG (user units; the SVG scales to its container)."""

    width: int = 720
    height: int = 280
    left: int = 72
    right: int = 16
    top: int = 16
    bottom: int = 56

    @property
    def plot_w(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> int:
        return self.height - self.top - self.bottom


def _svg(chart_id: str, title: str, desc: str, box: Box, body: list[str]) -> Markup:
    head = (f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {box.width} {box.height}" '
            f'width="100%" role="img" aria-labelledby="{escape(chart_id)}-title '
            f'{escape(chart_id)}-desc" font-size="13">'
            f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
            f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")  # every text is escaped above


def _ticks(high: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least `high`."""
    if high <= 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = step * math.ceil(high / step - 1e-9)
    n = round(top / step)
    return [i * step for i in range(n + 1)]


def _range_desc(labels: Sequence[str], values: Sequence[float | None], fmt: Formatter) -> str:
    known = [(lab, v) for lab, v in zip(labels, values, strict=True) if v is not None]
    if not known:
        return "値のある期間はありません。"
    low = min(known, key=lambda p: p[1])
    high = max(known, key=lambda p: p[1])
    return (f"{labels[0]}から{labels[-1]}まで{len(labels)}期間。"
            f"最小は{low[0]}の{fmt(low[1])}、最大は{high[0]}の{fmt(high[1])}、"
            f"最後は{known[-1][0]}の{fmt(known[-1][1])}。")


def _axes(box: Box, ticks: list[float], fmt: Formatter) -> list[str]:
    top = ticks[-1] or 1.0
    out = []
    for t in ticks:
        y = box.top + box.plot_h * (1 - t / top)
        out.append(f'<line x1="{box.left}" y1="{y:.1f}" x2="{box.width - box.right}" '
                   f'y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{box.left - 8}" y="{y + 4:.1f}" text-anchor="end" '
                   f'fill="{AXIS}">{escape(fmt(t))}</text>')
    base = box.top + box.plot_h
    out.append(f'<line x1="{box.left}" y1="{base}" x2="{box.width - box.right}" y2="{base}" '
               f'stroke="{AXIS}" stroke-width="1"/>')
    return out


def _x_labels(box: Box, labels: Sequence[str], centre: Callable[[int], float]) -> list[str]:
    # at most about 12 labels under the axis, the others only in the data table
    every = max(1, math.ceil(len(labels) / 12))
    out = []
    for i, label in enumerate(labels):
        if i % every and i != len(labels) - 1:
            continue
        out.append(f'<text x="{centre(i):.1f}" y="{box.top + box.plot_h + 20}" '
                   f'text-anchor="middle" fill="{AXIS}">{escape(label)}</text>')
    return out


def bar_chart(chart_id: str, title: str, labels: Sequence[str],
              values: Sequence[float | None], fmt: Formatter, *, box: Box | None = None
              ) -> Markup:
    """Vertical bars, one per label (a missing value is a gap)."""
    box = box or Box()
    high = max((v for v in values if v is not None), default=0.0)
    ticks = _ticks(high)
    top = ticks[-1] or 1.0
    n = max(len(labels), 1)
    slot = box.plot_w / n
    width = max(slot * 0.7, 1.0)

    def centre(i: int) -> float:
        return box.left + slot * (i + 0.5)

    body = _axes(box, ticks, fmt)
    for i, v in enumerate(values):
        if v is None:
            continue
        h = box.plot_h * max(v, 0.0) / top
        body.append(f'<rect x="{centre(i) - width / 2:.1f}" y="{box.top + box.plot_h - h:.1f}" '
                    f'width="{width:.1f}" height="{h:.1f}" fill="{PRIMARY}">'
                    f'<title>{escape(labels[i])}: {escape(fmt(v))}</title></rect>')
    body += _x_labels(box, labels, centre)
    return _svg(chart_id, title, _range_desc(labels, values, fmt), box, body)


def line_chart(chart_id: str, title: str, labels: Sequence[str],
               values: Sequence[float | None], fmt: Formatter, *, box: Box | None = None
               ) -> Markup:
    """A line through the values with a marked point each (a missing value breaks the line)."""
    box = box or Box()
    high = max((v for v in values if v is not None), default=0.0)
    ticks = _ticks(high)
    top = ticks[-1] or 1.0
    n = len(labels)

    def centre(i: int) -> float:
        return box.left + (box.plot_w * (i + 0.5) / n if n else 0.0)

    def y(v: float) -> float:
        return box.top + box.plot_h * (1 - max(v, 0.0) / top)

    body = _axes(box, ticks, fmt)
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
            continue
        runs[-1].append(f"{centre(i):.1f},{y(v):.1f}")
    for run in runs:
        if len(run) > 1:
            body.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{PRIMARY}" '
                        f'stroke-width="2.5"/>')
    for i, v in enumerate(values):
        if v is not None:
            body.append(f'<circle cx="{centre(i):.1f}" cy="{y(v):.1f}" r="4" fill="{PRIMARY}">'
                        f'<title>{escape(labels[i])}: {escape(fmt(v))}</title></circle>')
    body += _x_labels(box, labels, centre)
    return _svg(chart_id, title, _range_desc(labels, values, fmt), box, body)


def _shade(share: float) -> str:
    """White (0) to the primary blue (1)."""
    share = min(max(share, 0.0), 1.0)
    r = round(255 + (0x00 - 255) * share)
    g = round(255 + (0x17 - 255) * share)
    b = round(255 + (0xC1 - 255) * share)
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_map(chart_id: str, title: str, rows: Sequence[str], columns: Sequence[str],
             counts: Sequence[Sequence[int]], *, saturate_at: int | None = None) -> Markup:
    """A matrix of counts (row → column), each cell shaded by its count and labelled with it.

    Shades run from 0 to `saturate_at` (default: the largest count); larger
    counts get the darkest shade — so that a catch-all row such as その他 does
    not wash out the others.
    """
    cell = 44
    left, top = 150, 120
    width = left + cell * len(columns) + 16
    height = top + cell * len(rows) + 16
    box = Box(width=width, height=height, left=left, right=16, top=top, bottom=16)
    high = saturate_at or max((c for row in counts for c in row), default=0)
    total = sum(c for row in counts for c in row)
    body = []
    for j, name in enumerate(columns):
        x = left + cell * j + cell / 2
        body.append(f'<text x="{x:.1f}" y="{top - 8}" text-anchor="start" fill="{TEXT}" '
                    f'transform="rotate(-45 {x:.1f} {top - 8})">{escape(_short(name))}</text>')
    for i, name in enumerate(rows):
        y = top + cell * i
        body.append(f'<text x="{left - 8}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" '
                    f'fill="{TEXT}">{escape(_short(name))}</text>')
        for j, count in enumerate(counts[i]):
            x = left + cell * j
            share = count / high if high else 0.0
            ink = "#ffffff" if share > 0.55 else TEXT
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{_shade(share)}" '
                f'stroke="{GRID}" stroke-width="1"><title>{escape(name)} → '
                f'{escape(columns[j])}: {count}件</title></rect>')
            if count:
                body.append(f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" '
                            f'text-anchor="middle" fill="{ink}">{count}</text>')
    if total:
        peak = max(((rows[i], columns[j], c) for i, row in enumerate(counts)
                    for j, c in enumerate(row)), key=lambda t: t[2])
        desc = (f"行が引き継いだ人、列が引き継がれた人。{len(rows)}人×{len(columns)}人、"
                f"合計{total:,}件。最も多いのは{peak[0]}から{peak[1]}への{peak[2]:,}件。")
    else:
        desc = "引き継ぎはありません。"
    return _svg(chart_id, title, desc, box, body)


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
