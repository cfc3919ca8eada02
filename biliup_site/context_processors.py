from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """What every page's frame needs: the version and which section the page belongs to."""
    match = getattr(request, "resolver_match", None)
    return {
        "version": settings.VERSION,
        "section": match.url_name.split("-")[0] if match and match.url_name else "",
    }
