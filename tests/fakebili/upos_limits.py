"""The fake UPOS host's limit on chunk PUTs at once per upload id (POST /_fake/upos/limits
{"max_connections": N, "status": 429}): a PUT beyond N is refused with `status` before its body
is used, so a client's adaptive concurrency can be seen backing off. The limits live on
UposState (max_connections, refusal_status, active, peak, refused) and are cleared by reset.

Invented where the sources are silent: bilibili-2026.md and the protocol notes describe only
preupload's throttle (601 / HTTP 406 上传过快), nothing of how an upload host limits
connections; the refusal is an overloaded front end's 429 or 503 page, both of which clients
retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from tests.fakebili.wire import ControlError, Response, error_page

if TYPE_CHECKING:
    from tests.fakebili.server import State


@contextlib.contextmanager
def put_slot(state: State, method: str, target: str) -> Iterator[Response | None]:
    """A chunk PUT's place among its upload's PUTs in progress (`target`: path and query),
    held while the caller reads it and answers; yields the refusal to answer instead when the
    upload already has max_connections PUTs in progress. Other requests pass (None)."""
    path, _, query = target.partition("?")
    if method != "PUT" or not path.startswith("/upos-"):
        yield None
        return
    upload_id = dict(parse_qsl(query)).get("uploadId", "")
    upos = state.upos
    with state.lock:
        active = upos.active.get(upload_id, 0)
        if upos.max_connections and active >= upos.max_connections:
            upos.refused += 1
            status = upos.refusal_status
        else:
            status = None
            upos.active[upload_id] = active + 1
            upos.peak[upload_id] = max(upos.peak.get(upload_id, 0), active + 1)
    if status is not None:
        yield error_page(status)
        return
    try:
        yield None
    finally:
        with state.lock:
            upos.active[upload_id] = max(0, upos.active.get(upload_id, 0) - 1)


def set_limits(
    state: State, *, max_connections: int = 0, status: int = 429
) -> dict[str, Any]:
    """More than `max_connections` chunk PUTs at once for one upload id (0: no limit) are
    refused with HTTP `status`: 429 (default) or 503, an overloaded host's answers (the
    sources say nothing of how UPOS limits connections). Returns the limits, the PUTs
    refused so far and each upload's peak of PUTs at once."""
    if int(max_connections) < 0:
        raise ControlError("max_connections must be 0 or more")
    if int(status) not in (429, 503):
        raise ControlError("status must be 429 or 503")
    with state.lock:
        state.upos.max_connections = int(max_connections)
        state.upos.refusal_status = int(status)
    return limits(state)


def limits(state: State) -> dict[str, Any]:
    with state.lock:
        upos = state.upos
        return {
            "max_connections": upos.max_connections,
            "status": upos.refusal_status,
            "refused": upos.refused,
            "peak": dict(upos.peak),
        }
