"""A worker's run of one claimed upload job: each file sent (UPOS or the Open Platform), then
the archive submitted once, or new parts appended to it; progress saved about once a second.

The runner drives the protocol clients of biliup_site.bilibili (chunks, upos, openplatform,
submit), which report each acknowledged chunk and their progress through callbacks; it stores
them (an UploadChunk row per chunk, so a restarted worker resumes) and reports progress about
once a second. The two upload routes' job side (upos_upload, openplatform_upload) works through
the runner as job_run.JobRun describes: send_file(), wait() (heartbeat, cancel), back_off(),
the account's pauses and expired().
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import notices as account_notices
from accounts.models import BilibiliAccount
from biliup_site import bilibili_messages
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, chunks, submit
from biliup_site.models import Configuration
from recorder import videos as recordings
from uploads import bandwidth, budget, openplatform_upload, review, titles, upos_upload
from uploads.errors import JobFailed, JobPaused
from uploads.models import UploadChunk, UploadFile, UploadJob, UploadTemplate

logger = logging.getLogger(__name__)

SUBMIT_ATTEMPTS = 6
# The longest a job waits between submits Bilibili refuses as too frequent.
SUBMIT_WAIT_CAP = 3600.0
# "Too frequent" is per submit route: the other one is tried once before waiting.
OTHER_SUBMIT_ROUTE = {"app": "web", "web": "app"}
COVER_MAX_BYTES = 5 * 1024 * 1024
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def missing_tags(job: UploadJob) -> str:
    """The failure of a job without tags, naming the next step."""
    name = job.params.get("template_name") or ""
    where = f"template {name}" if name else "the upload's settings"
    return (
        f"No tags: Bilibili needs 1 to 10. Add tags to {where}, then retry"
        " (a retry uses the template as it is then)"
    )


class Speed:
    """Bytes per second over the last few seconds."""

    WINDOW = 5.0

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, done: int) -> float:
        now = time.monotonic()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.WINDOW:
            self.samples.popleft()
        first_time, first_done = self.samples[0]
        elapsed = now - first_time
        return (done - first_done) / elapsed if elapsed > 0.2 else 0.0


class Runner:
    """One worker's run of one claimed job."""

    def __init__(self, job: UploadJob) -> None:
        self.job = job
        self.config = Configuration.load()
        self.account: BilibiliAccount | None = job.account
        self.credential: dict[str, Any] = (
            self.account.credential if self.account else None
        ) or {}
        self.params = job.params
        self.uploader = (
            self.params.get("uploader")
            or self.config.uploader
            or UploadTemplate.Uploader.UPOS
        )
        self.submit_api = (
            self.params.get("submit_api_used")
            or self.params.get("submit_api")
            or self.config.submit_api
            or "app"
        )
        # The template's UPOS line, else the configuration's (AUTO or a line name).
        self.lines: str = self.params.get("lines") or self.config.lines
        self.speed = Speed()
        self.link = bandwidth.Link(job, self.config.threads)
        self._checked = 0.0
        # The job's files as of the file being sent (whose bytes_done moves), for progress.
        self._current_files: list[UploadFile] = []
        self._file: UploadFile | None = None

    # The loop

    def run(self) -> None:
        while True:
            pending = self._next_pending()
            if pending is not None:
                self._upload(pending)
                continue
            if self._park():
                return
            if self.job.aid is None:
                self._submit()
            else:
                self._append()
            if self._next_pending() is None:
                break
        self._after_success()
        self.job.mark_done()
        logger.info("Upload job %s done: %s", self.job.pk, self.job.bvid)

    def _files(self) -> list[UploadFile]:
        return list(self.job.files.order_by("position"))

    def _next_pending(self) -> UploadFile | None:
        return (
            self.job.files.exclude(status=UploadFile.Status.UPLOADED)
            .order_by("position")
            .first()
        )

    def _park(self) -> bool:
        """Wait for the live session's end if it goes on: True if the job now waits."""
        session = self.job.streamer_info
        if session is None:
            return False
        with transaction.atomic():
            UploadJob.objects.select_for_update().filter(pk=self.job.pk).first()
            session.refresh_from_db(fields=["end_time"])
            if session.end_time is not None or self._next_pending() is not None:
                return False
            self.job.finish(UploadJob.Status.WAITING)
        logger.info(
            "Upload job %s: files sent, waiting for the session to end", self.job.pk
        )
        return True

    # Progress, cancel, waiting

    def progress(self, force: bool = False) -> None:
        done = sum(f.bytes_done for f in self._current_files)
        speed = self.speed.add(done)
        self.link.refresh()
        if (
            self.job.report_progress(done, speed, force=force)
            and self._file is not None
        ):
            self._file.save(update_fields=("bytes_done", "line", "retries", "error"))

    def send_file(
        self,
        file: UploadFile,
        send: chunks.Send,
        endpoints: chunks.Endpoints,
        on_switch: Callable[[str], None] | None = None,
    ) -> None:
        """Send the parts of `file` not acknowledged yet, `threads` at a time, storing each
        acknowledgement as it comes (so a restart re-sends only what was in flight)."""
        parts = chunks.split(file.size, file.chunk_size)
        acked = set(file.chunks.values_list("part_number", flat=True))
        file.bytes_done = sum(p.size for p in parts if p.number in acked)

        def on_ack(part: chunks.Part) -> None:
            UploadChunk.objects.create(
                file=file, part_number=part.number, start=part.start, end=part.end
            )
            file.bytes_done += part.size
            self.progress()

        def on_failure(
            part: chunks.Part, exc: chunks.ChunkError, switched: bool
        ) -> None:
            file.retries += 1
            self.job.retries += 1
            file.error = self.job.error = f"Part {part.number}: {exc.message}; retrying"
            if switched and on_switch is not None:
                on_switch(endpoints.url)
            self.job.save(update_fields=("error", "line", "retries", "updated"))

        controller = self.link.start_file()
        try:
            chunks.send_parts(
                [p for p in parts if p.number not in acked],
                send,
                threads=self.config.threads,
                endpoints=endpoints,
                retry_base=settings.UPLOAD_RETRY_SECONDS,
                on_ack=on_ack,
                on_failure=on_failure,
                should_stop=self.stop_requested,
                tick=self.progress,
                controller=controller,
                throttle=self.link.throttle,
            )
        except chunks.ChunkError as exc:
            file.error = exc.message
            file.save(update_fields=("error",))
            name = Path(file.path).name
            raise JobFailed(f"{name}: {exc.message}; the job can be retried") from None
        finally:
            self.link.end_file()

    def stop_requested(self) -> bool:
        now = time.monotonic()
        if now - self._checked < 1.0:
            return False
        self._checked = now
        return self.job.cancel_requested()

    def wait(self, seconds: float, why: str) -> None:
        """Sleep, beating the heartbeat and showing why; raises Cancelled if cancelled."""
        self.job.beat(error=why, retries=self.job.retries)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(1.0, left))
            if self.job.cancel_requested():
                raise chunks.Cancelled()
            self.job.beat()

    def back_off(self, attempt: int, base: float, why: str) -> None:
        """Wait before attempt `attempt + 1` (doubling from `base`, jittered, capped), count
        the retry and show why."""
        wait = chunks.backoff(attempt, base, chunks.WAIT_CAP)
        self.job.retries += 1
        self.wait(wait, f"{why}; retrying in {wait:.0f} s")

    def pause_account(self, reason: str) -> None:
        """Bilibili refused a preupload as too fast (601 or HTTP 406): pause every upload of
        this account (the limit is per account) and leave the worker; raises JobPaused."""
        if self.account is None:
            raise JobFailed(f"{reason}; retry the job later")
        raise budget.throttled(self.account, reason)

    def wait_for_account(self) -> None:
        """Before a preupload: leave the worker (JobPaused) if the account is paused or has
        spent its hourly budget."""
        budget.check(self.account)

    def expired(self, exc: BilibiliError) -> JobFailed:
        name = "(deleted)"
        if self.account is not None:
            self.account.mark_expired(bilibili_messages.reason(exc))
            name = self.account.value
        return JobFailed(
            f"The Bilibili account {name} is logged out ({exc}):"
            " log in again, then retry this job",
            exc,
        )

    # Uploading one file

    def _upload(self, file: UploadFile) -> None:
        self._current_files = self._files()
        self._file = next(f for f in self._current_files if f.pk == file.pk)
        file = self._file
        file.status, file.error = UploadFile.Status.UPLOADING, ""
        file.save(update_fields=("status", "error"))
        if self.uploader == UploadTemplate.Uploader.OPENPLATFORM:
            openplatform_upload.upload_file(self, file)
        else:
            bcut = self.uploader == UploadTemplate.Uploader.BCUT
            upos_upload.upload_file(self, file, bcut=bcut)
        file.status, file.bytes_done, file.error = (
            UploadFile.Status.UPLOADED,
            file.size,
            "",
        )
        file.save(update_fields=("status", "bytes_done", "error", "remote_filename"))
        self.progress(force=True)
        logger.info(
            "Upload job %s: %s uploaded as %s",
            self.job.pk,
            file.path,
            file.remote_filename,
        )

    def title(self) -> str:
        return self.job.submit_title()

    def part_title(self, file: UploadFile) -> str:
        template = self.params.get("part_title") or ""
        stem = Path(file.path).stem
        session = self.job.streamer_info
        if not template:
            return stem[: titles.TITLE_MAX]
        when = file.recording_file.created if file.recording_file else self.job.created
        return titles.render(
            template,
            title=session.title if session else stem,
            streamer=session.name if session else "",
            url=session.url if session else "",
            when=when,
        )

    def _parts(self, files: Sequence[UploadFile]) -> list[submit.Part]:
        return [
            submit.Part(f.remote_filename, self.part_title(f), f.biz_id) for f in files
        ]

    def cover_source(self) -> str | bytes | None:
        """The template's cover: a URL as it is, an image file's bytes, or None."""
        cover = str(self.params.get("cover") or "")
        if not cover:
            return None
        if cover.startswith(("http://", "https://", "//")):
            return cover
        try:
            path = recordings.resolve(
                self.config.recordings_path(), cover, IMAGE_SUFFIXES
            )
            image = path.read_bytes()
        except (recordings.PathRefused, OSError) as exc:
            raise JobFailed(
                f"Cover {cover}: {exc}; fix the template's cover, then retry"
            ) from None
        if len(image) > COVER_MAX_BYTES:
            raise JobFailed(f"Cover {cover} is over 5 MB")
        return image

    def cover(self) -> str:
        """The cover's URL on Bilibili, uploading the image file if the template names one
        (once: the URL is kept in the job's params for later appends)."""
        if uploaded := self.job.params.get("cover_url"):
            return str(uploaded)
        source = self.cover_source()
        if not isinstance(source, bytes):
            return source or ""
        try:
            url = submit.upload_cover(self.credential, source)
        except BilibiliError as exc:
            if exc.expired_credential:
                raise self.expired(exc) from None
            raise JobFailed(f"Bilibili refused the cover: {exc}", exc) from None
        except BilibiliUnavailable as exc:
            raise JobFailed(
                f"Cover upload failed: {exc.message}; the job can be retried"
            ) from None
        self.job.params = {**self.job.params, "cover_url": url}
        self.job.save(update_fields=("params", "updated"))
        return url

    def _submit(self) -> None:
        if self.uploader == UploadTemplate.Uploader.OPENPLATFORM:
            openplatform_upload.submit_job(self)
            return
        files = list(self.job.files.filter(submitted=False).order_by("position"))
        title = self.title()
        parts = self._parts(files)
        tags = self._tags(title, parts)
        cover = self.cover()

        def body(api: str) -> dict[str, Any]:
            try:
                return submit.studio(
                    self.params, title, parts, cover, with_cid=api == "web", tags=tags
                )
            except submit.ScheduleRefused as exc:
                raise JobFailed(
                    f"{exc}: change the template's scheduled publishing time, then retry"
                    " the job (the files are uploaded and stay so)"
                ) from None

        self._submit_once(
            lambda api: submit.add(self.credential, api, body(api)),
            title,
            [f.remote_filename for f in files],
        )
        self.job.params = {**self.job.params, "archive_title": title}
        self.job.save(update_fields=("params", "updated"))
        self.job.files.filter(pk__in=[f.pk for f in files]).update(submitted=True)

    def _tags(self, title: str, parts: Sequence[submit.Part]) -> list[str]:
        """The template's tags (an archive needs 1 to 10; preflight checked there are some)."""
        tags = list(self.params.get("tags") or [])
        if not tags:
            raise JobFailed(missing_tags(self.job))
        return tags

    def _submit_once(
        self, call: Callable[[str], submit.Archive], title: str, filenames: list[str]
    ) -> None:
        """Make the archive exactly once: the intent is stored before each call, and an
        earlier call whose outcome is unknown is looked up before calling again.

        "Too frequent" (21566, 137022; bilibili-2026.md) is tied to the account, the IP and
        the submit route: the other route (app or web) is tried once at once, then the job
        leaves its worker and submits again later, backing off. The parts stay uploaded."""
        self.job.beat(status=UploadJob.Status.SUBMITTING, error="")
        api = self.submit_api
        switched = False
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            if self.job.submit_started is not None:
                found = self._look_up(title, filenames)
                if found is not None:
                    logger.info(
                        "Upload job %s: the earlier submit made %s",
                        self.job.pk,
                        found.bvid,
                    )
                    self._record(found)
                    return
            self.job.beat(submit_started=timezone.now())
            try:
                archive = call(api)
            except BilibiliError as exc:
                self.job.beat(submit_started=None)  # refused: known not to exist
                if exc.expired_credential:
                    raise self.expired(exc) from None
                if exc.code not in submit.TOO_FAST_CODES:
                    raise JobFailed(
                        f"Bilibili refused the archive: {exc}", exc
                    ) from None
                other = OTHER_SUBMIT_ROUTE.get(api)
                if not switched and other is not None:
                    logger.info(
                        "Upload job %s: %s refused as too frequent (%s); trying %s",
                        self.job.pk,
                        api,
                        exc,
                        other,
                    )
                    api, switched = other, True
                    continue
                raise self._submit_paused(exc) from None
            except BilibiliUnavailable as exc:
                # Unclear: Bilibili may have made the archive. Look it up before trying again.
                if attempt == SUBMIT_ATTEMPTS:
                    raise JobFailed(
                        f"Submit failed ({exc.message}); the files are uploaded, retry the job"
                    ) from None
                self.back_off(
                    attempt,
                    settings.UPLOAD_RETRY_SECONDS,
                    f"Submit got no answer ({exc.message}); checking first",
                )
                continue
            self._record(archive, api)
            return

    def _submit_paused(self, exc: BilibiliError) -> JobPaused:
        """Bilibili refuses this account's submits as too frequent on every route: come back
        later (backing off over the job's refusals), saying how the user clears it."""
        refusals = int(self.job.params.get("submit_refusals") or 0) + 1
        self.job.params = {**self.job.params, "submit_refusals": refusals}
        self.job.save(update_fields=("params", "updated"))
        wait = chunks.backoff(refusals, settings.SUBMIT_RETRY_SECONDS, SUBMIT_WAIT_CAP)
        until = timezone.now() + timedelta(seconds=wait)
        with translation.override(settings.LANGUAGE_CODE):
            message = gettext(
                "Bilibili refuses this account's submissions as too frequent (%(error)s)."
                " The files are uploaded and kept; the submission is tried again at"
                " %(time)s. Submitting once in the official Bilibili app and passing its"
                " captcha clears this."
            ) % {"error": exc, "time": budget.clock(until)}
        if self.account is not None:
            # The refusal is the account's (its other jobs meet it too): told once per job.
            account_notices.account_paused(
                self.account, until, message, episode=f"submit:{self.job.pk}"
            )
        return JobPaused(until, message, exc)

    def _look_up(self, title: str, filenames: list[str]) -> submit.Archive | None:
        since = self.job.submit_started.timestamp() if self.job.submit_started else 0
        try:
            return submit.find_submitted(self.credential, title, filenames, since)
        except BilibiliError as exc:
            if exc.expired_credential:
                raise self.expired(exc) from None
            raise JobFailed(
                f"Could not check whether the archive exists: {exc}", exc
            ) from None
        except BilibiliUnavailable as exc:
            raise JobFailed(
                f"Could not check whether the archive exists ({exc.message}); retry the job"
            ) from None

    def _record(self, archive: submit.Archive, api: str | None = None) -> None:
        if api is not None and api != self.submit_api:
            # The route that took the archive edits it too (appended parts).
            self.submit_api = api
            self.job.params = {**self.job.params, "submit_api_used": api}
            self.job.save(update_fields=("params", "updated"))
        self.job.beat(aid=archive.aid, bvid=archive.bvid, submit_started=None, error="")

    def _append(self) -> None:
        """Parts that came after the archive was made join it with an edit (§4.4)."""
        files = list(self.job.files.filter(submitted=False).order_by("position"))
        if not files or self.job.aid is None:
            return
        if self.uploader == UploadTemplate.Uploader.OPENPLATFORM:
            openplatform_upload.submit_job(self)
            return
        cover = self.cover()
        self.job.beat(status=UploadJob.Status.SUBMITTING, error="")
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                existing = submit.view_parts(self.credential, self.job.aid)
                if existing is None:
                    existing = self._parts(
                        self.job.files.filter(submitted=True).order_by("position")
                    )
                have = {p.filename for p in existing}
                new = [p for p in self._parts(files) if p.filename not in have]
                if new:
                    body = submit.studio(
                        self.params,
                        self.title(),
                        [*existing, *new],
                        cover,
                        with_cid=self.submit_api == "web",
                        edit=True,
                    )
                    body["aid"] = self.job.aid
                    submit.edit(self.credential, self.submit_api, body)
                break
            except BilibiliError as exc:
                if exc.expired_credential:
                    raise self.expired(exc) from None
                if exc.code not in submit.TOO_FAST_CODES or attempt == SUBMIT_ATTEMPTS:
                    raise JobFailed(
                        f"Bilibili refused to add the new parts: {exc}", exc
                    ) from None
                base, why = settings.SUBMIT_RETRY_SECONDS, str(exc)
            except BilibiliUnavailable as exc:
                if attempt == SUBMIT_ATTEMPTS:
                    raise JobFailed(
                        f"Adding the new parts failed: {exc.message}"
                    ) from None
                base, why = settings.UPLOAD_RETRY_SECONDS, exc.message
            self.back_off(attempt, base, f"Adding parts to {self.job.bvid}: {why}")
        self.job.files.filter(pk__in=[f.pk for f in files]).update(submitted=True)
        logger.info(
            "Upload job %s: %d parts added to %s",
            self.job.pk,
            len(files),
            self.job.bvid,
        )

    def _after_success(self) -> None:
        """The archive is accepted: watch its review (review.py), which applies the
        delete-after-upload policy once it is public, never on a rejection."""
        review.submitted(self.job)
