"""Events said from where things happen: a recording against the fake (its live, segments and
end; a full disk; a stream that never comes), an upload's review and failure, an account's
pause and login; each said once however often its trigger repeats; and a notification of each
kind reaching an apprise json:// target served here."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts import health
from accounts import notices as account_notices
from accounts import tasks as account_tasks
from accounts.models import BilibiliAccount
from biliup_site import hooks
from biliup_site.events import WEBHOOK_TYPES
from biliup_site.models import Configuration, Event, EventKind, Hook
from recorder import notices as recorder_notices
from recorder import recording, tasks
from recorder.models import StreamerInfo
from tests.factories import (
    log_in_by_tv_qr,
    make_account,
    make_session,
    make_streamer,
    make_template,
)
from tests.polling import wait_for
from tests.recorder.rooms import ROOM, make_room_streamer, no_waits
from tests.site.conftest import Receiver
from uploads import budget, review, upload
from uploads import notices as upload_notices
from uploads import tasks as upload_tasks
from uploads.models import UploadJob

pytestmark = pytest.mark.django_db


def kinds() -> list[str]:
    return list(Event.objects.order_by("id").values_list("kind", flat=True))


def said(kind: str) -> list[Event]:
    return list(Event.objects.filter(kind=kind).order_by("id"))


@pytest.fixture
def room(fakebili: Any, recordings: Path) -> Any:
    no_waits()
    fakebili.add_room(ROOM, speed=0, title="今晚打游戏", uname="主播A", short_id=3)
    fakebili.set_live(ROOM, 1)
    return fakebili


# Recording


def test_a_recorded_session_says_its_live_segments_and_end_once(
    room: Any, receiver: Receiver
) -> None:
    webhook = Hook.objects.create(
        kind=Hook.Kind.WEBHOOK, url=receiver.url, secret="s3cret", allow_private=True
    )
    streamer = make_room_streamer(split_time=4)
    # A session a recorder left open (a restart), whose start that recorder said already.
    resumed = make_session(streamer, name="主播A", title="今晚打游戏")
    recorder_notices.session_started(resumed)
    # The stream drops once (a flapping room): the session and its events go on.
    room.set_stream(ROOM, drop_after_seconds=3, offline_after_seconds=9)

    tasks.record(streamer.pk)

    session = StreamerInfo.objects.get()
    assert session.pk == resumed.pk and session.end_time is not None
    files = list(session.files.all())
    assert len(files) >= 2
    assert kinds() == [
        "stream_started",
        "session_started",
        *["file_opening", "file_closed"] * len(files),
        "session_ended",
        "stream_ended",
    ]
    ended = said("session_ended")[0].data
    assert ended["SessionId"] == said("session_started")[0].data["SessionId"]
    assert (ended["RoomId"], ended["ShortId"]) == (ROOM, 3)
    assert (ended["AreaNameParent"], ended["AreaNameChild"]) == ("电台", "唱见电台")
    assert (ended["Name"], ended["Title"]) == ("主播A", "今晚打游戏")
    assert ended["Recording"] is False and ended["Streaming"] is False
    assert (ended["StreamerId"], ended["Platform"]) == (streamer.pk, "bilibili")
    for file, opening, closed in zip(
        files, said("file_opening"), said("file_closed"), strict=True
    ):
        path = f"主播A/{Path(file.path).name}"
        assert opening.data["RelativePath"] == closed.data["RelativePath"] == path
        assert closed.data["FileSize"] == file.size
        assert closed.data["Duration"] == pytest.approx(file.duration, abs=0.01)
        assert opening.data["FileOpenTime"] == closed.data["FileOpenTime"]
        assert closed.data["FileOpenTime"] <= closed.data["FileCloseTime"]
    assert "主播A" in said("session_ended")[0].summary

    # A BililiveRecorder webhook consumer gets the session as it happened, signed.
    hooks.flush(webhook.pk)
    assert [b["EventType"] for b in receiver.bodies()] == [
        WEBHOOK_TYPES[kind] for kind in kinds()
    ]
    for headers, raw in receiver.received:
        digest = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
        assert headers["X-Biliup-Signature"] == f"sha256={digest}"
    assert receiver.bodies()[-1]["EventData"]["SessionId"] == ended["SessionId"]


def test_a_full_disk_says_so_once_however_often_the_live_is_retried(
    room: Any,
) -> None:
    config = Configuration.load()
    config.disk_reserve = 10**9  # MB: no segment may open
    config.save()
    streamer = make_room_streamer()

    tasks.record(streamer.pk)
    tasks.record(streamer.pk)  # the next live check starts it again

    assert StreamerInfo.objects.count() == 2
    # Nothing started for the user, so nothing ends either: one failure, one disk warning.
    assert sorted(kinds()) == ["disk_low", "recording_failed"]
    [failed] = said("recording_failed")
    assert failed.data["Reason"].startswith("Disk reserve reached")
    assert said("disk_low")[0].data["ReserveBytes"] == 10**9 * 1024 * 1024


def test_a_live_room_whose_stream_never_comes_is_said_stuck_once(
    room: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "STALLED_SECONDS", 0.3)
    config = Configuration.load()
    config.delay = 1  # then the recorder gives the broadcast up
    config.save()
    room.inject("/live-bvc/*", "http_status", status=404, times=None)
    streamer = make_room_streamer()

    tasks.record(streamer.pk)

    assert kinds() == ["recording_stalled"]
    assert said("recording_stalled")[0].data["RoomId"] == ROOM


# Uploads


def test_an_archive_public_or_rejected_in_review_is_said_once(
    fakebili: Any, recordings: Path
) -> None:
    template = make_template(tags=["录播"], account=log_in_by_tv_qr(fakebili))
    fakebili.set_review(3600)
    jobs = []
    for name in ("a.flv", "b.flv"):
        (recordings / name).write_bytes(b"\0" * 4096)
        job = upload.create_job([recordings / name], template, template=template)
        upload_tasks.upload(job.pk)
        job.refresh_from_db()
        jobs.append(job)
    # The second submit came too soon after the first (21566): the account's submits wait.
    assert jobs[1].status == "paused"
    [paused] = said("account_paused")
    assert "21566" in paused.data["Reason"]
    fakebili.advance_clock(30)
    wait_for(lambda: timezone.now() >= jobs[1].not_before, 30, "the pause's end")
    upload.sweep()
    upload_tasks.upload(jobs[1].pk)
    jobs[1].refresh_from_db()
    assert jobs[1].status == "done", jobs[1].error
    assert len(said("account_paused")) == 1
    fakebili.review_archive(jobs[0].aid, "public")
    fakebili.review_archive(jobs[1].aid, "rejected", reject_reason="标题违规")

    later = timezone.now() + timedelta(minutes=5)
    assert review.poll_due(later) == 2
    review.poll_due(later + timedelta(hours=1))  # polled again: nothing new to say

    [published] = said("upload_published")
    assert published.data["Bvid"] == jobs[0].bvid
    assert published.data["Url"].endswith(jobs[0].bvid)
    [rejected] = said("upload_rejected")
    assert (rejected.data["JobId"], rejected.data["Reason"]) == (jobs[1].pk, "标题违规")
    assert "标题违规" in rejected.summary


def test_a_job_that_fails_is_said_once_per_attempt(recordings: Path) -> None:
    template = make_template(tags=[])  # fails before a byte: no tags
    (recordings / "a.flv").write_bytes(b"\0" * 1024)
    job = upload.create_job([recordings / "a.flv"], template, template=template)

    upload_tasks.upload(job.pk)
    upload.retry(job)
    upload_tasks.upload(job.pk)

    job.refresh_from_db()
    assert job.status == "failed"
    failed = said("upload_failed")
    assert len(failed) == 2
    assert failed[0].data["JobId"] == job.pk and "No tags" in failed[0].data["Reason"]


# Accounts


def test_a_pause_is_said_when_it_starts_not_when_it_grows() -> None:
    account = make_account(credential={"cookie_info": {}})

    budget.throttled(account, "601 too fast")
    budget.throttled(account, "601 too fast")  # refused again: the pause grows

    [paused] = said("account_paused")
    assert paused.data["Account"] == account.value
    assert paused.data["Reason"] == "601 too fast"


def test_logins_expiring_or_expired_are_said_once(fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    soon = timezone.now() + timedelta(days=3)
    BilibiliAccount.objects.filter(pk=account.pk).update(expires_at=soon)
    # The token cannot be refreshed today: its end stays three days away.
    fakebili.inject("/x/passport-login/oauth2/info", "http_status", status=502, times=2)

    account_tasks.check_accounts()
    account_tasks.check_account(account.pk)

    [expiring] = said("cookie_expiring")
    assert expiring.data["ExpiresAt"] == timezone.localtime(soon).isoformat()

    fakebili.expire_account(account.mid)
    account = health.check(BilibiliAccount.objects.get())
    account.mark_expired("-101")  # a job finds it dead too

    [expired] = said("cookie_expired")
    assert expired.data["Account"] == account.value


# Notifications


@pytest.fixture
def apprise_target() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP endpoint taking apprise's json:// posts; the URL to give apprise, and the
    bodies received."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(
                json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{server.server_address[1]}/notify", received
    server.shutdown()
    server.server_close()


def test_a_notification_of_each_kind_reaches_an_apprise_target(
    apprise_target: tuple[str, list[dict[str, Any]]], recordings: Path
) -> None:
    url, received = apprise_target
    hook = Hook.objects.create(kind=Hook.Kind.APPRISE, url=url)
    streamer = make_streamer()
    session = make_session(streamer, files=1)
    file = session.files.get()
    job = UploadJob.objects.create(
        streamer=streamer, aid=1, bvid="BV1xx411c7mD", params={"title": "回放"}
    )
    job.review_reason = "标题违规"
    account = make_account(uname="up主")

    recorder_notices.session_started(session)
    recorder_notices.file_opening(session, Path(file.path), timezone.now())
    recorder_notices.file_closed(file)
    recorder_notices.recording_stalled(session, 60)
    recorder_notices.recording_failed(streamer, "OSError: broken", session)
    recorder_notices.disk_low(recordings, 2048, free_bytes=100 * 1024 * 1024)
    recorder_notices.session_ended(session)
    upload_notices.upload_published(job)
    upload_notices.upload_rejected(job)
    upload_notices.upload_failed(job)
    account_notices.account_paused(account, timezone.now(), "601", episode="1")
    account.expires_at = timezone.now() + timedelta(days=2)
    account_notices.cookie_expiring(account)
    account_notices.cookie_expired(account)
    hooks.flush(hook.pk)

    assert sorted(kinds()) == sorted(EventKind.values)
    summaries = {event.summary for event in Event.objects.all()}
    # (apprise trims the message)
    assert sorted(b["message"] for b in received) == sorted(
        s.strip() for s in summaries
    )
    assert all(body["title"].startswith("biliup: ") for body in received)


@pytest.mark.django_db
def test_a_sessdata_expiry_past_year_9999_is_no_expiry_not_a_crash() -> None:
    # An imported cookies.json says what it likes; the daily check read it as a date and died.
    account = make_account()
    account.credential = {
        "cookie_info": {
            "cookies": [{"name": "SESSDATA", "value": "x", "expires": 2**40}]
        }
    }
    assert account_notices.expiry(account) is None
    account_notices.cookie_expiring(account)  # nothing to say, and no ValueError
