"""Charts drawn on the server as inline SVG: no script, no asset, readable at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2e7d32", "#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#c62828", "#5d4037")
_ROW = 26
_LABEL_W = 110
_BAR_W = 230
_MIN_WIDTH = 400
_LEGEND_PER_ROW = 3


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def hbar(rows: Sequence[tuple[str, float]], *, title: str, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value), longest first as given."""
    if not rows:
        return Markup("")
    top = max(v for _, v in rows) or 1
    height = _ROW * len(rows) + 8
    width = _LABEL_W + _BAR_W + 60
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * _ROW
        w = max(1.0, _BAR_W * value / top) if value else 0
        short = label if len(label) <= 12 else label[:11] + "…"
        parts.append(
            f"<g><title>{escape(label)}: {_fmt(value)}{escape(unit)}</title>"
            f'<text x="{_LABEL_W - 6}" y="{y + 17}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{w:.1f}" height="{_ROW - 8}" '
            f'fill="{PALETTE[0]}" rx="2"/>'
            f'<text x="{_LABEL_W + w + 5:.1f}" y="{y + 17}" class="v">{_fmt(value)}{escape(unit)}'
            "</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
) -> Markup:
    """Vertical columns per label (e.g. month), one colour per series, with a legend."""
    if not labels or not series:
        return Markup("")
    top = max((v for _, values in series for v in values), default=0) or 1
    plot_h, base, left = 160, 180, 34
    group = max(28, 14 * len(series) + 10)
    width = max(_MIN_WIDTH, left + group * len(labels) + 10)
    if len(labels) * group < width - left - 10:
        group = min(90, (width - left - 10) // len(labels))
    bar = (group - 10) / len(series)
    legend_rows = -(-len(series) // _LEGEND_PER_ROW)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {base + 28 + 18 * legend_rows}" '
        f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" class="axis"/>',
        f'<text x="{left - 4}" y="{base - plot_h + 4}" text-anchor="end" class="v">{_fmt(top)}'
        "</text>",
        f'<text x="{left - 4}" y="{base}" text-anchor="end" class="v">0</text>',
    ]
    for i, label in enumerate(labels):
        x0 = left + i * group + 5
        for j, (name, values) in enumerate(series):
            value = values[i]
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{base - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(label)} {escape(name)}: {_fmt(value)}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + (group - 10) / 2:.1f}" y="{base + 14}" text-anchor="middle" '
            f'class="tick">{escape(label)}</text>'
        )
    for j, (name, _) in enumerate(series):
        x = left + (j % _LEGEND_PER_ROW) * 120
        y = base + 26 + (j // _LEGEND_PER_ROW) * 18
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{y + 9}" class="tick">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


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
