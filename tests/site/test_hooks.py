"""Events and their delivery: webhooks to a real HTTP receiver on 127.0.0.1, notifications
through apprise's json:// to the same receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone, translation

from biliup_site import events, hooks
from biliup_site.models import Delivery, Event, EventKind, Hook
from tests.polling import wait_for
from tests.site.conftest import Receiver

pytestmark = pytest.mark.django_db


def make_hook(url: str, **fields: Any) -> Hook:
    fields.setdefault("kind", Hook.Kind.WEBHOOK)
    fields.setdefault("secret", hooks.new_secret())
    fields.setdefault("allow_private", True)
    return Hook.objects.create(url=url, **fields)


def emit(n: int, kind: str = EventKind.FILE_CLOSED) -> Event | None:
    return events.emit(kind, f"test-{n}", {"RoomId": n}, f"Event {n}")


def test_webhooks_get_signed_events_in_order(
    receiver: Receiver, run: Callable[..., Any]
) -> None:
    hook = make_hook(receiver.url)
    made = [run(emit, n) for n in range(3)]
    assert [b["EventData"]["RoomId"] for b in receiver.bodies()] == [0, 1, 2]
    for (headers, raw), event in zip(receiver.received, made, strict=True):
        expected = hmac.new(hook.secret.encode(), raw, hashlib.sha256).hexdigest()
        assert headers["X-Biliup-Signature"] == f"sha256={expected}"
        assert headers["X-Biliup-Event"] == "FileClosed"
        assert headers["X-Biliup-Delivery"] == str(event.uuid)
        body = json.loads(raw)
        assert body["EventType"] == "FileClosed"
        assert body["EventId"] == str(event.uuid)
        assert body["EventTimestamp"][-6] in "+-"  # ISO 8601 with an offset
    assert set(Delivery.objects.values_list("status", "response_status")) == {
        ("sent", 200)
    }


def test_a_failing_receiver_gets_them_again_in_order(
    receiver: Receiver, run: Callable[..., Any], settings: Any
) -> None:
    # A retry not due before the test says so: a short wait would come due between the two
    # emits on a loaded machine, and the second emit's flush would send the retry first.
    settings.HOOK_RETRY_SECONDS = 600
    receiver.statuses = [500]
    make_hook(receiver.url)
    run(emit, 1)
    run(emit, 2)
    first = Delivery.objects.get(event__key="test-1")
    assert (first.status, first.response_status, first.attempts) == ("pending", 500, 1)
    assert "HTTP 500" in first.error
    assert first.next_try > timezone.now() + timedelta(seconds=500)
    # The second waits behind the first: not sent while the first is pending.
    assert len(receiver.received) == 1
    assert hooks.due() == []
    Delivery.objects.filter(pk=first.pk).update(
        next_try=timezone.now()
    )  # its time comes

    def retry() -> bool:
        for hook_id in hooks.due():
            hooks.flush(hook_id)
        return len(receiver.received) == 3

    wait_for(retry, 5, "retried")
    ids = [b["EventId"] for b in receiver.bodies()]
    assert ids[0] == ids[1]  # the same event, the same EventId
    assert [b["EventData"]["RoomId"] for b in receiver.bodies()] == [1, 1, 2]
    assert list(Delivery.objects.values_list("status", "attempts")) == [
        ("sent", 2),
        ("sent", 1),
    ]


def test_a_delivery_is_given_up_after_the_last_attempt(receiver: Receiver) -> None:
    receiver.statuses = [503]
    hook = make_hook(receiver.url)
    emit(1)
    Delivery.objects.update(attempts=hooks.MAX_ATTEMPTS - 1)
    hooks.flush(hook.pk)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", hooks.MAX_ATTEMPTS)


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254"])
def test_private_addresses_are_refused_unless_allowed(
    receiver: Receiver, host: str
) -> None:
    url = receiver.url.replace("127.0.0.1", host)
    hook = make_hook(url, allow_private=False)
    emit(1)
    emit(2)
    with translation.override("en"):
        hooks.flush(hook.pk)
    assert receiver.received == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    assert Delivery.objects.first().error.startswith(f"Refused: {host} is a loopback")


def test_a_second_flush_leaves_a_leased_delivery_alone(receiver: Receiver) -> None:
    hook = make_hook(receiver.url)
    emit(1)
    assert hooks._claim_head(hook) is not None
    assert hooks.flush(hook.pk) == 0
    assert hooks.due() == []
    assert receiver.received == []


def test_notifications_reach_apprise_targets(
    receiver: Receiver, run: Callable[..., Any]
) -> None:
    url = receiver.url.replace("http://", "json://")
    make_hook(url, kind=Hook.Kind.APPRISE, events=[EventKind.UPLOAD_FAILED])
    run(emit, 1)  # not a kind this hook takes
    run(emit, 2, EventKind.UPLOAD_FAILED)
    [body] = receiver.bodies()
    assert body["message"] == "Event 2"
    assert "上传失败" in body["title"] or "Upload failed" in body["title"]
    assert Delivery.objects.get().status == "sent"


def test_an_event_is_recorded_once_per_key(receiver: Receiver) -> None:
    make_hook(receiver.url, enabled=False)
    with transaction.atomic():
        assert emit(1) is not None
        assert emit(1) is None
        # The duplicate rolled back to its savepoint: the transaction goes on.
        assert Event.objects.count() == 1
    assert Delivery.objects.count() == 0  # a disabled hook gets nothing


def test_an_unknown_kind_is_a_bug() -> None:
    with pytest.raises(ValueError):
        events.emit("nope", "k", {}, "")


def test_a_test_send_says_how_it_went(receiver: Receiver) -> None:
    hook = make_hook(receiver.url)
    assert hooks.test_send(hook).ok
    assert receiver.bodies()[0]["EventType"] == "Test"
    hook.allow_private = False
    with translation.override("en"):
        outcome = hooks.test_send(hook)
    assert not outcome.ok and "allow private" in outcome.error


@pytest.mark.django_db(transaction=True)
def test_threads_saying_the_same_thing_record_it_once() -> None:
    from django.db import connection

    results: list[Event | None] = []

    def say() -> None:
        try:
            results.append(emit(7))
        finally:
            connection.close()

    threads = [threading.Thread(target=say) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and sum(r is not None for r in results) == 1
    assert Event.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_on_its_own_threads(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every job worker is busy (uploads): the queued flushes never run, and the recorder
    # service's sweep alone gets the events out.
    monkeypatch.setattr(events, "_queue", lambda hook_ids: None)
    make_hook(receiver.url)
    emit(1)
    emit(2)
    wait_for(lambda: hooks.sweep() >= 0 and len(receiver.received) == 2, 10, "sent")
    assert [b["EventData"]["RoomId"] for b in receiver.bodies()] == [1, 2]
