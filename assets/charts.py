"""Bar charts for the board's pages as inline SVG text.

The pages are mailed to board members and opened offline, so a chart must live inside the page and
draw without scripts or fonts from elsewhere. Writing the SVG as text costs well under a
millisecond a chart, where rendering a PNG with matplotlib cost 0.05–0.15 s, a third of a national
backfill. The text is the same for the same data, so a re-run rewrites identical pages.

Without font metrics, text widths are estimates (``_text_width``); margins are generous enough
for the common sans-serif fonts.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# The first colours of matplotlib's tab10: distinguishable, also in grey print.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")

WIDTH = 720
_FONT = 12
_SMALL = 11
_EM = 0.6              # glyph width of a wide sans-serif (DejaVu Sans), in em: too wide is safe
_MAX_LABEL = 0.5       # share of the width the category labels of a horizontal chart may take
_PLOT_HEIGHT = 220     # of a vertical chart
_GRID = "#e3e3e3"
_AXIS = "#333333"
_INK = "#222222"
_MUTED = "#444444"

Format = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One bar per category; NaN draws no bar. ``labels``: a text per bar, written at its foot
    (e.g. ".." where a count is hidden), "" for none."""

    name: str
    values: Sequence[float]
    color: str
    labels: Sequence[str] = ()


@dataclass(frozen=True)
class Marker:
    """A line across each category's band at a value (a target); NaN draws none."""

    name: str
    values: Sequence[float]
    color: str = "#000000"


def count(value: float) -> str:
    return f"{value:.0f}"


def percent(value: float) -> str:
    """A share 0..1 as a Swedish percentage (``40 %``)."""
    return f"{round(value * 100)} %"


def nice_ticks(low: float, high: float, *, integer: bool = False,
               intervals: int = 5) -> list[float]:
    """Round ticks (1, 2, 2.5 or 5 times a power of ten apart) covering ``low``..``high``.

    ``integer``: no step below 1 and no 2.5, because counts have no fractions."""
    if not high > low:
        high = low + 1
    raw = (high - low) / intervals
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = 10 * magnitude
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * magnitude
        if integer and (candidate < 1 or candidate != int(candidate)):
            continue
        if candidate >= raw * (1 - 1e-9):
            step = candidate
            break
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    # multiplying, not adding, so 0.6 stays 0.6 and not 0.6000000000000001
    return [round(index * step, 10) + 0.0 for index in range(first, last + 1)]


def bar_chart(categories: Sequence[str], series: Sequence[Series], *, chart_id: str,
              description: str, title: str = "", horizontal: bool = False,
              tick_format: Format = count, integer: bool = True,
              domain: tuple[float, float] | None = None, marker: Marker | None = None) -> str:
    """Grouped bars, one group per category, as an ``<svg>`` element for an HTML page.

    ``chart_id``: unique on the page (the accessible name is referenced by id);
    ``description``: the accessible name, read instead of the picture; ``title``: drawn above;
    ``domain``: fixed value range (e.g. 0..1 for shares), otherwise from the data and zero.
    """
    labels = [str(label) for label in categories]
    rows = [[float(value) for value in one.values] for one in series]
    marks = [float(value) for value in marker.values] if marker else []
    if domain is None:
        finite = [value for value in (*(v for row in rows for v in row), *marks)
                  if not math.isnan(value)]
        ticks = nice_ticks(min([0.0, *finite]), max([0.0, *finite]), integer=integer)
    else:
        ticks = nice_ticks(*domain, integer=integer)
    draw = (_horizontal if horizontal else _vertical)
    return draw(labels, series, rows, marker, marks, ticks, tick_format,
                _escape(chart_id), description, title)


def figure(svg: str, caption: str = "") -> str:
    """The chart in a ``<figure>``, with a visible caption when one is given."""
    below = f"<figcaption>{_escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="diagram">{svg}{below}</figure>'


# --- layout ----------------------------------------------------------------------------------

def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _text_width(text: str, size: float = _FONT) -> float:
    return len(text) * size * _EM


def _n(value: float) -> str:
    """A coordinate: one decimal is finer than a screen pixel and keeps the text short."""
    return f"{value:.1f}".removesuffix(".0")


