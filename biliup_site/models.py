from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConfigurationDict(TypedDict):
    lines: str
    threads: int
    submit_api: str | None
    download_limit: int
    upload_limit: int
    recordings_dir: str
    event_loop_interval: int
    delay: int
    delete_after_upload: str
    disk_reserve: int
    uploader: str
    openplatform_client_id: str
    openplatform_auth: str
    openplatform_app_secret_set: bool
    openplatform_access_token_set: bool
    catalog_provider: str
    justoneapi_env: str
    justoneapi_token_set: bool
    justoneapi_stopped: str
    upload_rate_limit: int
    upload_schedule: list[dict[str, Any]]
    upload_adaptive: bool
    upload_max_connections: int
    upload_line_max_connections: int


class SubmitApi(models.TextChoices):
    """Which Bilibili endpoint submits an archive: globally, or per upload template."""

    APP = "app", _("App (BiliTV appkey)")
    WEB = "web", _("Web (cookies + csrf)")


class Configuration(models.Model):
    """The global configuration: one row, biliup's `config` keys where they exist."""

    class DeletePolicy(models.TextChoices):
        KEEP = "keep", _("Keep files after upload")
        DELETE = "delete", _("Delete files once the archive is accepted")

    lines = models.CharField(
        max_length=32, default="AUTO", help_text="UPOS line (AUTO, bda2, bldsa, tx, …)"
    )
    threads = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(32)]
    )
    submit_api = models.CharField(
        max_length=8, choices=SubmitApi.choices, blank=True, help_text="Empty: app"
    )
    download_limit = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    upload_limit = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    recordings_dir = models.CharField(
        max_length=1024, blank=True, help_text="Empty: BILIUP_RECORDINGS_DIR"
    )
    event_loop_interval = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(3600)],
        help_text="Seconds between live checks",
    )
    delay = models.PositiveIntegerField(
        default=300,
        validators=[MaxValueValidator(86400)],
        help_text="Seconds a stream may stay offline and still be the same session",
    )
    delete_after_upload = models.CharField(
        max_length=8, choices=DeletePolicy.choices, default=DeletePolicy.KEEP
    )
    disk_reserve = models.PositiveIntegerField(
        default=2048, help_text="MB of free disk below which no new segment is opened"
    )
    # The Open Platform (protocol §5): an app's client_id and secret and the user's OAuth token.
    # The secret and the token are write-only: to_dict() only says whether they are set.
    uploader = models.CharField(
        max_length=16,
        choices=[("upos", "UPOS"), ("openplatform", _("Open Platform"))],
        default="upos",
        help_text="For templates that do not choose",
    )
    openplatform_client_id = models.CharField(max_length=64, blank=True)
    openplatform_app_secret = models.CharField(max_length=128, blank=True)
    openplatform_access_token = models.CharField(max_length=256, blank=True)
    openplatform_auth = models.CharField(
        max_length=16,
        choices=[
            ("signature", _("Signature 2.0 headers")),
            ("legacy", _("client_id + access_token in the query")),
        ],
        default="signature",
    )
    # Creator catalogs: where followed users' video lists come from unless a user says. The
    # JustOneAPI token is write-only, like the Open Platform secret. When JustOneAPI refuses the
    # token itself (invalid, no permission, no balance, daily quota), every refresh through it
    # stops: justoneapi_stop_* say why and until when (no time: until the token is changed).
    catalog_provider = models.CharField(
        max_length=16,
        choices=[("bilibili", _("Bilibili")), ("justoneapi", "JustOneAPI")],
        default="bilibili",
    )
    justoneapi_token = models.CharField(max_length=256, blank=True)
    justoneapi_env = models.CharField(
        max_length=8,
        choices=[
            ("global", _("prod-global (api.justoneapi.com)")),
            ("cn", _("prod-cn (mainland China)")),
        ],
        default="global",
    )
    justoneapi_stop_reason = models.CharField(max_length=300, blank=True)
    justoneapi_stop_until = models.DateTimeField(null=True, blank=True)
    # The upload link (uploads/bandwidth.py): one rate cap and one connection budget shared by
    # every running upload, on any worker. Rates in KiB/s, 0: no limit. The schedule's rules,
    # [{"start": "18:00", "end": "23:30", "rate": 2048}, …], hold in the site's time zone (the
    # first that matches); outside them `upload_rate_limit` does.
    upload_rate_limit = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(10_000_000)]
    )
    upload_schedule = models.JSONField(default=list, blank=True)
    upload_adaptive = models.BooleanField(default=True)
    upload_max_connections = models.PositiveSmallIntegerField(
        default=16, validators=[MinValueValidator(1), MaxValueValidator(64)]
    )
    upload_line_max_connections = models.PositiveSmallIntegerField(
        default=8, validators=[MinValueValidator(1), MaxValueValidator(64)]
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "configuration"
        verbose_name_plural = "configuration"

    def __str__(self) -> str:
        return "Configuration"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> Configuration:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def justoneapi_stopped(self) -> str:
        """Why refreshes through JustOneAPI are held right now, or ""."""
        until = self.justoneapi_stop_until
        if until is not None and until <= timezone.now():
            return ""
        return self.justoneapi_stop_reason

    def recordings_path(self) -> Path:
        return Path(self.recordings_dir or settings.RECORDINGS_DIR).resolve()

    def to_dict(self) -> ConfigurationDict:
        return {
            "lines": self.lines,
            "threads": self.threads,
            "submit_api": self.submit_api or None,
            "download_limit": self.download_limit,
            "upload_limit": self.upload_limit,
            "recordings_dir": str(self.recordings_path()),
            "event_loop_interval": self.event_loop_interval,
            "delay": self.delay,
            "delete_after_upload": self.delete_after_upload,
            "disk_reserve": self.disk_reserve,
            "uploader": self.uploader,
            "openplatform_client_id": self.openplatform_client_id,
            "openplatform_auth": self.openplatform_auth,
            "openplatform_app_secret_set": bool(self.openplatform_app_secret),
            "openplatform_access_token_set": bool(self.openplatform_access_token),
            "catalog_provider": self.catalog_provider,
            "justoneapi_env": self.justoneapi_env,
            "justoneapi_token_set": bool(self.justoneapi_token),
            "justoneapi_stopped": self.justoneapi_stopped,
            "upload_rate_limit": self.upload_rate_limit,
            "upload_schedule": list(self.upload_schedule),
            "upload_adaptive": self.upload_adaptive,
            "upload_max_connections": self.upload_max_connections,
            "upload_line_max_connections": self.upload_line_max_connections,
        }


class EventDict(TypedDict):
    id: int
    uuid: str
    kind: str
    key: str
    data: dict[str, Any]
    summary: str
    created: str


class HookDict(TypedDict):
    id: int
    kind: str
    name: str
    url: str
    events: list[str]
    allow_private: bool
    enabled: bool
    secret_set: bool
    created: str


class DeliveryDict(TypedDict):
    id: int
    hook_id: int
    event: EventDict
    status: str
    attempts: int
    next_try: str | None
    last_try: str | None
    response_status: int | None
    error: str


class EventKind(models.TextChoices):
    """What can happen that a user may want to hear of. The webhook EventType of each is in
    biliup_site/events.py: BililiveRecorder's for the recording ones, ours for the rest."""

    SESSION_STARTED = "session_started", _("Live started (recording begins)")
    STREAM_STARTED = "stream_started", _("Stream started")
    FILE_OPENING = "file_opening", _("Segment opened")
    FILE_CLOSED = "file_closed", _("Segment closed")
    STREAM_ENDED = "stream_ended", _("Stream ended")
    SESSION_ENDED = "session_ended", _("Recording session ended")
    RECORDING_FAILED = "recording_failed", _("Recording failed")
    RECORDING_STALLED = "recording_stalled", _("Recording stalled")
    DISK_LOW = "disk_low", _("Disk space low")
    UPLOAD_PUBLISHED = "upload_published", _("Upload published")
    UPLOAD_FAILED = "upload_failed", _("Upload failed")
    UPLOAD_REJECTED = "upload_rejected", _("Upload rejected in review")
    ACCOUNT_PAUSED = "account_paused", _("Account throttled or paused")
    COOKIE_EXPIRING = "cookie_expiring", _("Cookie expiring")
    COOKIE_EXPIRED = "cookie_expired", _("Cookie expired")


class Event(models.Model):
    """Something that happened, once: `key` names the occurrence (a session, a job, an
    account's pause) so that saying it twice records and delivers it once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    key = models.CharField(max_length=255, unique=True)
    # The event's facts: the webhook's EventData (BililiveRecorder's keys for its events).
    data = models.JSONField(default=dict, blank=True)
    # One line for a person, in the site's language when the event happened: a notification's
    # body, and the deliveries list.
    summary = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    def to_dict(self) -> EventDict:
        return {
            "id": self.pk,
            "uuid": str(self.uuid),
            "kind": self.kind,
            "key": self.key,
            "data": self.data,
            "summary": self.summary,
            "created": self.created.isoformat(),
        }


class Hook(models.Model):
    """Where events go: an apprise URL (a notification service) or a webhook (signed JSON)."""

    class Kind(models.TextChoices):
        APPRISE = "apprise", _("Notification (apprise)")
        WEBHOOK = "webhook", _("Webhook")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True)
    # An apprise URL holds the service's token: write-only in the API, shown masked.
    url = models.CharField(max_length=2000)
    # Which EventKinds go here; empty: every kind.
    events = models.JSONField(default=list, blank=True)
    # Webhooks: HMAC-SHA256 key of the signature header; generated when the hook is made.
    secret = models.CharField(max_length=128, blank=True)
    # Webhooks to loopback, private or link-local addresses are refused unless this is on.
    allow_private = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.shown_url

    @property
    def shown_url(self) -> str:
        """The URL as pages and the API show it: an apprise URL without its tokens (the
        scheme, and the host when it looks like one: many services put the token where a host
        would be, as tgram://<bot token>/...)."""
        if self.kind != self.Kind.APPRISE:
            return self.url
        parts = urlsplit(self.url)
        try:
            host = parts.hostname or ""
        except ValueError:
            host = ""
        if "." not in host and host != "localhost":
            host = ""
        return f"{parts.scheme}://{host}…" if parts.scheme else "…"

    def to_dict(self) -> HookDict:
        return {
            "id": self.pk,
            "kind": self.kind,
            "name": self.name,
            "url": self.shown_url,
            "events": list(self.events),
            "allow_private": self.allow_private,
            "enabled": self.enabled,
            "secret_set": bool(self.secret),
            "created": self.created.isoformat(),
        }


class Delivery(models.Model):
    """One event on its way to one hook: sent in event order per hook, retried with back-off."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")  # gave up after the last attempt

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries"
    )
    hook = models.ForeignKey(Hook, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try = models.DateTimeField(default=timezone.now, db_index=True)
    last_try = models.DateTimeField(null=True, blank=True)
    # The receiver's HTTP status (webhooks), and what went wrong on the last attempt.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.hook}"

    def to_dict(self) -> DeliveryDict:
        pending = self.status == self.Status.PENDING
        return {
            "id": self.pk,
            "hook_id": self.hook_id,
            "event": self.event.to_dict(),
            "status": self.status,
            "attempts": self.attempts,
            "next_try": self.next_try.isoformat() if pending else None,
            "last_try": self.last_try.isoformat() if self.last_try else None,
            "response_status": self.response_status,
            "error": self.error,
        }
