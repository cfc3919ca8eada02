"""The site's own log files (settings.LOGGING): which ones a client may read, and reading them.

Clients name a log, never a path: only the names in LOG_NAMES are served, by the log page,
/v1/ws/logs and GET /static/<name>. biliup's log viewer asks for ds_update.log (its main log),
which is our biliup.log.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

LOG_NAMES = ("biliup.log", "download.log", "upload.log")
# biliup's names for the same files.
ALIASES = {"ds_update.log": "biliup.log"}
TAIL_LINES = 50
# The most read at once: a burst of logging (or a reconnect after a long while) sends the end.
MAX_READ_BYTES = 256 * 1024


def log_path(name: str) -> Path | None:
    """The file of the log called `name`, or None if it is not one of the site's logs."""
    name = ALIASES.get(name, name)
    if name not in LOG_NAMES:
        return None
    return settings.LOG_DIR / name


def _decode(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").splitlines()


def tail(path: Path, lines: int = TAIL_LINES) -> tuple[list[str], int]:
    """The last `lines` complete lines of the file and the offset after them.

    A missing file is empty: the log is created by the first line logged.
    """
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            start = max(size - MAX_READ_BYTES, 0)
            f.seek(start)
            data = f.read(size - start)
    except FileNotFoundError:
        return [], 0
    end = data.rfind(b"\n") + 1  # a line still being written is sent once complete
    found = _decode(data[:end])
    if start > 0 and found:
        found = found[1:]  # cut in the middle
    return found[-lines:], start + end


def read_from(path: Path, offset: int) -> tuple[list[str], int, bool]:
    """The complete lines written after `offset`, the offset after them, and whether the file
    was truncated or replaced (shorter than offset): then the caller starts over with tail()."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return [], 0, offset > 0
    if size < offset:
        return [], 0, True
    if size == offset:
        return [], offset, False
    start = max(offset, size - MAX_READ_BYTES)
    with path.open("rb") as f:
        f.seek(start)
        data = f.read(size - start)
    end = data.rfind(b"\n") + 1
    found = _decode(data[:end])
    if start > offset and found:
        found = found[1:]
    return found, start + end, False


def rotate() -> None:
    """Move each log over settings.LOG_MAX_BYTES to <name>.1 (replacing the older one).

    Called by serve before its processes start, so no process holds the old file open.
    """
    for name in LOG_NAMES:
        path = settings.LOG_DIR / name
        try:
            if path.stat().st_size > settings.LOG_MAX_BYTES:
                path.replace(path.with_name(name + ".1"))
        except FileNotFoundError:
            continue
