from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from biliup_site import bilibili_messages, live
from biliup_site.bilibili import BilibiliError
from biliup_site.models import SubmitApi
from biliup_site.workers import this_worker, worker_alive
from uploads import failures, limits, titles
from uploads.api_dicts import UploadFileDict, UploadJobDict, UploadTemplateDict

# Copyright as Bilibili numbers it: 1 self-made, 2 repost (needs a source).
COPYRIGHT_CHOICES = [(1, _("Self-made")), (2, _("Repost"))]


class UploadTemplateQuerySet(models.QuerySet["UploadTemplate"]):
    def link_account(self, account: Any) -> int:
        """Templates made before `account` existed, naming it (or, as biliup's
        "data/<mid>.json", its mid's cookies file), now use it."""
        names = [account.value]
        if account.mid:
            names += [f"data/{account.mid}.json", f"{account.mid}.json"]
        return self.filter(account__isnull=True, account_name__in=names).update(
            account=account
        )


class UploadTemplate(models.Model):
    """How a recording becomes an archive (biliup's `uploadstreamers`), with the API's field names."""

    class Uploader(models.TextChoices):
        UPOS = "upos", _("UPOS (biliup-rs)")
        OPENPLATFORM = "openplatform", _("Open Platform")
        BCUT = "bcut", _("BCut (必剪)")
        NOOP = "Noop", _("Don't upload")

    template_name = models.CharField(max_length=200, unique=True)
    title = models.CharField(
        max_length=200,
        blank=True,
        help_text="{title}, {streamer}, {url} and strftime fields",
    )
    part_title = models.CharField(
        max_length=200,
        blank=True,
        help_text="Title of each part, same fields (strftime: the part's start). Empty: file name",
    )
    tid = models.PositiveIntegerField(
        default=171, help_text="Legacy category id, sent only beside tid_v2"
    )
    # The 2025 partition (human_type2 on the wire); None: the legacy tid alone.
    tid_v2 = models.PositiveIntegerField(null=True, blank=True)
    # 创作声明, a key of uploads.submit_form.STATEMENTS; empty: none declared.
    creation_statement = models.CharField(max_length=32, blank=True)
    # The collection (合集) and its section each new archive joins.
    season_id = models.BigIntegerField(null=True, blank=True)
    section_id = models.BigIntegerField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    copyright = models.PositiveSmallIntegerField(choices=COPYRIGHT_CHOICES, default=1)
    source = models.CharField(max_length=200, blank=True)
    desc = models.TextField(blank=True, max_length=2000)
    dynamic = models.CharField(max_length=233, blank=True)
    cover = models.CharField(max_length=1024, blank=True)
    dtime = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Scheduled publish time, unix seconds"
    )
    dolby = models.BooleanField(default=False)
    hires = models.BooleanField(default=False)
    no_reprint = models.BooleanField(default=True)
    open_elec = models.BooleanField(default=False)
    up_selection_reply = models.BooleanField(default=False)
    up_close_reply = models.BooleanField(default=False)
    up_close_danmu = models.BooleanField(default=False)
    is_only_self = models.BooleanField(default=False)
    credits = models.JSONField(default=list, blank=True)
    extra_fields = models.JSONField(default=dict, blank=True)
    submit_api = models.CharField(
        max_length=8,
        choices=SubmitApi.choices,
        blank=True,
        help_text="Empty: global setting",
    )
    uploader = models.CharField(
        max_length=16, choices=Uploader.choices, blank=True, help_text="Empty: UPOS"
    )
    # The UPOS line (AUTO or a name), named `lines` in the API like the configuration's.
    line = models.CharField(
        max_length=16, blank=True, help_text="Empty: the configuration's lines"
    )
    account = models.ForeignKey(
        "accounts.BilibiliAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="templates",
    )
    # The account as the client named it (biliup's user_cookie: "cookies.json",
    # "data/123.json"), kept so a template made before its account links to it later.
    account_name = models.CharField(max_length=200, blank=True)
    # A segment's danmaku XML and ASS are never sent as parts; when the videos are deleted
    # after upload they stay on disk unless this is off.
    keep_danmaku = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = UploadTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "upload template"

    def __str__(self) -> str:
        return self.template_name

    @property
    def account_warning(self) -> str:
        """Why the template cannot upload yet for want of its named account, or ""."""
        if self.account_id is None and self.account_name:
            return (
                f"No account named {self.account_name} yet: it is linked when such an"
                " account is added or a cookies file of that name is put in the data folder"
            )
        return ""

    def to_dict(self) -> UploadTemplateDict:
        # The documented names first, then biliup's own names for the same values, so both the
        # contract's clients and biliup's UI read what they expect.
        return {
            "id": self.pk,
            "template_name": self.template_name,
            "title": self.title,
            "part_title": self.part_title,
            "tid": self.tid,
            "tid_v2": self.tid_v2,
            "creation_statement": self.creation_statement,
            "season_id": self.season_id,
            "section_id": self.section_id,
            "tag": ",".join(self.tags),
            "tags": self.tags,
            "copyright": self.copyright,
            "source": self.source,
            "desc": self.desc,
            "dynamic": self.dynamic,
            "cover": self.cover,
            "dtime": self.dtime,
            "dolby": int(self.dolby),
            "hires": int(self.hires),
            "no_reprint": int(self.no_reprint),
            "open_elec": int(self.open_elec),
            "up_selection_reply": self.up_selection_reply,
            "up_close_reply": self.up_close_reply,
            "up_close_danmu": self.up_close_danmu,
            "is_only_self": int(self.is_only_self),
            "credits": self.credits,
            "extra_fields": self.extra_fields,
            "submit_api": self.submit_api or None,
            "uploader": self.uploader or None,
            "lines": self.line,
            "user_cookie": self.account.value
            if self.account
            else self.account_name or None,
            "copyright_source": self.source,
            "description": self.desc,
            "cover_path": self.cover,
            "charging_pay": int(self.open_elec),
            "human_type2": self.tid_v2,
            "keep_danmaku": self.keep_danmaku,
            "warning": self.account_warning or None,
        }


