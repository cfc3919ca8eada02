"""The Settings page's notifications and webhooks card."""

from __future__ import annotations

import pytest
from django.test import Client

from biliup_site import events
from biliup_site.models import EventKind, Hook

pytestmark = pytest.mark.django_db

TELEGRAM = "tgram://123456789:AAbbCCdd/555"


def test_a_notification_is_added_with_the_usual_events_and_its_token_hidden(
    browser: Client, htmx: Client
) -> None:
    page = browser.get("/settings/").content.decode()
    assert "Notifications and webhooks" in page
    # The add form's defaults: the alerts, not every segment.
    assert (
        'name="new-apprise-events" value="disk_low" id="id_new-apprise-events_8" checked'
        in page
    )
    assert 'value="file_closed" id="id_new-apprise-events_3" checked' not in page

    answer = htmx.post(
        "/settings/hooks/new/apprise",
        {
            "new-apprise-name": "phone",
            "new-apprise-url": TELEGRAM,
            "new-apprise-events": ["disk_low", "upload_failed"],
            "new-apprise-enabled": "on",
        },
    )
    card = answer.content.decode()
    assert answer.status_code == 200 and 'id="hooks"' in card
    hook = Hook.objects.get()
    assert (hook.kind, hook.url, hook.events) == (
        "apprise",
        TELEGRAM,
        ["disk_low", "upload_failed"],
    )
    assert "AAbbCCdd" not in card and "tgram://…" in card

    # Saving the edit form with the URL left blank keeps it.
    htmx.post(
        f"/settings/hooks/{hook.pk}",
        {f"hook-{hook.pk}-name": "phone 2", f"hook-{hook.pk}-url": ""},
    )
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.enabled, hook.events) == (
        "phone 2",
        TELEGRAM,
        False,
        [],
    )


def test_a_webhook_shows_its_secret_once_and_its_deliveries(htmx: Client) -> None:
    card = htmx.post(
        "/settings/hooks/new/webhook",
        {
            "new-webhook-url": "http://10.0.0.7/hook",
            "new-webhook-allow_private": "on",
            "new-webhook-enabled": "on",
        },
    ).content.decode()
    hook = Hook.objects.get()
    assert hook.events == [] and hook.secret in card
    # Queued after the commit, which the test's transaction never reaches: it stays pending.
    events.emit(EventKind.DISK_LOW, "disk", {}, "Disk low")
    again = htmx.get("/settings/?part=hooks").content.decode()
    assert hook.secret not in again
    assert "Disk space low" in again and "Pending" in again

    renewed = htmx.post(f"/settings/hooks/{hook.pk}/secret").content.decode()
    hook.refresh_from_db()
    assert hook.secret in renewed


def test_a_refused_address_and_a_bad_url_are_shown_on_the_form(htmx: Client) -> None:
    card = htmx.post(
        "/settings/hooks/new/webhook", {"new-webhook-url": "http://127.0.0.1/x"}
    ).content.decode()
    assert "is a loopback, private, link-local or reserved address" in card
    card = htmx.post(
        "/settings/hooks/new/apprise", {"new-apprise-url": "nothing://here"}
    ).content.decode()
    assert "Not a notification URL apprise knows" in card
    assert not Hook.objects.exists()


def test_a_test_send_shows_how_it_went_and_a_hook_is_deleted(htmx: Client) -> None:
    hook = Hook.objects.create(kind="webhook", url="http://10.0.0.7/hook")
    card = htmx.post(f"/settings/hooks/{hook.pk}/test").content.decode()
    assert "The test failed" in card and "allow private addresses" in card
    htmx.post(f"/settings/hooks/{hook.pk}/delete")
    assert not Hook.objects.exists()