def _header(title: str, series: Sequence[Series], marker: Marker | None,
            left: float, right: float) -> tuple[list[str], float]:
    """Title and legend at the top, never over the bars; returns the parts and the plot's top."""
    parts: list[str] = []
    y = 6.0
    if title:
        parts.append(f'<text x="{_n((left + right) / 2)}" y="{_n(y + 14)}" text-anchor="middle" '
                     f'font-size="14" font-weight="bold" fill="{_INK}">{_escape(title)}</text>')
        y += 22
    x = left
    baseline = y + 14
    parts.append('<g class="legend">')
    entries = [(one.name, one.color, False) for one in series]
    if marker:
        entries.append((marker.name, marker.color, True))
    for name, color, line in entries:
        size = 17 + _text_width(name)
        if x > left and x + size > WIDTH - 4:
            # a legend wider than the chart continues on a new row instead of leaving the picture
            x, baseline = left, baseline + 18
        if line:
            parts.append(f'<line x1="{_n(x + 6)}" x2="{_n(x + 6)}" y1="{_n(baseline - 11)}" '
                         f'y2="{_n(baseline + 2)}" stroke="{color}" stroke-width="2.5"/>')
        else:
            parts.append(f'<rect x="{_n(x)}" y="{_n(baseline - 10)}" width="12" height="12" '
                         f'fill="{color}"/>')
        parts.append(f'<text x="{_n(x + 17)}" y="{_n(baseline)}" fill="{_INK}">'
                     f"{_escape(name)}</text>")
        x += size + 18
    parts.append("</g>")
    return parts, baseline + 14


def _svg(chart_id: str, description: str, height: float, parts: list[str]) -> str:
    return (f'<svg class="diagram" viewBox="0 0 {WIDTH} {_n(height)}" width="{WIDTH}" '
            f'height="{_n(height)}" role="img" aria-labelledby="{chart_id}" '
            f'font-family="system-ui, sans-serif" font-size="{_FONT}">'
            f'<title id="{chart_id}">{_escape(description)}</title>'
            + "".join(parts) + "</svg>")


def _scale(ticks: list[float], start: float, end: float) -> Callable[[float], float]:
    """Value -> coordinate, values outside the ticks held at the edge."""
    low, high = ticks[0], ticks[-1]
    ratio = (end - start) / (high - low)
    return lambda value: start + (min(max(value, low), high) - low) * ratio


def _bar_title(category: str, name: str, value: float, tick_format: Format) -> str:
    # a tooltip with the exact figure, for the reader who hovers
    return f"<title>{_escape(category)}, {_escape(name)}: {_escape(tick_format(value))}</title>"


def _bar_label(text: str, along: float, foot: float, length: float, across: float,
               horizontal: bool) -> str:
    """``text`` at the foot of a bar: inside in white when it fits, else just beyond the bar's
    end (at the zero line when there is no bar)."""
    width = _text_width(text, _SMALL)
    room = abs(length) >= (width + 8 if horizontal else 18) and (horizontal or across >= width + 4)
    sign = -1.0 if length < 0 else 1.0
    if horizontal:
        x = foot + sign * 4 if room else foot + length + sign * 4
        anchor = "start" if sign > 0 else "end"
        return (f'<text x="{_n(x)}" y="{_n(along + 4)}" text-anchor="{anchor}" '
                f'font-size="{_SMALL}" fill="{"#ffffff" if room else _INK}">{_escape(text)}</text>')
    # vertical: the value axis points up, so a positive bar's foot is below its end
    y = foot - sign * 5 if room else foot - length - sign * 4
    baseline = y if sign > 0 else y + 9
    return (f'<text x="{_n(along)}" y="{_n(baseline)}" text-anchor="middle" '
            f'font-size="{_SMALL}" fill="{"#ffffff" if room else _INK}">{_escape(text)}</text>')


def _bars(labels: list[str], series: Sequence[Series], rows: list[list[float]],
          band_start: float, band: float, value_at: Callable[[float], float],
          tick_format: Format, horizontal: bool) -> list[str]:
    parts: list[str] = []
    zero = value_at(0.0)
    width = band * 0.8 / max(len(series), 1)
    for number, (one, values) in enumerate(zip(series, rows, strict=True)):
        texts = list(one.labels) or [""] * len(values)
        offset = band * 0.1 + number * width
        for index, (value, text) in enumerate(zip(values, texts, strict=True)):
            start = band_start + index * band + offset
            length = 0.0
            if not math.isnan(value):
                end = value_at(value)
                length = end - zero if horizontal else zero - end
                low, size = (min(zero, end), abs(end - zero))
                box = (f'x="{_n(low)}" y="{_n(start)}" width="{_n(size)}" height="{_n(width)}"'
                       if horizontal else
                       f'x="{_n(start)}" y="{_n(low)}" width="{_n(width)}" height="{_n(size)}"')
                parts.append(f'<rect {box} fill="{one.color}">'
                             f"{_bar_title(labels[index], one.name, value, tick_format)}</rect>")
            if text:
                parts.append(_bar_label(text, start + width / 2, zero, length, width, horizontal))
    return parts


