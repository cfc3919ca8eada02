"""Sending one file of a job over UPOS, resumably: the job side of biliup_site.bilibili.upos.

The UPOS session preupload hands out (endpoint, upos_uri, auth, upload id) is stored on the
UploadFile, so a worker killed mid-file resumes it with the chunks on record; a session past its
life, or one UPOS no longer accepts, starts the file again. Preupload is retried by kind of
failure: a rate limit (601 or HTTP 406, 上传过快; about 20 files an hour per account) pauses
the whole account (budget.py) and the job leaves its worker, a network error backs off, a
logged-out account fails the job.

BCut (必剪) is the other preupload route (bilibili-2026.md: "not throttled the same way"): a
template with uploader "bcut" always preuploads through it, and a web preupload that is
throttled tries BCut once for that file before the account is paused. After preupload the two
are the same UPOS flow; a file that came by BCut shows it in its line ("bda2 (BCut)").
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from biliup_site import bilibili
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, chunks, upos
from uploads.errors import JobFailed
from uploads.job_run import JobRun
from uploads.models import UploadFile

logger = logging.getLogger(__name__)

# The auth is valid 5 days (§3.3); a session older than this is started again, not resumed.
SESSION_LIFE = timedelta(days=4, hours=12)
PREUPLOAD_ATTEMPTS = 8
COMPLETE_ATTEMPTS = 5
RESTARTS = 2  # a file whose UPOS session dies is started again this many times
BCUT_MARK = " (BCut)"
LINE_MAX = 32  # UploadFile.line, UploadJob.line


def upload_file(run: JobRun, file: UploadFile, bcut: bool = False) -> None:
    """Send one file over UPOS: its stored session resumed, or a new one; then complete.
    `bcut`: preupload by BCut's route (the template's uploader "bcut"), else by the web's."""
    for restart in range(RESTARTS + 1):
        try:
            session = _session(run, file, bcut)
            _send(run, file, session)
            _complete(run, file, session)
            return
        except (upos.AuthExpired, upos.UploadGone) as exc:
            if restart == RESTARTS:
                raise JobFailed(f"{file.path}: {exc.message}") from None
            logger.warning("%s: %s; starting the file again", file.path, exc.message)
            _forget(file)


def _forget(file: UploadFile) -> None:
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


def _line(endpoint: str, bcut: bool) -> str:
    """The line shown for a file: the endpoint's, marked when the file came by BCut."""
    if not bcut:
        return upos.line_name(endpoint)[:LINE_MAX]
    return upos.line_name(endpoint)[: LINE_MAX - len(BCUT_MARK)] + BCUT_MARK


def _session(run: JobRun, file: UploadFile, bcut: bool) -> upos.Session:
    fresh = file.preuploaded and timezone.now() - file.preuploaded < SESSION_LIFE
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
        _forget(file)
    session, bcut = _preupload(run, file, bcut)
    for attempt in range(1, COMPLETE_ATTEMPTS + 1):
        try:
            upload_id = upos.init(session)
            break
        except upos.UposError as exc:
            if not exc.retry or attempt == COMPLETE_ATTEMPTS:
                raise JobFailed(f"{file.path}: {exc.message}") from None
            run.back_off(attempt, settings.UPLOAD_RETRY_SECONDS, f"Init: {exc.message}")
    file.upload_id = upload_id
    file.endpoint, file.endpoints = session.endpoint, session.endpoints
    file.upos_uri, file.upos_auth, file.biz_id = (
        session.upos_uri,
        session.auth,
        session.biz_id,
    )
    file.chunk_size = session.chunk_size
    file.chunks_total = len(chunks.split(file.size, session.chunk_size))
    file.preuploaded, file.line = timezone.now(), _line(session.endpoint, bcut)
    run.job.line = file.line
    file.save()
    return session


