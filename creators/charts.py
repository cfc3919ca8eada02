"""Small inline SVG charts for the creator pages: a line over time, and a sparkline.

Drawn on the server so the pages need no chart library (we are offline, and a phone should not
download one to show a line). Both take (when, value) points, oldest first, and return markup
ready for a template; with fewer than two points there is no line to draw and they return "",
so the page can say there is not enough data yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

Point = tuple[datetime, float]

# A catalog refreshed hourly has thousands of snapshots a year; a line this wide on a phone
# shows no more than a few hundred of them, and the page should stay light.
MAX_POINTS = 240


@dataclass(frozen=True)
class Box:
    """The drawing area inside the SVG's viewBox."""

    left: float
    top: float
    right: float
    bottom: float


def line_chart(
    points: Sequence[Point], label: str, width: int = 400, height: int = 160
) -> SafeString:
    """A filled line of `points` over time, with the min and max values on the left and the
    first and last dates under it. `label` names the chart for screen readers."""
    points = _thin(points, MAX_POINTS)
    if len(points) < 2:
        return mark_safe("")
    values = [value for _when, value in points]
    low, high = min(values), max(values)
    # Room for the value labels on the left and the dates underneath, in viewBox units.
    box = Box(left=8, top=20, right=width - 8, bottom=height - 22)
    xy = _scale(points, box)
    line = _path(xy)
    area = f"{line} L{xy[-1][0]:.1f},{box.bottom} L{xy[0][0]:.1f},{box.bottom} Z"
    first, last = points[0][0], points[-1][0]
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"'
        ' xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        '<line class="chart-axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/>'
        '<path class="chart-area" d="{area}"/>'
        '<path class="chart-line" d="{line}"/>'
        '<text class="chart-label" x="{l}" y="{maxy}">{high}</text>'
        '<text class="chart-label" x="{l}" y="{miny}">{low}</text>'
        '<text class="chart-label" x="{l}" y="{datey}">{first}</text>'
        '<text class="chart-label" x="{r}" y="{datey}" text-anchor="end">{last}</text>'
        "</svg>",
        w=width,
        h=height,
        label=label,
        l=box.left,
        r=box.right,
        b=box.bottom,
        area=area,
        line=line,
        maxy=box.top - 6,
        miny=box.bottom - 4,
        datey=height - 4,
        high=_number(high),
        low=_number(low),
        first=_date(first),
        last=_date(last),
    )


def sparkline(points: Sequence[Point], width: int = 96, height: int = 24) -> SafeString:
    """A tiny line of `points`, no labels: the trend at a glance, beside the numbers."""
    points = _thin(points, MAX_POINTS)
    if len(points) < 2:
        return mark_safe("")
    box = Box(left=1, top=2, right=width - 1, bottom=height - 2)
    dots = format_html_join(
        " ", "{},{}", ((f"{x:.1f}", f"{y:.1f}") for x, y in _scale(points, box))
    )
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {} {}" width="{}" height="{}" aria-hidden="true"'
        ' xmlns="http://www.w3.org/2000/svg"><polyline points="{}"/></svg>',
        width,
        height,
        width,
        height,
        dots,
    )


def _thin(points: Sequence[Point], limit: int) -> list[Point]:
    """At most `limit` points, evenly picked, the first and the last always kept."""
    if len(points) <= limit:
        return list(points)
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def _scale(points: Sequence[Point], box: Box) -> list[tuple[float, float]]:
    """Points in the box: time left to right, value bottom to top. Equal values draw a
    level line in the middle; equal times (two snapshots in one second) spread evenly."""
    times = [when.timestamp() for when, _value in points]
    values = [float(value) for _when, value in points]
    t0, span = times[0], times[-1] - times[0]
    low, high = min(values), max(values)
    width, height = box.right - box.left, box.bottom - box.top
    xy = []
    for i, (t, v) in enumerate(zip(times, values, strict=True)):
        share = (t - t0) / span if span > 0 else i / (len(points) - 1)
        rise = (v - low) / (high - low) if high > low else 0.5
        xy.append((box.left + share * width, box.bottom - rise * height))
    return xy


def _path(xy: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in xy)


def _number(value: float) -> str:
    return f"{round(value):,}"


def _date(when: datetime) -> str:
    return f"{timezone.localtime(when):%Y-%m-%d}"