def _marks(marker: Marker | None, marks: list[float], band_start: float, band: float,
           value_at: Callable[[float], float], horizontal: bool) -> list[str]:
    parts: list[str] = []
    for index, value in enumerate(marks):
        if math.isnan(value):
            continue
        at = value_at(value)
        low, high = band_start + (index + 0.05) * band, band_start + (index + 0.95) * band
        ends = (f'x1="{_n(at)}" x2="{_n(at)}" y1="{_n(low)}" y2="{_n(high)}"' if horizontal else
                f'x1="{_n(low)}" x2="{_n(high)}" y1="{_n(at)}" y2="{_n(at)}"')
        parts.append(f'<line {ends} stroke="{marker.color}" stroke-width="2.5"/>')
    return parts


def _vertical(labels: list[str], series: Sequence[Series], rows: list[list[float]],
              marker: Marker | None, marks: list[float], ticks: list[float], tick_format: Format,
              chart_id: str, description: str, title: str) -> str:
    tick_texts = [tick_format(tick) for tick in ticks]
    left = max(_text_width(text) for text in tick_texts) + 14
    right = WIDTH - 12
    # many categories side by side only stay readable when their labels are slanted
    slanted = len(labels) > 6
    longest = max((_text_width(label) for label in labels), default=0.0)
    if slanted:
        band = (right - left) / max(len(labels), 1)
        # the first slanted label reaches left of its bar and must stay inside the picture
        left = max(left, longest * 0.71 - band / 2 + 6)
        bottom = longest * 0.71 + 22
    else:
        bottom = 26.0
    header, top = _header(title, series, marker, left, right)
    height = top + _PLOT_HEIGHT + bottom
    plot_bottom = top + _PLOT_HEIGHT
    value_at = _scale(ticks, plot_bottom, top)
    band = (right - left) / max(len(labels), 1)
    parts = header
    for tick, text in zip(ticks, tick_texts, strict=True):
        y = _n(value_at(tick))
        parts.append(f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{y}" y2="{y}" stroke="{_GRID}"/>')
        parts.append(f'<text x="{_n(left - 6)}" y="{_n(value_at(tick) + 4)}" text-anchor="end" '
                     f'fill="{_MUTED}">{_escape(text)}</text>')
    parts += _bars(labels, series, rows, left, band, value_at, tick_format, horizontal=False)
    parts += _marks(marker, marks, left, band, value_at, horizontal=False)
    zero = _n(value_at(0.0))
    parts.append(f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{zero}" y2="{zero}" '
                 f'stroke="{_AXIS}"/>')
    for index, label in enumerate(labels):
        x, y = left + (index + 0.5) * band, plot_bottom + 16
        turn = f' transform="rotate(-45 {_n(x)} {_n(y - 4)})"' if slanted else ""
        parts.append(f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{"end" if slanted else "middle"}"'
                     f'{turn} fill="{_INK}">{_escape(label)}</text>')
    return _svg(chart_id, description, height, parts)


def _horizontal(labels: list[str], series: Sequence[Series], rows: list[list[float]],
                marker: Marker | None, marks: list[float], ticks: list[float],
                tick_format: Format, chart_id: str, description: str, title: str) -> str:
    tick_texts = [tick_format(tick) for tick in ticks]
    limit = WIDTH * _MAX_LABEL
    left = min(max((_text_width(label) for label in labels), default=0.0) + 16, limit)
    right = WIDTH - 12 - _text_width(tick_texts[-1]) / 2
    band = max(16.0 * len(series) + 12, 28.0)
    header, top = _header(title, series, marker, left, right)
    plot_bottom = top + band * len(labels)
    height = plot_bottom + 26
    value_at = _scale(ticks, left, right)
    parts = header
    for tick, text in zip(ticks, tick_texts, strict=True):
        x = _n(value_at(tick))
        parts.append(f'<line x1="{x}" x2="{x}" y1="{_n(top)}" y2="{_n(plot_bottom)}" '
                     f'stroke="{_GRID}"/>')
        parts.append(f'<text x="{x}" y="{_n(plot_bottom + 16)}" text-anchor="middle" '
                     f'fill="{_MUTED}">{_escape(text)}</text>')
    parts += _bars(labels, series, rows, top, band, value_at, tick_format, horizontal=True)
    parts += _marks(marker, marks, top, band, value_at, horizontal=True)
    zero = _n(value_at(0.0))
    parts.append(f'<line x1="{zero}" x2="{zero}" y1="{_n(top)}" y2="{_n(plot_bottom)}" '
                 f'stroke="{_AXIS}"/>')
    for index, label in enumerate(labels):
        shown, full = label, ""
        if _text_width(label) + 16 > limit:
            # a long name is cut, the whole name stays available as a tooltip
            shown = label[:max(int((limit - 16) / (_FONT * _EM)) - 1, 1)] + "…"
            full = f"<title>{_escape(label)}</title>"
        parts.append(f'<text x="{_n(left - 8)}" y="{_n(top + (index + 0.5) * band + 4)}" '
                     f'text-anchor="end" fill="{_INK}">{full}{_escape(shown)}</text>')
    return _svg(chart_id, description, height, parts)