def _preupload(run: JobRun, file: UploadFile, bcut: bool) -> tuple[upos.Session, bool]:
    """A new UPOS session for the file, and whether it came by BCut."""
    sess = bilibili.session(run.credential)
    # A BCut route has nothing to fall back to; the web's falls back to BCut once per file.
    fallback = not bcut
    try:
        for attempt in range(1, PREUPLOAD_ATTEMPTS + 1):
            if not bcut:
                # The account's pause and budget are the web route's; BCut's has neither.
                run.wait_for_account()
            try:
                chosen = upos.choose_line(sess, run.lines)
                run.job.line = chosen.name
                profile = upos.BCUT if bcut else upos.WEB
                name = Path(file.path).name
                return upos.preupload(sess, chosen, name, file.size, profile), bcut
            except upos.RateLimited as exc:
                if fallback:
                    fallback = False
                    session = _bcut_fallback(run, file, sess, chosen, exc.message)
                    if session is not None:
                        return session, True
                run.job.retries += 1
                run.pause_account(exc.message)
            except BilibiliError as exc:
                if exc.expired_credential:
                    raise run.expired(exc) from None
                raise JobFailed(f"Bilibili refused the upload: {exc}", exc) from None
            except (BilibiliUnavailable, upos.UposError) as exc:
                message = getattr(exc, "message", str(exc))
                if attempt == PREUPLOAD_ATTEMPTS:
                    raise JobFailed(
                        f"Preupload failed {attempt} times: {message}"
                    ) from None
                run.back_off(
                    attempt,
                    settings.UPLOAD_RETRY_SECONDS,
                    f"Preupload failed ({message})",
                )
        raise JobFailed(f"Preupload failed {PREUPLOAD_ATTEMPTS} times")
    finally:
        sess.close()


def _bcut_fallback(
    run: JobRun,
    file: UploadFile,
    sess: bilibili.Session,
    chosen: upos.Line,
    why: str,
) -> upos.Session | None:
    """The web's preupload was throttled: BCut's, once, on the same line; None if BCut refused
    too (the caller then pauses the account as usual)."""
    logger.warning(
        "Upload job %s: %s: %s; trying BCut's preupload", run.job.pk, file.path, why
    )
    try:
        session = upos.preupload(
            sess, chosen, Path(file.path).name, file.size, upos.BCUT
        )
    except BilibiliError as exc:
        if exc.expired_credential:
            raise run.expired(exc) from None
        logger.warning("Upload job %s: BCut refused too: %s", run.job.pk, exc)
        return None
    except (BilibiliUnavailable, upos.UposError) as exc:
        logger.warning("Upload job %s: BCut failed too: %s", run.job.pk, exc)
        return None
    logger.info("Upload job %s: %s goes through BCut", run.job.pk, file.path)
    return session


def _send(run: JobRun, file: UploadFile, session: upos.Session) -> None:
    urls = [file.endpoint, *[e for e in file.endpoints or [] if e != file.endpoint]]
    send = upos.chunk_sender(
        session, file.upload_id, Path(file.path), file.size, file.chunks_total
    )

    def switched(endpoint: str) -> None:
        file.endpoint = endpoint
        file.line = _line(endpoint, file.line.endswith(BCUT_MARK))
        run.job.line = file.line
        file.save(update_fields=("endpoint", "line"))
        logger.warning("%s: switching to line %s after failures", file.path, file.line)

    run.job.line = file.line
    run.send_file(file, send, chunks.Endpoints(urls), on_switch=switched)


def _complete(run: JobRun, file: UploadFile, session: upos.Session) -> None:
    for attempt in range(1, COMPLETE_ATTEMPTS + 1):
        try:
            upos.complete(
                session, Path(file.path).name, file.upload_id, file.chunks_total
            )
            break
        except upos.UposError as exc:
            if isinstance(exc, (upos.AuthExpired, upos.UploadGone)):
                raise
            if not exc.retry or attempt == COMPLETE_ATTEMPTS:
                raise JobFailed(f"{file.path}: {exc.message}") from None
            run.back_off(
                attempt, settings.UPLOAD_RETRY_SECONDS, f"Complete: {exc.message}"
            )
    file.remote_filename = upos.filename(session.upos_uri)
