"""Pages: streamers and recordings."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from biliup_site.pages import render_page


@require_GET
@login_required
def streamers(request: HttpRequest) -> HttpResponse:
    return render_page(request, "recorder/streamers.html", {})


@require_GET
@login_required
def recordings(request: HttpRequest) -> HttpResponse:
    return render_page(request, "recorder/recordings.html", {})