def _refusal_fields(refusal: BilibiliError | None) -> dict[str, Any]:
    """The job's error_code and error_said for Bilibili's refusal (cleared without one)."""
    if refusal is None:
        return {"error_code": None, "error_said": ""}
    return {"error_code": refusal.code, "error_said": refusal.message[:500]}


class UploadJobQuerySet(models.QuerySet["UploadJob"]):
    def active(self) -> UploadJobQuerySet:
        return self.filter(status__in=UploadJob.ACTIVE)

    def running(self) -> UploadJobQuerySet:
        return self.filter(
            status__in=(UploadJob.Status.RUNNING, UploadJob.Status.SUBMITTING)
        )

    def for_rows(self) -> UploadJobQuerySet:
        """With what a job's row on the pages shows: its streamer, template and files, and
        `account_name`, the Bilibili name of the account it uploads as ("" when that account
        is not on the site), so a row names 主播 rather than the file 10086.json."""
        from accounts.models import BilibiliAccount

        names = BilibiliAccount.objects.filter(value=OuterRef("account_file"))
        return (
            self.select_related("streamer", "template")
            .prefetch_related("files")
            .annotate(account_file=KT("params__user_cookie"))
            .annotate(account_name=Subquery(names.values("uname")[:1]))
        )


class UploadJob(models.Model):
    """Files to upload and the archive they become. Survives restarts: all state is here."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Uploading")
        SUBMITTING = "submitting", _("Submitting")
        # A live session's files are uploaded as they close; the archive waits for its end.
        WAITING = "waiting", _("Waiting for the live session to end")
        # Held until not_before: its account is over budget or throttled, or the submit was
        # refused as too frequent. Nothing of it is lost; a sweep queues it again in time.
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE = (
        Status.QUEUED,
        Status.RUNNING,
        Status.SUBMITTING,
        Status.WAITING,
        Status.PAUSED,
    )
    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)
    # A running job whose worker has not beaten for this long is taken to be dead.
    STALE_AFTER = timedelta(minutes=2)
    PROGRESS_EVERY = 1.0  # seconds between progress saves

    streamer = models.ForeignKey(
        "recorder.Streamer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="upload_jobs",
    )
    streamer_info = models.ForeignKey(
        "recorder.StreamerInfo",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="upload_jobs",
    )
    template = models.ForeignKey(
        UploadTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    account = models.ForeignKey(
        "accounts.BilibiliAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="upload_jobs",
    )
    # The archive's settings as they were when the job was made (template fields + overrides):
    # editing a template later never changes a queued upload.
    params = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    error = models.TextField(blank=True)
    # When Bilibili's refusal failed or paused the job: its code and its own message, which
    # pages explain in the reader's language (explanation, biliup_site.bilibili_messages).
    error_code = models.IntegerField(null=True, blank=True)
    error_said = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    speed = models.FloatField(default=0, help_text="Bytes per second")
    # While sending: chunks in flight, the bytes/s its share of a cap allows (0: no cap), and
    # what holds the speed (uploads/bandwidth.py).
    connections = models.PositiveSmallIntegerField(default=0)
    rate_allowed = models.FloatField(default=0)
    limited_by = models.CharField(max_length=16, blank=True)
    line = models.CharField(max_length=32, blank=True)
    retries = models.PositiveIntegerField(default=0)
    # Submit is idempotent: the intent is stored before the call, the result after it.
    submit_started = models.DateTimeField(null=True, blank=True)
    aid = models.BigIntegerField(null=True, blank=True)
    bvid = models.CharField(max_length=16, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # When the archive was first seen in its account's public video list (creator catalogs).
    visible_since = models.DateTimeField(null=True, blank=True)
    # A paused job is queued again at this time.
    not_before = models.DateTimeField(null=True, blank=True, db_index=True)
    # After submit: "reviewing", "public" or "rejected" (with Bilibili's reason), as polled.
    review_state = models.CharField(max_length=16, blank=True, db_index=True)
    review_reason = models.TextField(blank=True)
    review_checked = models.DateTimeField(null=True, blank=True)
    # When the archive joined the template's collection.
    season_added = models.DateTimeField(null=True, blank=True)

    objects = UploadJobQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "upload job"

    def __str__(self) -> str:
        return f"Upload job {self.pk} ({self.status})"

    def enqueue(self) -> None:
        """Hand the job to a worker once the transaction that made it has committed."""
        from django_q.tasks import async_task

        pk = self.pk
        transaction.on_commit(
            lambda: async_task(
                "uploads.tasks.upload", pk, group="uploads", task_name=f"upload-{pk}"
            )
        )

    def is_running(self, now: datetime | None = None) -> bool:
        """A worker has the job right now: fresh heartbeat and, on this host, a live process."""
        now = now or timezone.now()
        return (
            self.status in (self.Status.RUNNING, self.Status.SUBMITTING)
            and self.heartbeat is not None
            and self.heartbeat > now - self.STALE_AFTER
            and worker_alive(self.worker)
        )

    def claim(self) -> bool:
        """Take the job for this worker, within upload_limit. False if another worker has it,
        it is finished or waiting, or every upload slot is taken (it stays queued)."""
        from biliup_site.models import Configuration

        now = timezone.now()
        with transaction.atomic():
            # The configuration row serializes claims across workers, so upload_limit holds.
            config = Configuration.objects.select_for_update().get(
                pk=Configuration.load().pk
            )
            job = UploadJob.objects.select_for_update().get(pk=self.pk)
            if job.status not in (
                self.Status.QUEUED,
                self.Status.RUNNING,
                self.Status.SUBMITTING,
            ) or job.is_running(now):
                return False
            busy = sum(
                other.is_running(now)
                for other in UploadJob.objects.running().exclude(pk=self.pk)
            )
            if busy >= config.upload_limit:
                return False
            account = job.account
            until = account.paused_until if account is not None else None
            if (
                until is not None
                and job.files.exclude(status=UploadFile.Status.UPLOADED).exists()
            ):
                # Its account may not preupload now: the job waits without holding a slot
                # (one whose files are all sent may still submit).
                UploadJob.objects.filter(pk=self.pk).update(
                    status=self.Status.PAUSED,
                    not_before=until,
                    error=f"Waiting for account {account.value}: paused"
                    f" ({account.uploads_paused_reason or 'uploads are too fast'})",
                    **_refusal_fields(None),
                    worker="",
                    updated=now,
                )
                paused = True
            else:
                paused = False
            if paused:
                transaction.on_commit(self.publish)
                return False
            UploadJob.objects.filter(pk=self.pk).update(
                status=self.Status.RUNNING,
                not_before=None,
                heartbeat=now,
                worker=this_worker(),
                started=now,
                attempts=models.F("attempts") + 1,
                updated=now,
            )
        self.refresh_from_db()
        self.publish()
        return True

    def beat(self, **fields: Any) -> None:
        """Save the heartbeat and the given fields, and tell the browsers."""
        for name, value in fields.items():
            setattr(self, name, value)
        self.heartbeat = timezone.now()
        self.save(update_fields=("heartbeat", "updated", *fields))
        self.publish()

    def report_progress(
        self, bytes_done: int, speed: float = 0.0, force: bool = False
    ) -> bool:
        """Record progress; saved (and pushed) about once a second, not per chunk. True if saved."""
        self.bytes_done = bytes_done
        self.speed = speed
        now = time.monotonic()
        if not force and now - getattr(self, "_last_saved", 0.0) < self.PROGRESS_EVERY:
            return False
        self._last_saved = now
        self.beat(
            bytes_done=bytes_done,
            speed=speed,
            line=self.line,
            retries=self.retries,
            connections=self.connections,
            rate_allowed=self.rate_allowed,
            limited_by=self.limited_by,
        )
        return True

    def cancel_requested(self) -> bool:
        """Someone cancelled the job while this worker ran it."""
        return UploadJob.objects.filter(
            pk=self.pk, status=self.Status.CANCELLED
        ).exists()

    def finish(
        self, status: str, error: str = "", refusal: BilibiliError | None = None
    ) -> None:
        """Leave the job: done, failed, cancelled or waiting. Keeps a cancel made meanwhile."""
        now = timezone.now()
        updated = (
            UploadJob.objects.filter(pk=self.pk)
            .exclude(status=self.Status.CANCELLED)
            .update(
                status=status,
                error=error,
                **_refusal_fields(refusal),
                speed=0,
                connections=0,
                rate_allowed=0,
                limited_by="",
                worker="",
                finished=now if status in self.FINISHED else None,
                updated=now,
            )
        )
        self.refresh_from_db()
        if updated:
            self.publish()

    def pause(
        self, until: datetime, message: str, refusal: BilibiliError | None = None
    ) -> None:
        """Leave the worker until `until`: the sweep queues the job again then."""
        now = timezone.now()
        updated = (
            UploadJob.objects.filter(pk=self.pk)
            .exclude(status__in=self.FINISHED)
            .update(
                status=self.Status.PAUSED,
                not_before=until,
                error=message,
                **_refusal_fields(refusal),
                speed=0,
                connections=0,
                rate_allowed=0,
                limited_by="",
                worker="",
                updated=now,
            )
        )
        self.refresh_from_db()
        if updated:
            self.publish()

    def mark_failed(self, message: str, refusal: BilibiliError | None = None) -> None:
        self.finish(self.Status.FAILED, message, refusal)

    def mark_done(self) -> None:
        self.finish(self.Status.DONE)

    def publish(self) -> None:
        live.notify(live.PROGRESS_GROUP, "job.changed", kind="upload_job", pk=self.pk)

    @property
    def explanation(self) -> bilibili_messages.Explanation | None:
        """Why Bilibili failed or paused the job, with the next step and what must change,
        in the active language; None when it was not Bilibili's refusal (see `error`)."""
        if self.error_code is None or self.status not in (
            self.Status.FAILED,
            self.Status.PAUSED,
        ):
            return None
        return bilibili_messages.explain(self.error_code, self.error_said)

    def failure_help(self) -> failures.FailureHelp | None:
        """A failed job's reason, next step, the page to fix it on and whether Retry can
        succeed now (uploads/failures.py); None unless the job failed."""
        if self.status != self.Status.FAILED:
            return None
        return failures.explain(self)

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.CANCELLED)

    @property
    def can_cancel(self) -> bool:
        return self.status not in self.FINISHED

    @property
    def display_title(self) -> str:
        """The archive's title once submitted; the one it will get until then."""
        return self.params.get("archive_title") or self.submit_title()

    def submit_title(self) -> str:
        """The archive title the job submits with: its template's title filled from its live
        session (or, for picked files, from the first file's name)."""
        session = self.streamer_info
        template = self.params.get("title") or ""
        if session is not None:
            return titles.render(
                template or "{streamer} %Y-%m-%d %H:%M {title}",
                title=session.title,
                streamer=session.name,
                url=session.url,
                when=session.start_time,
            )
        first = self.files.order_by("position").first()
        stem = Path(first.path).stem if first else "upload"
        return titles.render(
            template or stem, title=stem, streamer="", url="", when=self.created
        )

    @property
    def visibility(self) -> str:
        """Whether the archive shows in its account's public list: "visible", "checking"
        (looked for after each refresh of that catalog), or "" (not submitted, or no longer
        looked for: CATALOG_VERIFY_DAYS passed, or submitted before catalogs existed)."""
        from django.conf import settings

        if self.visible_since is not None:
            return "visible"
        if self.status != self.Status.DONE or not self.bvid or self.finished is None:
            return ""
        window = timedelta(days=settings.CATALOG_VERIFY_DAYS)
        return "checking" if self.finished >= timezone.now() - window else ""

    @property
    def eta(self) -> int | None:
        """Seconds left at the current speed, while uploading."""
        if self.status != self.Status.RUNNING or self.speed <= 0:
            return None
        return max(0, round((self.bytes_total - self.bytes_done) / self.speed))

    @property
    def speed_per_connection(self) -> float:
        return self.speed / self.connections if self.connections else 0.0

    @property
    def limit_note(self) -> str:
        """What holds the speed now, in a sentence of the active language, or ""."""
        return (
            limits.note(self.limited_by) if self.status == self.Status.RUNNING else ""
        )

    def to_dict(self) -> UploadJobDict:
        return {
            "id": self.pk,
            "status": self.status,
            "error": self.error,
            "streamer_id": self.streamer_id,
            "streamer_info_id": self.streamer_info_id,
            "template_name": self.params.get("template_name"),
            "user_cookie": self.params.get("user_cookie"),
            "uploader": self.params.get("uploader") or UploadTemplate.Uploader.UPOS,
            "title": self.params.get("archive_title") or self.params.get("title", ""),
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "speed": self.speed,
            "eta": self.eta,
            "connections": self.connections,
            "limited_by": self.limited_by,
            "line": self.line,
            "retries": self.retries,
            "attempts": self.attempts,
            "aid": self.aid,
            "bvid": self.bvid,
            "url": f"https://www.bilibili.com/video/{self.bvid}" if self.bvid else "",
            "created": self.created.isoformat(),
            "updated": self.updated.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "visible": self.visible_since is not None,
            "visible_since": self.visible_since.isoformat()
            if self.visible_since
            else None,
            "paused_until": self.not_before.isoformat()
            if self.status == self.Status.PAUSED and self.not_before
            else None,
            # "", "reviewing", "public" or "rejected" (with review_reason): uploads/review.py.
            "review_state": self.review_state,
            "review_reason": self.review_reason,
            "season_added": self.season_added.isoformat()
            if self.season_added
            else None,
            "files": [f.to_dict() for f in self.files.all()],
        }


