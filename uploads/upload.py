"""The upload workflow: from files and settings to a job, and a worker running it to an archive.

A job is a list of files and the archive they become. Every step is stored as it happens, so a
worker killed at any moment leaves a job the next worker resumes: a file's UPOS session and each
acknowledged chunk (UploadFile, UploadChunk), the intent to submit before the submit call and
its result after (UploadJob.submit_started, aid, bvid). A live session's job takes each segment
as the recorder closes it, waits for the session's end, submits every part as one archive and
appends parts that come later with an edit.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import BilibiliAccount
from biliup_site import bilibili
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable
from biliup_site.models import Configuration
from recorder import videos as recordings
from recorder.models import RecordingFile, Streamer, StreamerInfo
from uploads import chunks, submit, titles, upos
from uploads.models import UploadChunk, UploadFile, UploadJob, UploadTemplate

logger = logging.getLogger(__name__)

# UPOS auth is valid 5 days (§3.3); a session older than this is started again, not resumed.
UPOS_SESSION_LIFE = timedelta(days=4, hours=12)
PREUPLOAD_ATTEMPTS = 8
COMPLETE_ATTEMPTS = 5
SUBMIT_ATTEMPTS = 6
RESTARTS = 2  # a file whose UPOS session dies is started again this many times
WAIT_CAP = 600.0
COVER_MAX_BYTES = 5 * 1024 * 1024
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class JobFailed(Exception):
    """The job cannot go on; the message says why and what to do."""


def create_job(
    paths: Sequence[Path],
    settings: UploadTemplate,
    template: UploadTemplate | None = None,
    streamer: Streamer | None = None,
    streamer_info: StreamerInfo | None = None,
) -> UploadJob:
    """Queue the files as one archive with these (possibly unsaved) template settings."""
    params = {key: value for key, value in settings.to_dict().items() if key != "id"}
    with transaction.atomic():
        job = UploadJob.objects.create(
            template=template,
            account=settings.account,
            streamer=streamer,
            streamer_info=streamer_info,
            params=params,
            bytes_total=sum(p.stat().st_size for p in paths),
        )
        UploadFile.objects.bulk_create(
            UploadFile(job=job, position=i, path=str(p), size=p.stat().st_size)
            for i, p in enumerate(paths)
        )
        job.enqueue()
    return job


def add_segment(file: RecordingFile) -> UploadJob | None:
    """A live session closed a segment: add it to the session's job (made on the first one)
    when the streamer has a template that uploads, and make sure a worker will send it."""
    session = file.streamer_info
    streamer = session.streamer
    template = streamer.upload_template if streamer is not None else None
    if template is None or template.uploader == UploadTemplate.Uploader.NOOP:
        return None
    path = Path(file.path)
    with transaction.atomic():
        job = (
            UploadJob.objects.select_for_update()
            .filter(streamer_info=session)
            .exclude(status=UploadJob.Status.CANCELLED)
            .order_by("-id")
            .first()
        )
        if job is None:
            params = {k: v for k, v in template.to_dict().items() if k != "id"}
            job = UploadJob.objects.create(
                template=template,
                account=template.account,
                streamer=streamer,
                streamer_info=session,
                params=params,
            )
        if job.files.filter(recording_file=file).exists():
            return job
        position = job.files.count()
        UploadFile.objects.create(
            job=job,
            position=position,
            path=str(path),
            size=file.size,
            recording_file=file,
        )
        job.bytes_total += file.size
        fields = ["bytes_total", "updated"]
        if job.status not in (UploadJob.Status.RUNNING, UploadJob.Status.SUBMITTING):
            job.status, job.error, job.finished = UploadJob.Status.QUEUED, "", None
            fields += ["status", "error", "finished"]
        job.save(update_fields=fields)
        job.enqueue()
    job.publish()
    return job


def session_ended(session: StreamerInfo) -> None:
    """The live session is over: its waiting job can submit now."""
    with transaction.atomic():
        jobs = UploadJob.objects.select_for_update().filter(
            streamer_info=session, status=UploadJob.Status.WAITING
        )
        for job in jobs:
            job.status = UploadJob.Status.QUEUED
            job.save(update_fields=("status", "updated"))
            job.enqueue()


def retry(job: UploadJob) -> UploadJob:
    """Queue a failed or cancelled job again; what it had sent is kept and resumed."""
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in (UploadJob.Status.FAILED, UploadJob.Status.CANCELLED):
            raise ValueError(
                f"Only a failed or cancelled job can be retried, not a {job.status} one."
            )
        job.status, job.error, job.finished = UploadJob.Status.QUEUED, "", None
        if job.account is None and job.template is not None:
            # The template was given an account after the job failed for lack of one.
            job.account = job.template.account
        job.save(update_fields=("status", "error", "finished", "account", "updated"))
        job.files.filter(status=UploadFile.Status.FAILED).update(
            status=UploadFile.Status.PENDING, error=""
        )
        job.enqueue()
    job.publish()
    return job


def cancel(job: UploadJob) -> UploadJob:
    """Stop a job: a running worker notices within a second and leaves its files as they are."""
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().get(pk=job.pk)
        if job.status in UploadJob.FINISHED:
            raise ValueError(f"The job is {job.status} already.")
        job.status, job.finished = UploadJob.Status.CANCELLED, timezone.now()
        job.error = "Cancelled"
        job.save(update_fields=("status", "finished", "error", "updated"))
    job.publish()
    return job


def sweep() -> int:
    """Hand waiting work to workers: queued jobs, jobs whose worker died, and jobs waiting on a
    session that ended. Called every watch round; claim() keeps it harmless to repeat."""
    now = timezone.now()
    ended = UploadJob.objects.filter(
        status=UploadJob.Status.WAITING, streamer_info__end_time__isnull=False
    )
    for job in ended:
        session_ended(job.streamer_info)
    config = Configuration.load()
    running = [job for job in UploadJob.objects.running() if job.is_running(now)]
    free = config.upload_limit - len(running)
    handed = 0
    candidates = UploadJob.objects.filter(
        status__in=(
            UploadJob.Status.QUEUED,
            UploadJob.Status.RUNNING,
            UploadJob.Status.SUBMITTING,
        )
    ).order_by("id")
    for job in candidates:
        if handed >= free:
            break
        if job.is_running(now):
            continue
        # A queued job whose task is in the broker right now may get a second task: the
        # second claim finds it running and does nothing.
        job.enqueue()
        handed += 1
    return handed


def preflight(job: UploadJob) -> str | None:
    """Why the job cannot start now, or None. Checked again by the worker: time has passed."""
    uploader = job.params.get("uploader") or Configuration.load().uploader
    if uploader == UploadTemplate.Uploader.OPENPLATFORM:
        from uploads import openplatform

        if reason := openplatform.check_configured(Configuration.load()):
            return reason
    elif job.account is None:
        return (
            "No Bilibili account to upload with (none chosen, or it was deleted):"
            " choose one in the template's user_cookie, then retry"
        )
    elif not job.account.credential:
        return (
            f"The Bilibili account {job.account.value} has no login: log in, then retry"
        )
    elif job.account.status == BilibiliAccount.Status.EXPIRED:
        return (
            f"The Bilibili account {job.account.value} is logged out"
            f" ({job.account.status_reason or 'expired'}): log in again, then retry"
        )
    for f in job.files.exclude(status=UploadFile.Status.UPLOADED):
        path = Path(f.path)
        if not path.is_file():
            return f"{f.path} is gone from the recordings folder"
        if path.stat().st_size != f.size:
            return f"{f.path} changed size since the job was queued"
    return None


def run(job: UploadJob) -> None:
    """Upload the job's files and submit the archive. The job has been claimed by this worker."""
    if reason := preflight(job):
        job.mark_failed(reason)
        return
    try:
        Runner(job).run()
    except chunks.Cancelled:
        logger.info("Upload job %s stopped: cancelled", job.pk)
    except JobFailed as exc:
        logger.warning("Upload job %s failed: %s", job.pk, exc)
        job.mark_failed(str(exc))
    except Exception as exc:
        logger.exception("Upload job %s failed", job.pk)
        job.mark_failed(
            f"Unexpected error ({type(exc).__name__}: {exc}); the job can be retried"
        )


