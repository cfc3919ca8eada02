from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypedDict, TypeVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import notices
from biliup_site import bilibili_messages
from biliup_site.bilibili import BilibiliError

# Account names look like biliup's cookie file names ("cookies.json", "12345.json"), but they are
# only names: nothing ever opens a path a client sends.
T = TypeVar("T")

account_name_validator = RegexValidator(
    r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,99}$",
    _(
        "Use a file-style name such as cookies.json: letters, digits, '.', '_' and '-' only."
    ),
)


class BilibiliAccountDict(TypedDict):
    id: int
    name: str
    value: str
    platform: str
    mid: int | None
    uname: str
    face: str
    status: str
    status_reason: str
    expires_at: str | None
    upload_budget: int
    upload_rate_limit: int
    uploads_paused_until: str | None
    uploads_paused_reason: str


class BilibiliAccount(models.Model):
    PLATFORM = "bilibili-cookies"

    class Status(models.TextChoices):
        NO_CREDENTIAL = "no_credential", _("No credential yet")
        UNCHECKED = "unchecked", _("Not checked yet")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    value = models.CharField(
        max_length=100, unique=True, validators=[account_name_validator]
    )
    platform = models.CharField(max_length=32, default=PLATFORM, editable=False)
    # biliup's cookies.json document: cookie_info, token_info, sso, platform. A secret: never
    # serialized by to_dict().
    credential = models.JSONField(null=True, blank=True)
    mid = models.BigIntegerField(null=True, blank=True)
    uname = models.CharField(max_length=100, blank=True)
    face = models.URLField(max_length=500, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.NO_CREDENTIAL
    )
    status_reason = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # Bilibili said "uploading too fast" (601): every upload of this account waits until then,
    # not only the one that was told.
    uploads_paused_until = models.DateTimeField(null=True, blank=True)
    uploads_paused_reason = models.TextField(blank=True)
    # Preuploads this account may start in an hour (Bilibili takes about 20 files an hour).
    upload_budget = models.PositiveSmallIntegerField(default=20)
    # KiB/s for all this account's uploads together, within the global cap; 0: no limit.
    upload_rate_limit = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "Bilibili account"

    def __str__(self) -> str:
        return f"{self.uname} ({self.value})" if self.uname else self.value

    def set_credential(self, credential: dict[str, Any]) -> None:
        """Take a biliup cookies.json document and the facts it carries."""
        self.credential = credential
        token = credential.get("token_info") or {}
        if isinstance(token.get("mid"), int):
            self.mid = token["mid"]
        self.status = self.Status.UNCHECKED
        self.status_reason = ""

    def mark_expired(self, reason: str) -> None:
        """Bilibili no longer accepts this credential: say so, and keep it out of use."""
        self.status = self.Status.EXPIRED
        self.status_reason = reason
        self.checked_at = timezone.now()
        self.save(update_fields=("status", "status_reason", "checked_at", "updated"))
        notices.cookie_expired(self)

    def ask(self, call: Callable[[], T]) -> T:
        """Run a Bilibili call made with this account's credential. If Bilibili says the login
        is gone, the account is marked expired before the error goes on to the caller."""
        try:
            return call()
        except BilibiliError as exc:
            if exc.expired_credential:
                self.mark_expired(bilibili_messages.reason(exc))
            raise

    def to_dict(self) -> BilibiliAccountDict:
        return {
            "id": self.pk,
            "name": self.value,
            "value": self.value,
            "platform": self.platform,
            "mid": self.mid,
            "uname": self.uname,
            "face": self.face,
            "status": self.status,
            "status_reason": self.status_reason,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "upload_budget": self.upload_budget,
            "upload_rate_limit": self.upload_rate_limit,
            "uploads_paused_until": self.paused_until.isoformat()
            if self.paused_until
            else None,
            "uploads_paused_reason": self.uploads_paused_reason
            if self.paused_until
            else "",
        }

    @property
    def paused_until(self) -> datetime | None:
        """When its uploads may go on, while they are paused (Bilibili said too fast)."""
        until = self.uploads_paused_until
        return until if until is not None and until > timezone.now() else None


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def issue(self, user: Any, name: str) -> tuple[ApiToken, str]:
        """Create a token; the raw secret is returned once and only its hash is stored."""
        raw = "bst_" + secrets.token_urlsafe(32)
        token = self.create(
            user=user, name=name, key_hash=ApiToken.hash(raw), prefix=raw[:8]
        )
        return token, raw

    def for_raw(self, raw: str) -> ApiToken | None:
        return (
            self.select_related("user")
            .filter(key_hash=ApiToken.hash(raw), user__is_active=True)
            .first()
        )


class ApiTokenDict(TypedDict):
    id: int
    name: str
    prefix: str
    created: str
    last_used: str | None


class ApiToken(models.Model):
    """A bearer token for scripts: `Authorization: Bearer bst_…` instead of a session cookie."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    def touch(self) -> None:
        # One write a minute at most: scripts poll, and every write takes SQLite's lock.
        now = timezone.now()
        if self.last_used is None or now - self.last_used > timedelta(minutes=1):
            ApiToken.objects.filter(pk=self.pk).update(last_used=now)

    def to_dict(self) -> ApiTokenDict:
        return {
            "id": self.pk,
            "name": self.name,
            "prefix": self.prefix,
            "created": self.created.isoformat(),
            "last_used": self.last_used.isoformat() if self.last_used else None,
        }


class LoginFailureQuerySet(models.QuerySet["LoginFailure"]):
    def prune(self) -> None:
        since = timezone.now() - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
        self.filter(created__lt=since).delete()


class LoginFailure(models.Model):
    """Failed logins, for the admin to see; the limit itself counts in LoginThrottle."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, db_index=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = LoginFailureQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.username} from {self.ip}"


class LoginThrottle(models.Model):
    """One login counter (per address, per name and address, per name), in the database so
    the limit holds across web processes. Slots are taken by conditional UPDATEs, atomic on
    SQLite and PostgreSQL alike, before the password is checked (accounts/throttle.py)."""

    # A kind and a hash of the name and address: names may be long after NFKC, and odd.
    key = models.CharField(max_length=80, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(db_index=True)
    # Per name, once its limit is spent: no password check for it from an unknown address
    # before then.
    not_before = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class KnownLoginAddress(models.Model):
    """An address a user has logged in from: the per-name limit never holds it back."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="known_login_addresses",
    )
    # "" when the server gave no address: NULLs would slip past the unique constraint.
    ip = models.CharField(max_length=64, blank=True)
    last_login = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "ip"], name="known_login_address")
        ]

    def __str__(self) -> str:
        return f"{self.user} from {self.ip}"


class QrLogin(models.Model):
    """A QR login in progress. Polled one step per request, so no web thread ever waits on it."""

    class Kind(models.TextChoices):
        TV = "tv", _("TV (token + cookies)")
        WEB = "web", _("Web (cookies)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a scan")
        SCANNED = "scanned", _("Scanned, waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPIRED = "expired", _("Expired")

    key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TV)
    url = models.CharField(max_length=500)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    account = models.ForeignKey(
        BilibiliAccount, null=True, blank=True, on_delete=models.SET_NULL
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "QR login"

    def __str__(self) -> str:
        return f"{self.kind} QR login {self.key[:8]}… ({self.status})"
