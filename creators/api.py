"""The creator catalogs' JSON API: our extension of /api/v1 (see the OpenAPI document)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from biliup_site.api import ApiError, api, dispatch, form_error, ok
from biliup_site.forms import bind
from biliup_site.http import ApiRequest
from creators import catalogs
from creators.forms import CreatorForm, VideoFilterForm
from creators.models import Creator


def list_creators(request: ApiRequest) -> HttpResponse:
    return ok([c.to_dict() for c in Creator.objects.rows()])


def follow_creator(request: ApiRequest) -> HttpResponse:
    uid = request.json.get("uid")
    if type(uid) is int and Creator.objects.filter(uid=uid).exists():
        raise ApiError(f"uid: {uid} is already followed", 409)
    creator = catalogs.save(bind(CreatorForm, request.json))
    return ok(creator.to_dict(), status=201)


creators = dispatch(GET=list_creators, POST=follow_creator)


def _creator(uid: int) -> Creator:
    return get_object_or_404(Creator, uid=uid)


def get_creator(request: ApiRequest, uid: int) -> HttpResponse:
    return ok(_creator(uid).to_dict())


def update_creator(request: ApiRequest, uid: int) -> HttpResponse:
    payload = {k: v for k, v in request.json.items() if k != "uid"}
    creator = catalogs.save(bind(CreatorForm, payload, instance=_creator(uid)))
    return ok(creator.to_dict())


def unfollow_creator(request: ApiRequest, uid: int) -> HttpResponse:
    creator = _creator(uid)
    data = creator.to_dict()
    creator.delete()
    return ok(data)


creator = dispatch(GET=get_creator, PUT=update_creator, DELETE=unfollow_creator)


@api("POST")
def refresh_creator(request: ApiRequest, uid: int) -> HttpResponse:
    try:
        creator = catalogs.request_refresh(_creator(uid))
    except catalogs.CatalogError as exc:
        raise ApiError(str(exc), 409) from None
    return ok(creator.to_dict(), status=202)


@api("GET")
def creator_videos(request: ApiRequest, uid: int) -> HttpResponse:
    creator = _creator(uid)
    form = VideoFilterForm(request.GET)
    if not form.is_valid():
        raise form_error(form)
    filters = form.cleaned_data
    pages = Paginator(catalogs.videos(creator, filters), filters["page_size"])
    page = (
        pages.get_page(filters["page"]) if filters["page"] <= pages.num_pages else None
    )
    return ok(
        {
            "count": pages.count,
            "page": filters["page"],
            "page_size": filters["page_size"],
            "pages": pages.num_pages if pages.count else 0,
            "results": [v.to_dict() for v in page.object_list] if page else [],
        }
    )


@api("GET")
def creator_video(request: ApiRequest, uid: int, bvid: str) -> HttpResponse:
    video = get_object_or_404(_creator(uid).videos, bvid=bvid)
    return ok(
        {
            **video.to_dict(),
            "snapshots": [
                {"at": s.at.isoformat(), "play": s.play, "danmaku": s.danmaku}
                for s in video.snapshots.all()
            ],
        }
    )


@api("GET")
def creator_trend(request: ApiRequest, uid: int) -> HttpResponse:
    return ok(
        [
            {
                "at": s.at.isoformat(),
                "videos": s.videos,
                "play": s.play,
                "danmaku": s.danmaku,
            }
            for s in _creator(uid).snapshots.all()
        ]
    )
