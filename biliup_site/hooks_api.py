"""/api/v1/hooks and /api/v1/events: notifications and webhooks, and what was sent to them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from biliup_site import hooks
from biliup_site.api import ApiError, api, dispatch, ok
from biliup_site.forms import HookForm, bind
from biliup_site.http import ApiRequest
from biliup_site.models import Event, Hook

LIST_LIMIT = 100


def _limit(request: ApiRequest, default: int = 20) -> int:
    raw = request.GET.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= LIST_LIMIT:
        raise ApiError(f"limit: Give a whole number from 1 to {LIST_LIMIT}.")
    return int(raw)


def _regenerate(payload: dict[str, Any]) -> bool:
    value = payload.get("regenerate_secret", False)
    if not isinstance(value, bool):
        raise ApiError("regenerate_secret: Expected true or false.")
    return value


def _answer(hook: Hook, secret: str, status: int = 200) -> HttpResponse:
    data: dict[str, Any] = dict(hook.to_dict())
    if secret:
        data["secret"] = secret
    return ok(data, status=status)


def list_hooks(request: ApiRequest) -> HttpResponse:
    return ok([hook.to_dict() for hook in Hook.objects.all()])


def create_hook(request: ApiRequest) -> HttpResponse:
    payload = dict(request.json)
    if "events" not in payload and isinstance(payload.get("kind"), str):
        payload["events"] = hooks.default_events(payload["kind"])
    with transaction.atomic():
        hook = bind(HookForm, payload).save(commit=False)
        secret = hooks.save(hook)
    return _answer(hook, secret, status=201)


hooks_view = dispatch(GET=list_hooks, POST=create_hook)


def get_hook(request: ApiRequest, pk: int) -> HttpResponse:
    return ok(get_object_or_404(Hook, pk=pk).to_dict())


def update_hook(request: ApiRequest, pk: int) -> HttpResponse:
    """Fields left out are kept; the URL too (it is write-only). {"regenerate_secret": true}
    gives a webhook a new secret, answered this once."""
    hook = get_object_or_404(Hook, pk=pk)
    regenerate = _regenerate(request.json)
    with transaction.atomic():
        hook = bind(HookForm, request.json, instance=hook).save(commit=False)
        secret = hooks.save(hook, regenerate)
    return _answer(hook, secret)


def delete_hook(request: ApiRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Hook, pk=pk)
    data = hook.to_dict()
    hook.delete()
    return ok(data)


hook_view = dispatch(GET=get_hook, PATCH=update_hook, DELETE=delete_hook)


@api("POST")
def send_test(request: ApiRequest, pk: int) -> HttpResponse:
    """Send a test event now; the answer says whether it arrived (200 either way)."""
    outcome = hooks.test_send(get_object_or_404(Hook, pk=pk))
    return ok({"ok": outcome.ok, "status": outcome.status, "error": outcome.error})


@api("GET")
def hook_deliveries(request: ApiRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Hook, pk=pk)
    deliveries = hook.deliveries.select_related("event").order_by("-id")
    return ok([d.to_dict() for d in deliveries[: _limit(request)]])


@api("GET")
def recent_events(request: ApiRequest) -> HttpResponse:
    events = Event.objects.order_by("-id")[: _limit(request)]
    return ok([event.to_dict() for event in events])
