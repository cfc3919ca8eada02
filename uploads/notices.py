"""What the upload pipeline tells the user and the webhooks: an archive public after review,
one rejected in review, a job that failed for good (until someone retries it).

Keys name the occurrence: a job's archive is published once; a rejection is told once per
reason (an edited archive rejected again for another reason is news); a failure once per
attempt, so a retried job that fails again is told again.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from biliup_site.notices import digest, say, site_language
from uploads.models import UploadJob


def job_data(job: UploadJob) -> dict[str, Any]:
    """The EventData of every upload event."""
    account = job.account
    return {
        "JobId": job.pk,
        "Title": job.display_title,
        "Aid": job.aid,
        "Bvid": job.bvid,
        "Url": f"https://www.bilibili.com/video/{job.bvid}" if job.bvid else "",
        "Account": account.value if account else job.params.get("user_cookie") or "",
        "AccountName": account.uname if account else "",
        "StreamerId": job.streamer_id,
        "StreamerInfoId": job.streamer_info_id,
        "TemplateName": job.params.get("template_name") or "",
    }


def upload_published(job: UploadJob) -> None:
    data = job_data(job)
    with site_language():
        summary = gettext("Published on Bilibili: %(title)s %(url)s") % {
            "title": data["Title"],
            "url": data["Url"],
        }
    say("upload_published", f"upload_published:{job.pk}:{job.aid}", data, summary)


def upload_rejected(job: UploadJob) -> None:
    reason = job.review_reason
    data = job_data(job) | {"Reason": reason}
    with site_language():
        summary = gettext("Rejected in review: %(title)s (%(reason)s)") % {
            "title": data["Title"],
            "reason": reason or gettext("no reason given"),
        }
    key = f"upload_rejected:{job.pk}:{job.aid}:{digest(reason)}"
    say("upload_rejected", key, data, summary)


def upload_failed(job: UploadJob) -> None:
    """The job is FAILED: nothing retries it by itself."""
    data = job_data(job) | {"Reason": job.error}
    with site_language():
        summary = gettext("Upload failed: %(title)s: %(reason)s") % {
            "title": data["Title"],
            "reason": job.error,
        }
    say("upload_failed", f"upload_failed:{job.pk}:{job.attempts}", data, summary)
