"""Archive and part titles from a template: {title}, {streamer}, {url} and strftime fields.

The strftime fields are expanded first, in the site's time zone, so a stream title holding "%"
comes through as written. A job's archive title is UploadJob.submit_title(), which fills its
template here.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

TITLE_MAX = 80


def render(
    template: str, *, title: str, streamer: str, url: str, when: datetime
) -> str:
    local = timezone.localtime(when) if timezone.is_aware(when) else when
    text = local.strftime(template)
    for name, value in (("{title}", title), ("{streamer}", streamer), ("{url}", url)):
        text = text.replace(name, value)
    return " ".join(text.split())[:TITLE_MAX]
