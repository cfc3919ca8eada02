"""Webhooks: BililiveRecorder's webhook v2 body, signed, sent only to public addresses.

# Reference: BililiveRecorder's docs, "Webhook v2": POST JSON {EventType, EventTimestamp (ISO 8601
# with the local offset), EventId (a random uuid, the same on every retry), EventData}; any 2xx
# is success. The signature header is ours (BililiveRecorder does not sign).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import certifi
import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext

from biliup_site.addresses import forbidden as _forbidden
from biliup_site.events import WEBHOOK_TYPES
from biliup_site.models import Event, Hook

TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "X-Biliup-Signature"


@dataclass(frozen=True)
class Outcome:
    """How one attempt went. `permanent`: trying again cannot help (an address refused)."""

    ok: bool
    error: str = ""
    status: int | None = None
    permanent: bool = False


def body(event: Event) -> bytes:
    """The request body: the same bytes on every attempt, so the signature is stable."""
    payload: dict[str, Any] = {
        "EventType": WEBHOOK_TYPES.get(event.kind, "Test"),
        "EventTimestamp": timezone.localtime(event.created).isoformat(),
        "EventId": str(event.uuid),
        "EventData": event.data,
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def signature(secret: str, raw: bytes) -> str:
    """The X-Biliup-Signature value: sha256=<hex HMAC-SHA256 of the raw body>."""
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Refused(Exception):
    """The URL may not be sent to. `permanent`: it will not change by itself (a private
    address); a name that does not resolve now may resolve later."""

    def __init__(self, message: str, permanent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Target:
    """Where a webhook goes: the address checked is the address connected to, so a name that
    resolves to a public address for the check and a private one for the request (DNS
    rebinding) cannot get through."""

    https: bool
    host: str
    port: int
    address: str
    target: str  # path and query
    host_header: str
    authorization: str


def resolve(url: str, allow_private: bool = False) -> Target:
    """Check the URL and pick the address to connect to; Refused says why not.

    Every address the host resolves to is checked, so a name pointing at the machine itself,
    the LAN or the cloud's metadata service is refused like the address would be.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused(gettext("Not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise Refused(gettext("Only http:// and https:// URLs can receive webhooks."))
    host = parts.hostname
    if not host:
        raise Refused(gettext("The URL has no host."))
    https = parts.scheme == "https"
    port = port or (443 if https else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        message = gettext("Cannot resolve %(host)s: %(error)s")
        raise Refused(message % {"host": host, "error": exc}, permanent=False) from None
    addresses = [ipaddress.ip_address(str(i[4][0]).split("%", 1)[0]) for i in infos]
    if not allow_private:
        for ip in addresses:
            if _forbidden(ip):
                where = str(ip) if host == str(ip) else f"{host} ({ip})"
                message = gettext(
                    "%(where)s is a loopback, private, link-local or reserved address: "
                    "allow private addresses to send there."
                )
                raise Refused(message % {"where": where})
    authorization = ""
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode()
    return Target(
        https=https,
        host=host,
        port=port,
        address=str(addresses[0]),
        target=urlunsplit(("", "", parts.path or "/", parts.query, "")),
        host_header=parts.netloc.rpartition("@")[2],
        authorization=authorization,
    )


def refusal(url: str, allow_private: bool = False) -> str:
    """Why a webhook may not be saved with this URL, or ""."""
    try:
        resolve(url, allow_private)
    except Refused as exc:
        return exc.message
    return ""


def _post(target: Target, raw: bytes, headers: dict[str, str]) -> int:
    """POST to the checked address; the status. Redirects are not followed: their target was
    never checked."""
    timeout = urllib3.Timeout(total=TIMEOUT_SECONDS)
    pool: urllib3.HTTPConnectionPool
    if target.https:
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=timeout, retries=False
        )
    with pool:
        response = pool.urlopen(
            "POST",
            target.target,
            body=raw,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
        )
        response.drain_conn()
        return response.status


def send(hook: Hook, event: Event) -> Outcome:
    """POST the event to the hook once."""
    try:
        target = resolve(hook.url, hook.allow_private)
    except Refused as exc:
        return Outcome(
            ok=False, error=f"Refused: {exc.message}", permanent=exc.permanent
        )
    raw = body(event)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"biliup-site/{settings.VERSION}",
        SIGNATURE_HEADER: signature(hook.secret, raw),
        "X-Biliup-Event": WEBHOOK_TYPES.get(event.kind, "Test"),
        "X-Biliup-Delivery": str(event.uuid),
    }
    if target.authorization:
        headers["Authorization"] = target.authorization
    try:
        status = _post(target, raw, headers)
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
    if 200 <= status < 300:
        return Outcome(ok=True, status=status)
    reason = (
        HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    )
    if 300 <= status < 400:
        reason = "redirect not followed"
    return Outcome(ok=False, status=status, error=f"HTTP {status} {reason}".strip())
