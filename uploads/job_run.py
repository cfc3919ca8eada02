"""The run of a job as the two upload routes see it: what upos_upload and openplatform_upload
may ask of the runner that drives them.

runner.Runner is the one implementation. The routes are typed against this Protocol rather than
the Runner class so that they do not import runner.py, which imports them: the runner calls the
routes, and the routes call back only through these methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from biliup_site.bilibili import BilibiliError, chunks
from biliup_site.models import Configuration
from uploads.errors import JobFailed
from uploads.models import UploadFile, UploadJob


class JobRun(Protocol):
    job: UploadJob
    config: Configuration
    # The account's cookies.json document ({} without an account).
    credential: dict[str, Any]
    # The job's settings (an UploadTemplate.to_dict() snapshot).
    params: dict[str, Any]
    # The UPOS line to use: AUTO or a line name.
    lines: str

    def send_file(
        self,
        file: UploadFile,
        send: chunks.Send,
        endpoints: chunks.Endpoints,
        on_switch: Callable[[str], None] | None = None,
    ) -> None:
        """Send the parts of `file` not on record yet, storing each acknowledged one."""
        ...

    def wait(self, seconds: float, why: str) -> None:
        """Sleep, beating the heartbeat and showing why; raises Cancelled if cancelled."""
        ...

    def back_off(self, attempt: int, base: float, why: str) -> None:
        """Wait before attempt `attempt + 1`, counting the retry."""
        ...

    def pause_account(self, reason: str) -> None:
        """Pause every upload of this account (Bilibili said too fast); raises JobPaused."""
        ...

    def wait_for_account(self) -> None:
        """Raise JobPaused if the account is paused or has spent its hourly budget."""
        ...

    def expired(self, exc: BilibiliError) -> JobFailed:
        """Mark the account logged out; the error to fail the job with."""
        ...

    def title(self) -> str:
        """The archive title the job submits with."""
        ...

    def cover_source(self) -> str | bytes | None:
        """The template's cover: a URL as it is, an image file's bytes, or None."""
        ...
