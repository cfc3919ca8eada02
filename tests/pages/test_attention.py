"""The attention strip on every page (biliup_site/attention.py), GET /api/v1/attention, and a
failed upload shown red with its reason, the next step and the link to the fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import BilibiliAccount
from biliup_site.models import Configuration
from recorder.lease import stale_after
from recorder.models import Streamer
from tests.conftest import JsonClient
from tests.factories import make_account, make_session, make_streamer, make_template
from uploads.models import UploadFile, UploadJob

pytestmark = pytest.mark.django_db

PAGES = (
    "/",
    "/streamers/",
    "/recordings/",
    "/uploads/",
    "/templates/",
    "/accounts/",
    "/creators/",
    "/settings/",
    "/logs/",
)
ACTIVE = BilibiliAccount.Status.ACTIVE


@pytest.fixture
def roomy(recordings: Path) -> Path:
    """A recordings folder with no reserve to fall below: the disk never needs the user."""
    Configuration.objects.filter(pk=1).update(disk_reserve=0)
    return recordings


def strip(page: str) -> str:
    start = page.index('<div id="attention"')
    return page[start : page.index("</div>", start)]


def failed(error: str = "", **fields: object) -> UploadJob:
    fields.setdefault("params", {"title": "录播"})
    fields.setdefault("finished", timezone.now())
    return UploadJob.objects.create(
        status=UploadJob.Status.FAILED, error=error, **fields
    )


def row(page: str, job: UploadJob) -> str:
    return page[page.index(f'<li id="job-{job.pk}"') :].split("</li>\n\n")[0]


def make_trouble() -> dict[str, object]:
    """One of each thing the strip counts, and one of each that it must not."""
    now = timezone.now()
    failed("Bilibili said no; the job can be retried")
    failed("long ago", finished=now - timedelta(days=8))  # looked at, or given up on
    make_streamer(url="https://live.bilibili.com/1", state=Streamer.State.ERROR)
    make_streamer(
        url="https://live.bilibili.com/2",
        state=Streamer.State.RECORDING,
        heartbeat=now - stale_after() - timedelta(seconds=5),
    )
    make_streamer(
        url="https://live.bilibili.com/3",
        state=Streamer.State.RECORDING,
        heartbeat=now,
    )
    make_streamer(
        url="https://live.bilibili.com/4", state=Streamer.State.ERROR, paused=True
    )
    paused = make_account(
        "paused.json",
        status=ACTIVE,
        uploads_paused_until=now + timedelta(minutes=30),
    )
    make_account("gone.json", status=BilibiliAccount.Status.EXPIRED)
    make_account("soon.json", status=ACTIVE, expires_at=now + timedelta(days=3))
    make_account("fine.json", status=ACTIVE, expires_at=now + timedelta(days=90))
    return {"paused": paused}


def test_it_is_hidden_when_nothing_needs_the_user(browser: Client, roomy: Path) -> None:
    make_streamer(state=Streamer.State.IDLE)
    make_account("fine.json", status=ACTIVE)
    UploadJob.objects.create(status=UploadJob.Status.DONE, params={"title": "x"})
    for path in PAGES:
        html = strip(browser.get(path).content.decode())
        assert " hidden>" in html, path
        assert "need" not in html
        # Still there, empty: it reloads itself when something changes.
        assert 'data-live-list="uploads rooms accounts"' in html
        assert 'hx-get="/attention/"' in html


def test_every_page_counts_what_needs_the_user_with_links(
    browser: Client, roomy: Path
) -> None:
    make_trouble()
    for path in PAGES:
        html = strip(browser.get(path).content.decode())
        assert " hidden" not in html, path
        assert "6 things need you:" in html
        assert (
            '<a class="attention-item attention-uploads" href="/uploads/?status=failed"'
            in html
        )
        assert "1 upload failed" in html
        assert 'href="/streamers/?attention=1">2 rooms failed or stalled</a>' in html
        assert "Uploads paused on 1 account" in html
        assert "2 logins expired or expiring" in html
        assert "Low disk" not in html


def test_a_low_disk_is_one_more_thing(browser: Client, recordings: Path) -> None:
    Configuration.objects.filter(pk=1).update(disk_reserve=10**9)  # 1 PB
    html = strip(browser.get("/uploads/").content.decode())
    assert "1 thing needs you:" in html
    assert 'href="/settings/#field-disk_reserve">Low disk:' in html


def test_the_strip_alone_for_htmx_and_only_for_a_user(
    htmx: Client, roomy: Path
) -> None:
    body = htmx.get("/attention/").content.decode()
    assert body.lstrip().startswith('<div id="attention"') and " hidden>" in body
    assert "<html" not in body
    assert (
        'hx-trigger="live-refresh, uploads-changed from:body, accounts-changed from:body, every 60s"'
        in body
    )
    failed("x; the job can be retried")
    assert "1 thing needs you:" in htmx.get("/attention/").content.decode()
    assert Client().get("/attention/")["Location"] == "/login/?next=/attention/"
    # Logged out in another tab: the strip's own poll swaps nothing in (no login page).
    assert Client(HTTP_HX_REQUEST="true").get("/attention/").status_code == 204
    assert htmx.post("/attention/").status_code == 405


def test_the_api_gives_the_same_counts(
    api: JsonClient, anon: JsonClient, roomy: Path
) -> None:
    make_trouble()
    r = api.get("/api/v1/attention")
    assert r.status_code == 200
    assert r.json() == {
        "total": 6,
        "failed_uploads": 1,
        "failing_rooms": 2,
        "paused_accounts": 1,
        "expiring_logins": 2,
        "disk_low": False,
        "disk_free": r.json()["disk_free"],
        "disk_reserve": 0,
    }
    assert r.json()["disk_free"] > 0
    assert anon.get("/api/v1/attention").status_code == 401


def test_the_streamers_link_shows_only_the_failing_rooms(
    browser: Client, roomy: Path
) -> None:
    make_trouble()
    page = browser.get("/streamers/?attention=1").content.decode()
    rooms = page[page.index('<ul id="streamer-list"') :]
    assert rooms.count('class="item streamer"') == 2
    assert 'id="streamers-failing-only"' in page and 'href="/streamers/"' in page
    assert (
        browser.get("/streamers/").content.decode().count('class="item streamer"') == 4
    )
    Streamer.objects.update(state=Streamer.State.IDLE)
    assert (
        "No room needs you now."
        in browser.get("/streamers/?attention=1").content.decode()
    )


# A failed upload, red, with what to do


def test_a_failed_job_is_red_with_its_bar(browser: Client, roomy: Path) -> None:
    job = failed(
        "Submit failed (timeout); the files are uploaded, retry the job",
        bytes_done=100,
        bytes_total=100,
    )
    html = row(browser.get("/uploads/").content.decode(), job)
    assert 'class="item job job-failed"' in html
    assert 'value="100" max="100"' in html
    assert "Nothing needs to change here: retry." in html
    # Retry can succeed as it is: offered first, with nothing to fix first.
    assert '<button class="primary"' in html and "retry-after-fix" not in html
    assert "job-fix" not in html


def test_a_logged_out_account_links_to_the_accounts_page(
    browser: Client, roomy: Path
) -> None:
    account = make_account("a.json", status=BilibiliAccount.Status.EXPIRED)
    template = make_template(account=account)
    job = failed(
        "The Bilibili account a.json is logged out (expired): log in again, then retry",
        template=template,
        account=account,
    )
    html = row(browser.get("/uploads/").content.decode(), job)
    assert f'href="/accounts/#account-{account.pk}"' in html
    assert "Log the account in by QR code on the Accounts page" in html
    assert "retry-after-fix" in html
    # Logged in again after the failure: now Retry can succeed.
    account.status = ACTIVE
    account.save()
    html = row(browser.get("/uploads/").content.decode(), job)
    assert "was logged in again after this failure: retry." in html
    assert "retry-after-fix" not in html


def test_bilibilis_refusal_is_explained_with_the_field_to_change(
    browser: Client, roomy: Path
) -> None:
    template = make_template("长标题")
    job = failed(
        "Bilibili refused the archive: Bilibili error 21103: 标题过长",
        template=template,
        error_code=21103,
        error_said="标题过长",
    )
    html = row(browser.get("/uploads/").content.decode(), job)
    assert "The title is too long" in html
    assert "(Bilibili said: 标题过长)" in html
    assert f'href="/templates/{template.pk}/#field-title"' in html
    assert "Edit template 长标题" in html
    # The worker's own words stay one click away.
    assert "Bilibili error 21103" in html[html.index("job-error-detail") :]


def test_a_file_gone_offers_no_retry_that_cannot_succeed(
    browser: Client, roomy: Path
) -> None:
    path = roomy / "主播" / "part0.flv"
    job = failed(f"{path} is gone from the recordings folder", template=make_template())
    UploadFile.objects.create(job=job, position=0, path=str(path), size=10)
    html = row(browser.get("/uploads/").content.decode(), job)
    assert f'action="/uploads/{job.pk}/retry"' not in html
    assert 'href="/recordings/"' in html and "Tick the segments again" in html
    # The reason and the file list name the file in the recordings folder, not on the server.
    assert str(roomy) not in html
    assert "主播/part0.flv is gone from the recordings folder" in html


def test_a_template_problem_without_a_template_cannot_be_retried(
    browser: Client, roomy: Path
) -> None:
    job = failed(
        "No tags: Bilibili needs 1 to 10. Add tags to the upload's settings, then retry"
    )
    html = row(browser.get("/uploads/").content.decode(), job)
    assert f'action="/uploads/{job.pk}/retry"' not in html
    assert "This upload has no template to fix" in html


def test_the_filter_counts_reload_with_the_lists(htmx: Client, roomy: Path) -> None:
    UploadJob.objects.create(status=UploadJob.Status.RUNNING, params={"title": "x"})
    page = htmx.get("/uploads/", HTTP_HX_REQUEST="").content.decode()
    nav = page[page.index('<nav id="upload-filters"') :].split("</nav>")[0]
    assert 'data-live-list="uploads"' in nav
    assert 'hx-get="/uploads/?part=filters"' in nav
    assert "Failed (0)" in nav
    UploadJob.objects.update(status=UploadJob.Status.FAILED, finished=timezone.now())
    body = htmx.get("/uploads/?part=filters&status=failed").content.decode()
    assert body.lstrip().startswith('<nav id="upload-filters"')
    assert '<a href="?status=failed" aria-current="page">Failed (1)</a>' in body
    assert "Uploading (0)" in body
    assert 'hx-get="/uploads/?part=filters&amp;status=failed"' in body


def test_the_recordings_page_names_files_in_the_recordings_folder(
    browser: Client, roomy: Path
) -> None:
    session = make_session(make_streamer())
    from recorder.models import RecordingFile

    RecordingFile.objects.create(
        streamer_info=session, path=str(roomy / "主播" / "seg0.flv"), size=1
    )
    page = browser.get("/recordings/").content.decode()
    assert ">主播/seg0.flv</label>" in page
    assert str(roomy) not in page
