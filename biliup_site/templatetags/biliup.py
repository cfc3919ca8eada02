"""Filters and tags the pages share: sizes, rates, durations, paths in the recordings folder
and the attention strip."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import template
from django.template import Context
from django.template.defaultfilters import filesizeformat
from django.utils.translation import pgettext_lazy

from biliup_site import attention
from biliup_site.models import Configuration

register = template.Library()

# A platform's name as its users write it, for the badges: recorder.platforms.recognise() gives
# "bilibili" or a streamlink plugin's module name ("twitch", "huya"), which are not names.
PLATFORM_NAMES = {
    "bilibili": pgettext_lazy("platform", "Bilibili"),
    "huya": pgettext_lazy("platform", "Huya"),
    "douyu": pgettext_lazy("platform", "Douyu"),
    "douyin": pgettext_lazy("platform", "Douyin"),
    "twitch": "Twitch",
    "youtube": "YouTube",
    "kick": "Kick",
    "tiktok": "TikTok",
    "afreeca": "AfreecaTV",
    "soop": "SOOP",
}


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


@register.filter
def platform_name(platform: str | None) -> str:
    """A badge's name: "bilibili" → Bilibili (哔哩哔哩); another platform's, capitalised."""
    name = str(platform or "")
    return str(PLATFORM_NAMES.get(name.lower(), name[:1].upper() + name[1:]))


# The attention strip and paths relative to the recordings folder


@register.inclusion_tag("biliup_site/attention.html")
def attention_strip() -> dict[str, Any]:
    """The strip under every page's header: what needs the user (biliup_site/attention.py)."""
    return {"attention": attention.count()}


def _recordings_root(context: Context) -> PurePath:
    """The recordings folder, read once per page render (a page lists many files)."""
    root = getattr(context, "_recordings_root", None)
    if root is None:
        root = Configuration.load().recordings_path()
        context._recordings_root = root  # type: ignore[attr-defined]
    return root


def relative_path(path: str, root: PurePath) -> str:
    """`path` as it is under `root` ("主播/part0.flv"); a path outside it by its name alone:
    a page never shows where the server keeps its files."""
    pure = PurePath(path)
    try:
        return pure.relative_to(root).as_posix()
    except ValueError:
        return pure.name


@register.simple_tag(takes_context=True)
def recording_path(context: Context, path: str) -> str:
    """{% recording_path file.path %}: the file's path in the recordings folder."""
    return relative_path(str(path or ""), _recordings_root(context))


@register.simple_tag(takes_context=True)
def without_root(context: Context, text: str) -> str:
    """{% without_root job.error %}: a message with the recordings folder's own path taken
    out of the paths it names (a worker's reason names the file it failed on)."""
    root = str(_recordings_root(context)).rstrip("/") + "/"
    return str(text or "").replace(root, "")