class UploadFile(models.Model):
    """One file of an upload job, with the UPOS session that resumes it after a crash."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        UPLOADING = "uploading", _("Uploading")
        UPLOADED = "uploaded", _("Uploaded")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(UploadJob, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField()
    path = models.CharField(max_length=1024)
    recording_file = models.ForeignKey(
        "recorder.RecordingFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="upload_files",
    )
    size = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    line = models.CharField(max_length=32, blank=True)
    retries = models.PositiveIntegerField(default=0)
    # The UPOS session (or the Open Platform upload_token in upload_id), stored as it is made so
    # a restarted worker resumes it. The auth is valid for 5 days (protocol §3.3).
    endpoint = models.CharField(max_length=300, blank=True)
    endpoints = models.JSONField(default=list, blank=True)
    upos_uri = models.CharField(max_length=300, blank=True)
    upos_auth = models.CharField(max_length=1000, blank=True)
    preuploaded = models.DateTimeField(null=True, blank=True)
    upload_id = models.CharField(max_length=200, blank=True)
    biz_id = models.BigIntegerField(null=True, blank=True)
    chunk_size = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    remote_filename = models.CharField(
        max_length=300,
        blank=True,
        help_text="Bilibili's name for the file, used at submit",
    )
    # The part is in the job's archive: submitted, or appended by an edit.
    submitted = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "position"], name="uploadfile_job_position"
            )
        ]

    def __str__(self) -> str:
        return self.path

    def to_dict(self) -> UploadFileDict:
        return {
            "id": self.pk,
            "path": self.path,
            "size": self.size,
            "bytes_done": self.bytes_done,
            "status": self.status,
            "line": self.line,
            "retries": self.retries,
            "chunks_total": self.chunks_total,
            "remote_filename": self.remote_filename,
            "submitted": self.submitted,
            "error": self.error,
        }


class UploadChunk(models.Model):
    """A chunk UPOS acknowledged. On resume these are skipped, so at most `threads` are re-sent."""

    file = models.ForeignKey(
        UploadFile, on_delete=models.CASCADE, related_name="chunks"
    )
    part_number = models.PositiveIntegerField()
    start = models.BigIntegerField()
    end = models.BigIntegerField()
    etag = models.CharField(max_length=100, blank=True)
    acked = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["file", "part_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["file", "part_number"], name="uploadchunk_file_part"
            )
        ]

    def __str__(self) -> str:
        return f"{self.file} part {self.part_number}"