def _line_name(endpoint: str) -> str:
    match = re.search(r"upcdn([a-z0-9]+)|/upos-([a-z0-9]+)$", endpoint)
    if match:
        return match.group(1) or match.group(2)
    return endpoint.lstrip("/")


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
            self.params.get("submit_api") or self.config.submit_api or "app"
        )
        self.speed = Speed()
        self._checked = 0.0

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

    def _progress(self, force: bool = False) -> None:
        done = sum(f.bytes_done for f in self._current_files)
        speed = self.speed.add(done)
        if (
            self.job.report_progress(done, speed, force=force)
            and self._file is not None
        ):
            self._file.save(update_fields=("bytes_done", "line", "retries", "error"))

    def _stop_requested(self) -> bool:
        now = time.monotonic()
        if now - self._checked < 1.0:
            return False
        self._checked = now
        return self.job.cancel_requested()

    def _wait(self, seconds: float, why: str) -> None:
        """Sleep, beating the heartbeat and showing why; raises Cancelled if cancelled."""
        self.job.beat(error=why, retries=self.job.retries)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(1.0, left))
            if self.job.cancel_requested():
                raise chunks.Cancelled()
            self.job.beat()

    def _pause_account(self, seconds: float) -> None:
        """Hold every upload of this account for `seconds` (a 601 is per account)."""
        if self.account is None:
            return
        until = timezone.now() + timedelta(seconds=seconds)
        BilibiliAccount.objects.filter(pk=self.account.pk).filter(
            Q(uploads_paused_until__isnull=True) | Q(uploads_paused_until__lt=until)
        ).update(uploads_paused_until=until)

    def _wait_for_account(self) -> None:
        """Wait out a pause another job of this account was told to take."""
        if self.account is None:
            return
        until = (
            BilibiliAccount.objects.filter(pk=self.account.pk)
            .values_list("uploads_paused_until", flat=True)
            .first()
        )
        left = (until - timezone.now()).total_seconds() if until else 0
        if left > 0:
            self._wait(
                left,
                f"Bilibili asked {self.account.value} to upload more slowly:"
                f" waiting {left:.0f} s",
            )

    def _expired(self, exc: BilibiliError) -> JobFailed:
        name = "(deleted)"
        if self.account is not None:
            self.account.mark_expired(str(exc))
            name = self.account.value
        return JobFailed(
            f"The Bilibili account {name} is logged out ({exc}):"
            " log in again, then retry this job"
        )

    # Uploading one file

    _file: UploadFile | None = None
    _current_files: list[UploadFile] = []

    def _upload(self, file: UploadFile) -> None:
        self._current_files = self._files()
        self._file = next(f for f in self._current_files if f.pk == file.pk)
        file = self._file
        file.status, file.error = UploadFile.Status.UPLOADING, ""
        file.save(update_fields=("status", "error"))
        if self.uploader == UploadTemplate.Uploader.OPENPLATFORM:
            from uploads import openplatform

            openplatform.upload_file(self, file)
        else:
            self._upload_upos(file)
        file.status, file.bytes_done, file.error = (
            UploadFile.Status.UPLOADED,
            file.size,
            "",
        )
        file.save(update_fields=("status", "bytes_done", "error", "remote_filename"))
        self._progress(force=True)
        logger.info(
            "Upload job %s: %s uploaded as %s",
            self.job.pk,
            file.path,
            file.remote_filename,
        )

    def _upload_upos(self, file: UploadFile) -> None:
        for restart in range(RESTARTS + 1):
            try:
                session = self._upos_session(file)
                self._send_upos(file, session)
                self._complete_upos(file, session)
                return
            except (upos.AuthExpired, upos.UploadGone) as exc:
                if restart == RESTARTS:
                    raise JobFailed(f"{file.path}: {exc.message}") from None
                logger.warning(
                    "%s: %s; starting the file again", file.path, exc.message
                )
                self._forget_upos(file)

    def _forget_upos(self, file: UploadFile) -> None:
        file.chunks.all().delete()
        file.upload_id, file.upos_uri, file.upos_auth, file.preuploaded = (
            "",
            "",
            "",
            None,
        )
        file.bytes_done = 0
        file.save(
            update_fields=(
                "upload_id",
                "upos_uri",
                "upos_auth",
                "preuploaded",
                "bytes_done",
            )
        )

    def _upos_session(self, file: UploadFile) -> upos.Session:
        fresh = (
            file.preuploaded and timezone.now() - file.preuploaded < UPOS_SESSION_LIFE
        )
        if file.upload_id and file.upos_uri and fresh:
            logger.info(
                "Resuming %s: %d chunks already sent", file.path, file.chunks.count()
            )
            return upos.Session(
                auth=file.upos_auth,
                biz_id=file.biz_id or 0,
                chunk_size=file.chunk_size,
                endpoint=file.endpoint,
                upos_uri=file.upos_uri,
                endpoints=list(file.endpoints or []),
            )
        if file.upload_id:
            self._forget_upos(file)
        session = self._preupload(file)
        http = chunks.thread_session(bilibili.BROWSER_UA)
        for attempt in range(1, COMPLETE_ATTEMPTS + 1):
            try:
                upload_id = upos.init(http, session)
                break
            except upos.UposError as exc:
                if not exc.retry or attempt == COMPLETE_ATTEMPTS:
                    raise JobFailed(f"{file.path}: {exc.message}") from None
                self._wait(
                    chunks.backoff(attempt, settings.UPLOAD_RETRY_SECONDS),
                    f"Retrying init: {exc.message}",
                )
        file.upload_id = upload_id
        file.endpoint, file.endpoints = session.endpoint, session.endpoints
        file.upos_uri, file.upos_auth, file.biz_id = (
            session.upos_uri,
            session.auth,
            session.biz_id,
        )
        file.chunk_size = session.chunk_size
        file.chunks_total = len(chunks.split(file.size, session.chunk_size))
        file.preuploaded, file.line = timezone.now(), _line_name(session.endpoint)
        file.save()
        return session

    def _preupload(self, file: UploadFile) -> upos.Session:
        sess = bilibili.session(self.credential)
        limited = 0
        try:
            for attempt in range(1, PREUPLOAD_ATTEMPTS + 1):
                self._wait_for_account()
                try:
                    chosen = upos.choose_line(sess, self.config.lines)
                    self.job.line = chosen.name
                    return upos.preupload(sess, chosen, Path(file.path).name, file.size)
                except upos.RateLimited as exc:
                    limited += 1
                    wait = chunks.backoff(
                        limited, settings.UPLOAD_RATE_LIMIT_SECONDS, WAIT_CAP
                    )
                    self.job.retries += 1
                    self._pause_account(wait)
                    self._wait(wait, f"{exc.message}: waiting {wait:.0f} s")
                except BilibiliError as exc:
                    if exc.expired_credential:
                        raise self._expired(exc) from None
                    raise JobFailed(f"Bilibili refused the upload: {exc}") from None
                except (BilibiliUnavailable, upos.UposError) as exc:
                    message = getattr(exc, "message", str(exc))
                    if attempt == PREUPLOAD_ATTEMPTS:
                        raise JobFailed(
                            f"Preupload failed {attempt} times: {message}"
                        ) from None
                    self.job.retries += 1
                    wait = chunks.backoff(
                        attempt, settings.UPLOAD_RETRY_SECONDS, WAIT_CAP
                    )
                    self._wait(
                        wait, f"Preupload failed ({message}); retrying in {wait:.0f} s"
                    )
            raise JobFailed(
                f"Bilibili kept saying uploads are too fast ({PREUPLOAD_ATTEMPTS} tries);"
                " the job can be retried later"
            )
        finally:
            sess.close()

    def _send_upos(self, file: UploadFile, session: upos.Session) -> None:
        path = Path(file.path)
        parts = chunks.split(file.size, session.chunk_size)
        acked = set(file.chunks.values_list("part_number", flat=True))
        file.bytes_done = sum(p.size for p in parts if p.number in acked)
        todo = [p for p in parts if p.number not in acked]
        urls = [file.endpoint, *[e for e in file.endpoints or [] if e != file.endpoint]]
        endpoints = chunks.Endpoints(urls)

        def send(part: chunks.Part, endpoint: str) -> None:
            http = chunks.thread_session(bilibili.BROWSER_UA)
            upos.put_chunk(
                http,
                session,
                endpoint,
                file.upload_id,
                path,
                part,
                file.size,
                len(parts),
            )

        def on_ack(part: chunks.Part) -> None:
            UploadChunk.objects.create(
                file=file, part_number=part.number, start=part.start, end=part.end
            )
            file.bytes_done += part.size
            self._progress()

        def on_failure(
            part: chunks.Part, exc: chunks.ChunkError, switched: bool
        ) -> None:
            file.retries += 1
            self.job.retries += 1
            file.error = self.job.error = f"Part {part.number}: {exc.message}; retrying"
            if switched:
                file.endpoint, file.line = endpoints.url, _line_name(endpoints.url)
                self.job.line = file.line
                file.save(update_fields=("endpoint", "line"))
                logger.warning(
                    "%s: switching to line %s after failures", file.path, file.line
                )
            self.job.save(update_fields=("error", "line", "retries", "updated"))

        self.job.line = file.line
        try:
            chunks.send_parts(
                todo,
                send,
                threads=self.config.threads,
                endpoints=endpoints,
                retry_base=settings.UPLOAD_RETRY_SECONDS,
                on_ack=on_ack,
                on_failure=on_failure,
                should_stop=self._stop_requested,
                tick=self._progress,
            )
        except chunks.ChunkError as exc:
            file.error = exc.message
            file.save(update_fields=("error",))
            raise JobFailed(
                f"{path.name}: {exc.message}; the job can be retried"
            ) from None

    def _complete_upos(self, file: UploadFile, session: upos.Session) -> None:
        http = chunks.thread_session(bilibili.BROWSER_UA)
        for attempt in range(1, COMPLETE_ATTEMPTS + 1):
            try:
                upos.complete(
                    http,
                    session,
                    Path(file.path).name,
                    file.upload_id,
                    file.chunks_total,
                )
                break
            except upos.UposError as exc:
                if isinstance(exc, (upos.AuthExpired, upos.UploadGone)):
                    raise
                if not exc.retry or attempt == COMPLETE_ATTEMPTS:
                    raise JobFailed(f"{file.path}: {exc.message}") from None
                self._wait(
                    chunks.backoff(attempt, settings.UPLOAD_RETRY_SECONDS),
                    f"Retrying complete: {exc.message}",
                )
        file.remote_filename = upos.filename(session.upos_uri)

    # Submitting

    def title(self) -> str:
        session = self.job.streamer_info
        first = self.job.files.order_by("position").first()
        template = self.params.get("title") or ""
        if session is not None:
            return titles.render(
                template or "{streamer} %Y-%m-%d %H:%M {title}",
                title=session.title,
                streamer=session.name,
                url=session.url,
                when=session.start_time,
            )
        stem = Path(first.path).stem if first else "upload"
        return titles.render(
            template or stem, title=stem, streamer="", url="", when=self.job.created
        )

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
        """The cover's URL on Bilibili, uploading the image file if the template names one."""
        source = self.cover_source()
        if not isinstance(source, bytes):
            return source or ""
        try:
            return submit.upload_cover(self.credential, source)
        except BilibiliError as exc:
            if exc.expired_credential:
                raise self._expired(exc) from None
            raise JobFailed(f"Bilibili refused the cover: {exc}") from None
        except BilibiliUnavailable as exc:
            raise JobFailed(
                f"Cover upload failed: {exc.message}; the job can be retried"
            ) from None

    def _submit(self) -> None:
        if self.uploader == UploadTemplate.Uploader.OPENPLATFORM:
            from uploads import openplatform

            openplatform.submit_job(self)
            return
        files = list(self.job.files.filter(submitted=False).order_by("position"))
        title = self.title()
        body = submit.studio(
            self.params,
            title,
            self._parts(files),
            self.cover(),
            with_cid=self.submit_api == "web",
        )
        self._submit_once(
            lambda: submit.add(self.credential, self.submit_api, body),
            title,
            [f.remote_filename for f in files],
        )
        self.job.params = {**self.job.params, "archive_title": title}
        self.job.save(update_fields=("params", "updated"))
        self.job.files.filter(pk__in=[f.pk for f in files]).update(submitted=True)

    def _submit_once(
        self, call: Callable[[], submit.Archive], title: str, filenames: list[str]
    ) -> None:
        """Make the archive exactly once: the intent is stored before each call, and an
        earlier call whose outcome is unknown is looked up before calling again."""
        self.job.beat(status=UploadJob.Status.SUBMITTING, error="")
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
                archive = call()
            except BilibiliError as exc:
                self.job.beat(submit_started=None)  # refused: known not to exist
                if exc.expired_credential:
                    raise self._expired(exc) from None
                if exc.code not in submit.TOO_FAST_CODES:
                    raise JobFailed(f"Bilibili refused the archive: {exc}") from None
                if attempt == SUBMIT_ATTEMPTS:
                    raise JobFailed(
                        f"Bilibili kept refusing the archive as too frequent ({exc});"
                        " the files are uploaded, retry the job later"
                    ) from None
                wait = chunks.backoff(attempt, settings.SUBMIT_RETRY_SECONDS, WAIT_CAP)
                self.job.retries += 1
                self._wait(wait, f"{exc}: waiting {wait:.0f} s")
                continue
            except BilibiliUnavailable as exc:
                # Unclear: Bilibili may have made the archive. Look it up before trying again.
                if attempt == SUBMIT_ATTEMPTS:
                    raise JobFailed(
                        f"Submit failed ({exc.message}); the files are uploaded, retry the job"
                    ) from None
                wait = chunks.backoff(attempt, settings.UPLOAD_RETRY_SECONDS, WAIT_CAP)
                self.job.retries += 1
                self._wait(
                    wait,
                    f"Submit got no answer ({exc.message}); checking in {wait:.0f} s",
                )
                continue
            self._record(archive)
            return

    def _look_up(self, title: str, filenames: list[str]) -> submit.Archive | None:
        since = self.job.submit_started.timestamp() if self.job.submit_started else 0
        try:
            return submit.find_submitted(self.credential, title, filenames, since)
        except BilibiliError as exc:
            if exc.expired_credential:
                raise self._expired(exc) from None
            raise JobFailed(
                f"Could not check whether the archive exists: {exc}"
            ) from None
        except BilibiliUnavailable as exc:
            raise JobFailed(
                f"Could not check whether the archive exists ({exc.message}); retry the job"
            ) from None

    def _record(self, archive: submit.Archive) -> None:
        self.job.beat(aid=archive.aid, bvid=archive.bvid, submit_started=None, error="")

    def _append(self) -> None:
        """Parts that came after the archive was made join it with an edit (§4.4)."""
        files = list(self.job.files.filter(submitted=False).order_by("position"))
        if not files or self.job.aid is None:
            return
        if self.uploader == UploadTemplate.Uploader.OPENPLATFORM:
            from uploads import openplatform

            openplatform.submit_job(self)
            return
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
                        self.cover(),
                        with_cid=self.submit_api == "web",
                    )
                    body["aid"] = self.job.aid
                    submit.edit(self.credential, self.submit_api, body)
                break
            except BilibiliError as exc:
                if exc.expired_credential:
                    raise self._expired(exc) from None
                if exc.code not in submit.TOO_FAST_CODES or attempt == SUBMIT_ATTEMPTS:
                    raise JobFailed(
                        f"Bilibili refused to add the new parts: {exc}"
                    ) from None
                wait = chunks.backoff(attempt, settings.SUBMIT_RETRY_SECONDS, WAIT_CAP)
            except BilibiliUnavailable as exc:
                if attempt == SUBMIT_ATTEMPTS:
                    raise JobFailed(
                        f"Adding the new parts failed: {exc.message}"
                    ) from None
                wait = chunks.backoff(attempt, settings.UPLOAD_RETRY_SECONDS, WAIT_CAP)
            self.job.retries += 1
            self._wait(
                wait, f"Adding parts to {self.job.bvid}: retrying in {wait:.0f} s"
            )
        self.job.files.filter(pk__in=[f.pk for f in files]).update(submitted=True)
        logger.info(
            "Upload job %s: %d parts added to %s",
            self.job.pk,
            len(files),
            self.job.bvid,
        )

    def _after_success(self) -> None:
        """The archive is accepted: apply the delete-after-upload policy to its files."""
        if self.config.delete_after_upload != Configuration.DeletePolicy.DELETE:
            return
        for file in self.job.files.filter(submitted=True):
            try:
                Path(file.path).unlink(missing_ok=True)
            except OSError as exc:
                logger.warning("Could not delete %s after upload: %s", file.path, exc)
