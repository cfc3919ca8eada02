"""The Open Platform uploader: an app's client_id and the user's access token instead of cookies.

Reference: bilibili-protocol.md §5 (endpoints, Signature 2.0, codes) and
openplatform-upload-token.txt (the upload_token flow): init → upload_token, parts by token and
part number, complete, cover, add-by-utoken → a BV id. An upload_token carries one video, so an
Open Platform job makes one archive per file ("… P2" for the second and after). Credentials are
the site configuration's openplatform_* fields.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.utils import timezone

from biliup_site import bilibili
from biliup_site.models import Configuration
from uploads import chunks
from uploads.errors import JobFailed
from uploads.models import UploadFile, UploadJob

if TYPE_CHECKING:
    from uploads.runner import Runner

logger = logging.getLogger(__name__)

PART_SIZE = 8 * 1024 * 1024  # §5.3: 8 MiB per chunk recommended
TIMEOUT = (10.0, 60.0)
SUBMIT_ATTEMPTS = 6
CALL_ATTEMPTS = 5  # init, complete and cover, on a network error, 5xx or "busy"

# §5.3's status-code page, in words a user can act on.
CODES: dict[int, str] = {
    122000: "the client_id is wrong",
    122001: "the app secret is wrong",
    127000: "authentication parameters are missing",
    127001: "the access token is invalid or expired: authorize the app again",
    127004: "the client_id is not valid",
    127005: "the organisation is not verified",
    127006: "the app is not verified",
    127007: "the app may not use this API",
    127009: "the app's quota is used up",
    127011: "the user did not grant this permission",
    127012: "authentication failed (signature or clock)",
    127022: "the upload_token is not valid",
    127100: "bad parameters",
    127102: "this file type is not accepted",
    127107: "the archive was deleted",
    127124: "no such archive",
    127200: "business error",
    127201: "Bilibili is busy",
    127207: "this category is not available",
}
RETRY_CODES = frozenset({127201})
CREDENTIAL_CODES = frozenset({122000, 122001, 127000, 127001, 127004, 127012})


class OpenPlatformError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        hint = CODES.get(self.code)
        text = (
            f"Open Platform error {self.code}: {self.message or hint or 'no message'}"
        )
        return f"{text} ({hint})" if hint and self.message else text

    @property
    def retry(self) -> bool:
        return self.code in RETRY_CODES


class Unavailable(Exception):
    """The Open Platform could not be reached or answered garbage (network, 5xx)."""


def _signed_headers(config: Configuration, body: bytes) -> dict[str, str]:
    """§5.2 Signature 2.0: the x-bili-* headers and their HMAC-SHA256 under the app secret."""
    headers = {
        "x-bili-accesskeyid": config.openplatform_client_id,
        "x-bili-content-md5": hashlib.md5(body).hexdigest(),
        "x-bili-signature-method": "HMAC-SHA256",
        "x-bili-signature-nonce": str(uuid.uuid4()),
        "x-bili-signature-version": "2.0",
        "x-bili-timestamp": str(int(time.time())),
    }
    text = "\n".join(f"{k}:{headers[k]}" for k in sorted(headers))
    signature = hmac.new(
        config.openplatform_app_secret.encode(), text.encode(), hashlib.sha256
    ).hexdigest()
    return {
        **headers,
        "Accept": "application/json",
        "access-token": config.openplatform_access_token,
        "Authorization": signature,
    }


def _unwrap(resp: requests.Response) -> Any:
    if resp.status_code >= 500:
        raise Unavailable(f"HTTP {resp.status_code} from the Open Platform")
    try:
        body = resp.json()
    except ValueError:
        raise Unavailable(
            f"HTTP {resp.status_code} from the Open Platform is not JSON"
        ) from None
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, int):
        raise Unavailable("the Open Platform's answer has no code")
    if code != 0:
        raise OpenPlatformError(code, str(body.get("message") or ""))
    return body.get("data")


def call(
    config: Configuration,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    payload: Any = None,
    files: dict[str, Any] | None = None,
) -> Any:
    """One business call on member.bilibili.com/arcopen/fn/…, authenticated as configured."""
    params = dict(params or {})
    headers: dict[str, str] = {"User-Agent": bilibili.BROWSER_UA}
    body = b"" if payload is None else json.dumps(payload).encode()
    if config.openplatform_auth == "legacy":
        params.update(
            client_id=config.openplatform_client_id,
            access_token=config.openplatform_access_token,
        )
    else:
        # File bytes are left out of the content MD5 (§5.2): a multipart body signs as "".
        headers.update(_signed_headers(config, body))
    if payload is not None:
        headers["Content-Type"] = "application/json"
    try:
        resp = requests.request(
            method,
            bilibili.member_url(path),
            params=params,
            data=body if payload is not None else None,
            files=files,
            headers=headers,
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise Unavailable(
            f"the Open Platform could not be reached ({type(exc).__name__})"
        ) from None
    return _unwrap(resp)


def check_configured(config: Configuration) -> str | None:
    if not (config.openplatform_client_id and config.openplatform_access_token):
        return "The Open Platform uploader needs openplatform_client_id and openplatform_access_token in the configuration"
    if config.openplatform_auth != "legacy" and not config.openplatform_app_secret:
        return "Signature 2.0 needs openplatform_app_secret in the configuration"
    return None


def _upload_part(
    http: requests.Session, token: str, path: Path, part: chunks.Part
) -> None:
    url = f"{settings.BILIBILI_OPENUPOS_URL}/video/v2/part/upload"
    try:
        with chunks.FileSlice(path, part) as body:
            resp = http.post(
                url,
                params={"upload_token": token, "part_number": part.number},
                data=body,
                headers={"Content-Type": "application/octet-stream"},
                timeout=(10.0, settings.UPLOAD_CHUNK_TIMEOUT),
            )
        _unwrap(resp)
    except requests.Timeout:
        raise chunks.ChunkError("timed out") from None
    except requests.RequestException as exc:
        raise chunks.ChunkError(f"connection failed ({type(exc).__name__})") from None
    except Unavailable as exc:
        raise chunks.ChunkError(str(exc)) from None
    except OpenPlatformError as exc:
        if exc.code == 127022:
            raise
        raise chunks.ChunkError(str(exc), retry=exc.retry) from None


def _failed(runner: Runner, exc: Exception) -> Exception:
    if isinstance(exc, OpenPlatformError) and exc.code in CREDENTIAL_CODES:
        return JobFailed(f"{exc}: fix the Open Platform settings, then retry this job")
    if isinstance(exc, OpenPlatformError) and exc.code == 127207:
        return JobFailed(f"{exc}: choose another category in the template, then retry")
    return JobFailed(f"{exc}; the job can be retried")


def _call_retrying(runner: Runner, what: str, *args: Any, **kwargs: Any) -> Any:
    """call(), again after a backoff on a network error, a 5xx or 127201 (busy): one bad
    answer at complete must not fail an upload of hours. Init may leave an unused token."""
    for attempt in range(1, CALL_ATTEMPTS + 1):
        try:
            return call(runner.config, *args, **kwargs)
        except OpenPlatformError as exc:
            if not exc.retry or attempt == CALL_ATTEMPTS:
                raise
            reason = str(exc)
        except Unavailable as exc:
            if attempt == CALL_ATTEMPTS:
                raise
            reason = str(exc)
        runner.back_off(attempt, settings.UPLOAD_RETRY_SECONDS, f"{what}: {reason}")
    raise AssertionError("unreachable")


def _forget_upload(file: UploadFile) -> None:
    """The file's upload_token is dead: send the file again under a new one."""
    file.chunks.all().delete()
    file.upload_id = file.remote_filename = ""
    file.status, file.bytes_done = UploadFile.Status.PENDING, 0
    file.save(update_fields=("upload_id", "remote_filename", "status", "bytes_done"))


