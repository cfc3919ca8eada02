"""Site-wide endpoints: configuration, status, the image proxy and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control

from biliup_site import attention as needs
from biliup_site import openapi, proxy, user_keys
from biliup_site.api import ApiError, api, biliup_surface, dispatch, ok
from biliup_site.forms import ConfigurationForm, bind
from biliup_site.http import ApiRequest
from biliup_site.models import Configuration
from recorder.models import Streamer
from uploads.models import UploadJob


def _configuration(config: Configuration) -> dict[str, Any]:
    """The configuration with biliup's `user` section made from the accounts (file names only)."""
    return {**config.to_dict(), "user": user_keys.section()}


def get_configuration(request: ApiRequest) -> HttpResponse:
    return ok(_configuration(Configuration.load()))


def _refuse_unknown_keys(request: ApiRequest) -> None:
    """A misspelt key on /api/v1 is an error, not a silent no-op. biliup's UI (/v1) sends back
    its whole configuration, most of which this site does not model, so /v1 ignores them."""
    if biliup_surface(request):
        return
    known = {*ConfigurationForm.base_fields, *Configuration().to_dict(), "user"}
    unknown = sorted(key for key in request.json if key not in known)
    if unknown:
        raise ApiError(f"Unknown configuration keys: {', '.join(unknown)}")


def put_configuration(request: ApiRequest) -> HttpResponse:
    _refuse_unknown_keys(request)
    # One transaction: a refused field undoes the accounts the `user` section imported, and a
    # refused `user` key leaves the other fields unchanged, so a save is all or nothing.
    with transaction.atomic():
        user_keys.apply(request.json.get("user"))
        form = bind(ConfigurationForm, request.json, instance=Configuration.load())
        config = form.save()
    return ok(_configuration(config))


configuration = dispatch(GET=get_configuration, PUT=put_configuration)


@api("GET")
def status(request: ApiRequest) -> HttpResponse:
    config = Configuration.load()
    streamers = list(Streamer.objects.with_upload_status())
    recording = sum(1 for s in streamers if s.state == Streamer.State.RECORDING)
    uploading = UploadJob.objects.running().count()
    rooms = [
        {
            "downloader_status": s.status,
            "uploader_status": s.upload_status,
            "live_streamer": s.to_dict(),
            "upload_streamer": s.upload_template.to_dict()
            if s.upload_template
            else None,
        }
        for s in streamers
    ]
    return ok(
        {
            "version": settings.VERSION,
            "rooms": rooms,
            "download_semaphore": max(config.download_limit - recording, 0),
            "update_semaphore": max(config.upload_limit - uploading, 0),
            "config": config.to_dict(),
        }
    )


@api("GET")
def attention(request: ApiRequest) -> HttpResponse:
    """What needs the user: the counts of the pages' attention strip."""
    return ok(needs.count().to_dict())


@api("GET")
def image_proxy(request: ApiRequest) -> HttpResponse:
    url = request.GET.get("url", "")
    if not url:
        raise ApiError("url: Give the image URL to fetch.")
    try:
        fetched = proxy.fetch_cached(url)
    except proxy.ProxyError as exc:
        raise ApiError(exc.message, exc.status) from None
    etag = f'"{fetched.etag}"'
    # The browser keeps it as long as the disk cache does (a day at least); a revalidation
    # (a forced reload) is answered 304 from the disk cache, without fetching.
    max_age = max(settings.PROXY_CACHE_DAYS, 1) * 86400
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        fetched.content, content_type=fetched.content_type
    )
    response["ETag"] = etag
    patch_cache_control(response, private=True, max_age=max_age)
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@api("GET")
def openapi_document(request: ApiRequest) -> HttpResponse:
    return ok(openapi.document())
