"""Pages: the followed Bilibili users, and one user's videos with their plays over time."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from biliup_site.http import HtmxHttpRequest
from biliup_site.models import Configuration
from biliup_site.pages import render_page
from creators import catalogs, charts
from creators.forms import CreatorForm, VideoFilterForm
from creators.models import Creator, VideoSnapshot


def _get_creator(uid: int) -> Creator:
    return get_object_or_404(Creator.objects.rows(), uid=uid)


def _follow_form(data: Any = None) -> CreatorForm:
    return CreatorForm(data, auto_id="follow_%s")


def _creator_edit_form(creator: Creator, data: Any = None) -> CreatorForm:
    return CreatorForm(data, instance=creator, auto_id=f"edit{creator.pk}_%s")


def _creators_page(
    request: HtmxHttpRequest,
    follow_form: CreatorForm | None = None,
    editing: CreatorForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "creators": Creator.objects.rows(),
        "follow_form": follow_form or _follow_form(),
        "edit_form": editing,
        "editing": editing.instance.pk if editing else None,
        "stopped": Configuration.load().justoneapi_stopped,
        "now": timezone.now(),
    }
    return render_page(request, "creators/creators.html", context, status=status)


def _creator_row(
    request: HtmxHttpRequest, uid: int, note: str = "", failed: bool = False
) -> HttpResponse:
    context = {
        "creator": _get_creator(uid),
        "note": note,
        "failed": failed,
        "now": timezone.now(),
    }
    return render(request, "creators/creators.html#creator-row", context)


def _back_to_row(creator: Creator) -> HttpResponse:
    return redirect(reverse("creators") + f"#creator-{creator.pk}")


@require_GET
@login_required
def creators(request: HtmxHttpRequest) -> HttpResponse:
    return _creators_page(request)


@require_POST
@login_required
def follow_creator(request: HtmxHttpRequest) -> HttpResponse:
    form = _follow_form(request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(
                request, "creators/creators.html#follow-form", {"follow_form": form}
            )
        return _creators_page(request, follow_form=form, status=400)
    creator = catalogs.save(form)
    if not request.htmx:
        messages.success(
            request, _("Following %(name)s.") % {"name": creator.display_name}
        )
        return redirect("creators")
    context = {
        "follow_form": _follow_form(),
        "creator": _get_creator(creator.uid),
        "now": timezone.now(),
    }
    return render(request, "creators/creators.html#followed", context)


@require_GET
@login_required
def creator_row(request: HtmxHttpRequest, uid: int) -> HttpResponse:
    """One row as it shows when not edited (the edit form's Cancel)."""
    if not request.htmx:
        return _back_to_row(_get_creator(uid))
    return _creator_row(request, uid)


@require_http_methods(["GET", "POST"])
@login_required
def edit_creator(request: HtmxHttpRequest, uid: int) -> HttpResponse:
    creator = _get_creator(uid)
    form = _creator_edit_form(
        creator, request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        creator = catalogs.save(form)
        if not request.htmx:
            return _back_to_row(creator)
        return _creator_row(request, uid)
    if request.htmx:
        return render(
            request, "creators/creators.html#creator-edit", {"edit_form": form}
        )
    return _creators_page(request, editing=form, status=400 if form.is_bound else 200)


@require_POST
@login_required
def refresh_creator(request: HtmxHttpRequest, uid: int) -> HttpResponse:
    """Refresh now; why it cannot be (JustOneAPI held until a time) is said, not an error page."""
    creator = _get_creator(uid)
    note = _("%(name)s is being refreshed.") % {"name": creator.display_name}
    failed = False
    try:
        catalogs.request_refresh(creator)
    except catalogs.CatalogError as exc:
        note, failed = str(exc), True
    if request.htmx:
        return _creator_row(request, uid, note, failed)
    messages.add_message(request, messages.ERROR if failed else messages.SUCCESS, note)
    if request.POST.get("back") == "detail":
        return redirect("creators-detail", uid=uid)
    return _back_to_row(creator)


@require_POST
@login_required
def unfollow_creator(request: HtmxHttpRequest, uid: int) -> HttpResponse:
    creator = _get_creator(uid)
    name = creator.display_name
    # Its catalog and play history go with it (CASCADE), as with the API's DELETE.
    creator.delete()
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("Unfollowed %(name)s.") % {"name": name})
    return redirect("creators")


@require_GET
@login_required
def creator_detail(request: HtmxHttpRequest, uid: int) -> HttpResponse:
    """A followed user's plays over time and their videos, as the GET form filters them."""
    creator = _get_creator(uid)
    form = _video_filter_form(creator, request.GET)
    page, videos = None, []
    if form.is_valid():
        filters = form.cleaned_data
        # Prefetched on the paginated query: the snapshots of this page's videos only.
        found = catalogs.videos(creator, filters).prefetch_related(
            Prefetch("snapshots", VideoSnapshot.objects.only("video", "at", "play"))
        )
        page = Paginator(found, filters["page_size"]).get_page(filters["page"])
        videos = [
            (video, charts.sparkline([(s.at, s.play) for s in video.snapshots.all()]))
            for video in page
        ]
    trend = list(creator.snapshots.values_list("at", "play"))
    context = {
        "creator": creator,
        "form": form,
        "page": page,
        "videos": videos,
        "chart": charts.line_chart(
            trend,
            _("Total plays of %(name)s over time") % {"name": creator.display_name},
        ),
        "stopped": Configuration.load().justoneapi_stopped,
        "now": timezone.now(),
    }
    return render_page(
        request,
        "creators/creator.html",
        context,
        parts=("videos",),
        status=200 if page is not None else 400,
    )


def _video_filter_form(creator: Creator, data: Any) -> VideoFilterForm:
    """The API's filter form, with the page's widgets: the user's own categories to pick
    from, and date pickers (the form takes a date as its midnight)."""
    form = VideoFilterForm(data)
    names = (
        creator.videos.exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )
    form.fields["category"].widget = forms.Select(
        choices=[("", _("All categories")), *((n, n) for n in names)]
    )
    for name in ("since", "until"):
        form.fields[name].widget = forms.DateInput(
            attrs={"type": "date"}, format="%Y-%m-%d"
        )
    return form