def upload_file(runner: Runner, file: UploadFile) -> None:
    """Send one file: init (once; the token is stored), parts not yet acknowledged, complete."""
    config = runner.config
    if reason := check_configured(config):
        raise JobFailed(reason)
    path = Path(file.path)
    for restart in range(3):
        try:
            if not file.upload_id:
                file.chunks.all().delete()
                data = _call_retrying(
                    runner,
                    "Starting the upload",
                    "POST",
                    "/arcopen/fn/archive/video/init",
                    payload={"name": path.name, "utype": "0"},
                )
                file.upload_id = str((data or {}).get("upload_token") or "")
                if not file.upload_id:
                    raise Unavailable("the Open Platform's answer had no upload_token")
                file.chunk_size = PART_SIZE
                file.chunks_total = len(chunks.split(file.size, PART_SIZE))
                file.line, file.preuploaded, file.bytes_done = (
                    "openplatform",
                    timezone.now(),
                    0,
                )
                file.save()
            _send(runner, file, path)
            _call_retrying(
                runner,
                "Completing the upload",
                "POST",
                "/arcopen/fn/archive/video/complete",
                params={"upload_token": file.upload_id},
                payload={},
            )
            file.remote_filename = file.upload_id
            return
        except OpenPlatformError as exc:
            if exc.code == 127022 and restart < 2:
                file.upload_id = ""  # the token died: start the file again
                continue
            raise _failed(runner, exc) from None
        except Unavailable as exc:
            raise _failed(runner, exc) from None


