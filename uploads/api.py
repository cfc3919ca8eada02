from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from biliup_site.api import ApiError, api, dispatch, form_error, ok
from biliup_site.forms import bind
from biliup_site.http import ApiRequest
from uploads import catalogs, manual
from uploads import upload as workflow
from uploads.forms import CreatorForm, UploadTemplateForm, VideoFilterForm, normalize
from uploads.models import Creator, UploadJob, UploadTemplate


def list_templates(request: ApiRequest) -> HttpResponse:
    return ok(
        [
            t.to_dict()
            for t in UploadTemplate.objects.select_related("account").defer(
                "account__credential"
            )
        ]
    )


def save_template(request: ApiRequest) -> HttpResponse:
    """biliup's one write: `id` null creates, `id` set updates."""
    pk = request.json.get("id")
    if pk is not None and type(pk) is not int:
        raise ApiError(
            "id: Expected null (create) or the id of the template to update."
        )
    instance = get_object_or_404(UploadTemplate, pk=pk) if pk is not None else None
    form = bind(UploadTemplateForm, normalize(request.json), instance=instance)
    return ok(form.save().to_dict())


templates = dispatch(GET=list_templates, POST=save_template)


def get_template(request: ApiRequest, pk: int) -> HttpResponse:
    return ok(
        get_object_or_404(
            UploadTemplate.objects.select_related("account").defer(
                "account__credential"
            ),
            pk=pk,
        ).to_dict()
    )


def delete_template(request: ApiRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(
        UploadTemplate.objects.select_related("account").defer("account__credential"),
        pk=pk,
    )
    data = template.to_dict()
    # Streamers using it keep recording, with no template (SET_NULL), unlike biliup's cascade.
    template.delete()
    return ok(data)


template = dispatch(GET=get_template, DELETE=delete_template)


@api("POST")
def uploads(request: ApiRequest) -> HttpResponse:
    manual.upload_files(request.json.get("files"), request.json.get("params", {}))
    return ok({})


@api("GET")
def upload_jobs(request: ApiRequest) -> HttpResponse:
    jobs = UploadJob.objects.prefetch_related("files")
    status = request.GET.get("status")
    if status:
        if status not in UploadJob.Status.values:
            raise ApiError(
                f"status: Expected one of {', '.join(UploadJob.Status.values)}."
            )
        jobs = jobs.filter(status=status)
    return ok([job.to_dict() for job in jobs[:200]])


@api("GET")
def upload_job(request: ApiRequest, pk: int) -> HttpResponse:
    return ok(get_object_or_404(UploadJob, pk=pk).to_dict())


@api("POST")
def retry_job(request: ApiRequest, pk: int) -> HttpResponse:
    try:
        job = workflow.retry(get_object_or_404(UploadJob, pk=pk))
    except ValueError as exc:
        raise ApiError(str(exc), 409) from None
    return ok(job.to_dict())


@api("POST")
def cancel_job(request: ApiRequest, pk: int) -> HttpResponse:
    try:
        job = workflow.cancel(get_object_or_404(UploadJob, pk=pk))
    except ValueError as exc:
        raise ApiError(str(exc), 409) from None
    return ok(job.to_dict())


# Creator catalogs: our extension of /api/v1 (see the OpenAPI document).


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
