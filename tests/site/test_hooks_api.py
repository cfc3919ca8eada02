"""/api/v1/hooks and /api/v1/events."""

from __future__ import annotations

import pytest

from biliup_site import events, hooks
from biliup_site.models import EventKind, Hook
from biliup_site.openapi.hooks import EVENT_KINDS
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db

TELEGRAM = "tgram://123456789:AAbbCCdd/555"


def test_a_webhook_is_made_with_a_secret_shown_once(api: JsonClient) -> None:
    answer = api.post(
        "/api/v1/hooks",
        {"kind": "webhook", "url": "http://127.0.0.1:9/x", "allow_private": True},
    )
    assert answer.status_code == 201, answer.json()
    made = answer.json()
    assert len(made["secret"]) == 64 and made["events"] == []
    assert Hook.objects.get().secret == made["secret"]
    [listed] = api.get("/api/v1/hooks").json()
    assert "secret" not in listed and listed["secret_set"] is True

    again = api.patch(f"/api/v1/hooks/{made['id']}", {"regenerate_secret": True})
    assert again.json()["secret"] not in ("", made["secret"])
    assert (
        api.get(f"/api/v1/hooks/{made['id']}").json()["url"] == "http://127.0.0.1:9/x"
    )


def test_an_apprise_url_is_write_only(api: JsonClient) -> None:
    made = api.post("/api/v1/hooks", {"kind": "apprise", "url": TELEGRAM}).json()
    assert made["url"] == "tgram://…" and "secret" not in made
    assert made["events"] == list(hooks.NOTIFICATION_DEFAULTS)
    changed = api.patch(f"/api/v1/hooks/{made['id']}", {"name": "phone", "events": []})
    assert changed.status_code == 200
    hook = Hook.objects.get()
    assert (hook.name, hook.url, hook.events) == ("phone", TELEGRAM, [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"kind": "webhook", "url": "http://127.0.0.1/x"},
            "url: 127.0.0.1 is a loopback",
        ),
        (
            {"kind": "webhook", "url": "http://10.0.0.5/x"},
            "url: 10.0.0.5 is a loopback",
        ),
        ({"kind": "webhook", "url": "http://169.254.169.254/"}, "url: 169.254.169.254"),
        ({"kind": "webhook", "url": "ftp://example.com/"}, "url: Only http://"),
        ({"kind": "apprise", "url": "nothing://here"}, "url: Not a notification URL"),
        ({"kind": "apprise"}, "url: This field is required."),
        ({"kind": "mail", "url": TELEGRAM}, "kind: Select a valid choice."),
        (
            {"kind": "apprise", "url": TELEGRAM, "events": "disk_low"},
            "events: Expected",
        ),
        ({"kind": "apprise", "url": TELEGRAM, "events": ["nope"]}, "events: Select"),
    ],
)
def test_bad_hooks_are_refused(
    api: JsonClient, body: dict[str, object], message: str
) -> None:
    answer = api.post("/api/v1/hooks", body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(message)
    assert not Hook.objects.exists()


def test_a_change_is_checked_like_a_new_hook(api: JsonClient) -> None:
    hook = Hook.objects.create(
        kind="webhook", url="http://127.0.0.1/", allow_private=True
    )
    answer = api.patch(f"/api/v1/hooks/{hook.pk}", {"allow_private": False})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("url: 127.0.0.1 is a loopback")
    assert api.patch("/api/v1/hooks/999", {}).status_code == 404
    assert api.delete(f"/api/v1/hooks/{hook.pk}").status_code == 200
    assert not Hook.objects.exists()


def test_a_test_send_answers_how_it_went(api: JsonClient) -> None:
    hook = Hook.objects.create(kind="webhook", url="http://10.9.9.9/")
    answer = api.post(f"/api/v1/hooks/{hook.pk}/test").json()
    assert answer["ok"] is False and "allow private addresses" in answer["error"]


def test_events_and_deliveries_are_listed(api: JsonClient) -> None:
    hook = Hook.objects.create(kind="webhook", url="http://10.9.9.9/", enabled=False)
    events.emit(EventKind.DISK_LOW, "disk-1", {"Free": 1}, "Disk low")
    [event] = api.get("/api/v1/events").json()
    assert (event["kind"], event["data"], event["summary"]) == (
        "disk_low",
        {"Free": 1},
        "Disk low",
    )
    assert api.get(f"/api/v1/hooks/{hook.pk}/deliveries").json() == []
    assert api.get("/api/v1/events?limit=0").status_code == 400


def test_the_document_lists_every_event_kind() -> None:
    assert list(EventKind.values) == EVENT_KINDS