def _send(runner: Runner, file: UploadFile, path: Path) -> None:
    def send(part: chunks.Part, endpoint: str) -> None:
        http = chunks.thread_session(bilibili.BROWSER_UA)
        _upload_part(http, file.upload_id, path, part)

    runner.job.line = "openplatform"
    runner.send_file(file, send, chunks.Endpoints([settings.BILIBILI_OPENUPOS_URL]))


def _cover(runner: Runner) -> str:
    cover = runner.cover_source()
    if cover is None:
        return ""
    if isinstance(cover, str):
        return cover
    kind = "png" if cover.startswith(b"\x89PNG") else "jpeg"
    try:
        data = _call_retrying(
            runner,
            "Uploading the cover",
            "POST",
            "/arcopen/fn/archive/cover/upload",
            files={"file": (f"cover.{kind}", cover, f"image/{kind}")},
        )
    except (OpenPlatformError, Unavailable) as exc:
        raise _failed(runner, exc) from None
    return str((data or {}).get("url") or "")


def _find(config: Configuration, title: str, since: float) -> str | None:
    data = call(
        config,
        "GET",
        "/arcopen/fn/archive/viewlist",
        params={"pn": 1, "ps": 20, "status": "all"},
    )
    for item in (data or {}).get("list") or []:
        if item.get("title") == title and int(item.get("ctime") or 0) >= since - 120:
            return str(item.get("resource_id"))
    return None


def submit_job(runner: Runner) -> None:
    """One archive per file not yet submitted; each intent stored before its call, and an
    unclear earlier call looked up (by title, in the newest archives) before calling again.

    A file whose upload_token is refused (127022: expired, or issued to another app or user)
    is set to be sent again; the runner's loop does that at once if the token came from an
    earlier run, else the job fails and a retry sends it."""
    config, job = runner.config, runner.job
    files = list(job.files.filter(submitted=False).order_by("position"))
    if not files:
        return
    many = job.files.count() > 1
    base_title = runner.title()
    params = runner.params
    if "archive_title" not in job.params:
        job.params = {**job.params, "archive_title": base_title}
        job.save(update_fields=("params", "updated"))
    cover = _cover(runner)
    job.beat(status=UploadJob.Status.SUBMITTING, error="")
    for file in files:
        # rstrip: a cut title may end in a space, and Bilibili strips titles (the lookup
        # compares them).
        title = (
            f"{base_title[:74].rstrip()} P{file.position + 1}" if many else base_title
        )
        body = {
            "title": title,
            "cover": cover,
            "tid": int(params.get("tid") or 171),
            "no_reprint": int(params.get("no_reprint") or 0),
            "desc": str(params.get("desc") or "")[:2000],
            "tag": ",".join(params.get("tags") or []),
            "copyright": int(params.get("copyright") or 1),
            "source": str(params.get("source") or "")
            if params.get("copyright") == 2
            else "",
            "topic_id": 0,
        }
        bvid = None
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                if job.submit_started is not None:
                    bvid = _find(config, title, job.submit_started.timestamp())
                    if bvid:
                        break
                job.beat(submit_started=timezone.now())
                try:
                    data = call(
                        config,
                        "POST",
                        "/arcopen/fn/archive/add-by-utoken",
                        params={"upload_token": file.upload_id},
                        payload=body,
                    )
                except OpenPlatformError:
                    # Refused: known not to exist. (Not on a failed lookup: the earlier
                    # call's archive may still be there.)
                    job.beat(submit_started=None)
                    raise
                bvid = str((data or {}).get("resource_id") or "")
                break
            except OpenPlatformError as exc:
                if exc.code == 127022:
                    fresh = job.started is not None and (
                        file.preuploaded is None or file.preuploaded >= job.started
                    )
                    _forget_upload(file)
                    if not fresh:
                        job.beat(status=UploadJob.Status.RUNNING)
                        logger.info(
                            "Upload job %s: upload_token of %s refused; sending it again",
                            job.pk,
                            file.path,
                        )
                        return
                    raise JobFailed(
                        f"{exc}; retry the job to send {Path(file.path).name} again"
                    ) from None
                if not exc.retry or attempt == SUBMIT_ATTEMPTS:
                    raise _failed(runner, exc) from None
                runner.back_off(attempt, settings.SUBMIT_RETRY_SECONDS, str(exc))
            except Unavailable as exc:
                if attempt == SUBMIT_ATTEMPTS:
                    raise _failed(runner, exc) from None
                runner.back_off(
                    attempt, settings.UPLOAD_RETRY_SECONDS, f"{exc}; checking first"
                )
        if not bvid:
            raise JobFailed("The Open Platform's answer had no resource_id")
        file.submitted = True
        file.save(update_fields=("submitted",))
        fields: dict[str, Any] = {"submit_started": None}
        if not job.bvid:
            fields["bvid"] = bvid
        job.beat(**fields)
