"""Filters the pages share for sizes, rates and durations."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import filesizeformat

register = template.Library()


@register.filter
def duration(seconds: float | int | None) -> str:
    """3725 → "1:02:05"; 65 → "1:05"."""
    try:
        total = int(float(seconds))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def bitrate(bits_per_second: float | int | None) -> str:
    """2_500_000 → "2.5 Mb/s"."""
    value = float(bits_per_second or 0)
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} Mb/s"
    return f"{value / 1000:.0f} kb/s"


@register.filter
def speed(bytes_per_second: float | int | None) -> str:
    """Bytes per second as "12.3 MB/s"."""
    return f"{filesizeformat(int(bytes_per_second or 0))}/s"


@register.filter
def percent(done: int | None, total: int | None) -> int:
    return min(100, int((done or 0) * 100 / total)) if total else 0
