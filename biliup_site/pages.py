"""What every page view shares: rendering a page or one of its named partials."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    parts: Iterable[str] = (),
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only the partial named by ?part= when htmx asks for one of `parts`.

    Lists that refresh themselves (hx-get="?part=rooms") and the page share one template.
    """
    part = request.GET.get("part", "")
    if getattr(request, "htmx", False) and part in parts:
        template = f"{template}#{part}"
    return render(request, template, context, status=status)
