"""Serving a file with HTTP Range support (RFC 9110 §14), which Django's FileResponse lacks.

A video player seeks by asking for byte ranges; without them it can only play from the start.
One range per request (what players send); a list of ranges, or a Range header we can't read,
is ignored and the whole file is sent, as the RFC allows.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import (
    content_disposition_header,
    http_date,
    parse_http_date_safe,
)

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# The system's mime.types is not to be trusted for these (.ts is "Qt Linguist" on some).
MEDIA_TYPES = {
    ".flv": "video/x-flv",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".ts": "video/mp2t",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".3gp": "video/3gpp",
    ".mov": "video/quicktime",
    ".log": "text/plain; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",  # danmaku
    ".ass": "text/x-ssa; charset=utf-8",
}


class Unsatisfiable(ValueError):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte asked for, None to send everything; Unsatisfiable if out of the file."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # "-500": the last 500 bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise Unsatisfiable(header)
    return start, end


def _chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        while length > 0:
            data = f.read(min(CHUNK, length))
            if not data:
                return  # the file shrank under us: the client sees a short body
            length -= len(data)
            yield data


def file_response(
    request: HttpRequest, path: Path, *, attachment: bool = False
) -> HttpResponse:
    """A 200, 206 or 416 for `path` (GET or HEAD), with Accept-Ranges and Content-Length."""
    stat = path.stat()
    size, modified = stat.st_size, http_date(stat.st_mtime)
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    if if_range and parse_http_date_safe(if_range) != int(stat.st_mtime):
        header = ""  # the client's copy is older: it gets the whole new file
    try:
        byte_range = parse_range(header, size) if header else None
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    start, end = byte_range or (0, size - 1)
    length = max(end - start + 1, 0)
    content_type = (
        MEDIA_TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    body = _chunks(path, start, length) if request.method != "HEAD" else iter(())
    response = StreamingHttpResponse(
        body, status=206 if byte_range else 200, content_type=content_type
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = modified
    if byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    if attachment:
        response["Content-Disposition"] = content_disposition_header(True, path.name)
    return response
