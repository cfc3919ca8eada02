"""Archive and part titles from a template: {title}, {streamer}, {url} and strftime fields.

The strftime fields are expanded first, in the site's time zone, so a stream title holding "%"
comes through as written.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from uploads.models import UploadJob

TITLE_MAX = 80


def render(
    template: str, *, title: str, streamer: str, url: str, when: datetime
) -> str:
    local = timezone.localtime(when) if timezone.is_aware(when) else when
    text = local.strftime(template)
    for name, value in (("{title}", title), ("{streamer}", streamer), ("{url}", url)):
        text = text.replace(name, value)
    return " ".join(text.split())[:TITLE_MAX]


def job_title(job: UploadJob) -> str:
    """The archive title a job submits with: its template's title filled from its live session
    (or, for picked files, from the first file's name)."""
    session = job.streamer_info
    template = job.params.get("title") or ""
    if session is not None:
        return render(
            template or "{streamer} %Y-%m-%d %H:%M {title}",
            title=session.title,
            streamer=session.name,
            url=session.url,
            when=session.start_time,
        )
    first = job.files.order_by("position").first()
    stem = Path(first.path).stem if first else "upload"
    return render(template or stem, title=stem, streamer="", url="", when=job.created)
