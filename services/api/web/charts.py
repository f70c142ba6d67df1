"""Charts drawn on the server as inline SVG: no script, no asset, readable at a glance.

Each chart is drawn at its natural size in CSS pixels (width and height attributes equal to
its viewBox) and never scaled down: text stays at the stylesheet's 12 px on a phone, and a
chart wider than the screen scrolls sideways in its frame. Each comes with a table of the
same numbers (a <details> under it) for screen readers and for reading exact values.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2e7d32", "#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#c62828", "#5d4037")
_ROW = 26
_LABEL_W = 100  # fits 8 CJK characters at 12 px
_LABEL_UNITS = 16  # a CJK character counts 2, others 1
_BAR_W = 160
_VALUE_W = 56
_CHAR_PX = 7  # an average character at 12 px, to size column groups
_LEGEND_W = 110
_LEGEND_PER_ROW = 3


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _units(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _short(label: str, units: int = _LABEL_UNITS) -> str:
    if _units(label) <= units:
        return label
    out = ""
    for c in label:
        if _units(out + c) > units - 1:
            break
        out += c
    return out + "…"


def _open(width: float, height: float, title: str) -> str:
    return (
        f'<svg class="chart" role="img" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}"><title>{escape(title)}</title>'
    )


def _frame(svg: str, title: str) -> str:
    # A focusable frame: a chart wider than the screen scrolls, by keyboard too.
    return (
        f'<div class="chart-frame" role="region" tabindex="0" aria-label="{escape(title)}">'
        f"{svg}</div>"
    )


def _table(title: str, summary: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{escape(cells[0])}</th>'
        + "".join(f"<td>{escape(c)}</td>" for c in cells[1:])
        + "</tr>"
        for cells in rows
    )
    return (
        f'<details class="chart-table"><summary>{escape(summary)}</summary>'
        f'<div class="table-wrap"><table><caption>{escape(title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></details>"
    )


def hbar(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    header: tuple[str, str] = ("", ""),
    summary: str = "",
) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; with summary, a table
    (header: the label's and the value's column names) under it."""
    if not rows:
        return Markup("")
    top = max(v for _, v in rows) or 1
    height = _ROW * len(rows) + 8
    width = _LABEL_W + _BAR_W + _VALUE_W
    parts = [_open(width, height, title)]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * _ROW
        w = max(1.0, _BAR_W * value / top) if value else 0
        parts.append(
            f"<g><title>{escape(label)}: {_fmt(value)}{escape(unit)}</title>"
            f'<text x="{_LABEL_W - 6}" y="{y + 17}" text-anchor="end">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{w:.1f}" height="{_ROW - 8}" '
            f'fill="{PALETTE[0]}" rx="2"/>'
            f'<text x="{_LABEL_W + w + 5:.1f}" y="{y + 17}" class="v">{_fmt(value)}{escape(unit)}'
            "</text></g>"
        )
    parts.append("</svg>")
    out = _frame("".join(parts), title)
    if summary:
        table_rows = [(label, f"{_fmt(value)}{unit}") for label, value in rows]
        out += _table(title, summary, header, table_rows)
    return Markup(out)


def columns(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    ticks: Sequence[tuple[str, str]] | None = None,
    header: str = "",
    summary: str = "",
) -> Markup:
    """Vertical columns per label (e.g. month), one colour per series, with a legend.

    ticks: what to write under each group, two lines (e.g. "03" over "2026"), when the
    labels themselves are too long; with summary, a table under it (header: the label's
    column name).
    """
    if not labels or not series:
        return Markup("")
    ticks = ticks or [(_short(label, 12), "") for label in labels]
    top = max((v for _, values in series for v in values), default=0) or 1
    plot_h, base, left = 160, 180, 40
    widest = max(_units(a) for a, _ in ticks)
    group = max(8 * len(series) + 10, widest * _CHAR_PX + 8)
    legend_rows = -(-len(series) // _LEGEND_PER_ROW)
    legend_w = _LEGEND_W * min(len(series), _LEGEND_PER_ROW)
    width = max(left + group * len(labels) + 10, left + legend_w)
    second = any(b for _, b in ticks)
    axis_h = 32 if second else 18
    height = base + axis_h + 12 + 18 * legend_rows
    bar = (group - 10) / len(series)
    parts = [
        _open(width, height, title),
        f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" class="axis"/>',
        f'<text x="{left - 4}" y="{base - plot_h + 4}" text-anchor="end" class="v">{_fmt(top)}'
        "</text>",
        f'<text x="{left - 4}" y="{base}" text-anchor="end" class="v">0</text>',
    ]
    for i, (label, (tick, under)) in enumerate(zip(labels, ticks, strict=True)):
        x0 = left + i * group + 5
        for j, (name, values) in enumerate(series):
            value = values[i]
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{base - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(label)} {escape(name)}: {_fmt(value)}</title></rect>"
            )
        middle = x0 + (group - 10) / 2
        parts.append(
            f'<text x="{middle:.1f}" y="{base + 15}" text-anchor="middle" class="tick">'
            f"{escape(tick)}</text>"
        )
        if under:
            parts.append(
                f'<text x="{middle:.1f}" y="{base + 29}" text-anchor="middle" class="tick">'
                f"{escape(under)}</text>"
            )
    for j, (name, _) in enumerate(series):
        x = left + (j % _LEGEND_PER_ROW) * _LEGEND_W
        y = base + axis_h + 6 + (j // _LEGEND_PER_ROW) * 18
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{y + 10}" class="tick">{escape(_short(name, 14))}</text>'
        )
    parts.append("</svg>")
    out = _frame("".join(parts), title)
    if summary:
        table_rows = [
            (label, *[_fmt(values[i]) for _, values in series]) for i, label in enumerate(labels)
        ]
        out += _table(title, summary, [header, *[name for name, _ in series]], table_rows)
    return Markup(out)


def month_ticks(months: Sequence[str]) -> list[tuple[str, str]]:
    """Ticks for YYYY-MM labels: the month, with the year under the first and each January."""
    out = []
    for i, month in enumerate(months):
        year, _, mm = month.partition("-")
        out.append((mm or month, year if i == 0 or mm == "01" else ""))
    return out


def meter(value: float | None, *, label: str) -> Markup:
    """A small horizontal gauge for a rate between 0 and 1."""
    if value is None:
        return Markup("")
    pct = max(0.0, min(1.0, value)) * 100
    return Markup(
        f'<svg class="meter" role="img" viewBox="0 0 100 8" preserveAspectRatio="none">'
        f"<title>{escape(label)}: {pct:.0f}%</title>"
        f'<rect width="100" height="8" fill="#e0e0e0" rx="2"/>'
        f'<rect width="{pct:.1f}" height="8" fill="{PALETTE[0]}" rx="2"/></svg>'
    )
