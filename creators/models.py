"""The creator catalogs' models: followed users, their videos, and plays over time.

They moved here from `uploads`; their tables kept the names they had there (Meta.db_table), so
moving them changed no data (creators/migrations/0001_initial.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import BilibiliAccount
from biliup_site import live
from biliup_site.workers import worker_alive


class CreatorDict(TypedDict):
    uid: int
    name: str
    face: str
    provider: str
    provider_used: str
    refresh_minutes: int
    status: str
    status_reason: str
    video_count: int
    videos_known: int
    own: bool
    synced: str | None
    last_refresh: str | None
    next_refresh: str | None
    refreshing: bool
    created: str


class CreatorQuerySet(models.QuerySet["Creator"]):
    def rows(self) -> CreatorQuerySet:
        """With videos_known and is_own read in the same query: lists must not ask per row."""
        own = BilibiliAccount.objects.filter(mid=models.OuterRef("uid"))
        return self.annotate(
            videos_known=models.Count("videos"), is_own=models.Exists(own)
        )


class Creator(models.Model):
    """A followed Bilibili user (UID): the catalog of the videos they publish, kept fresh.

    Refreshes are claimed like upload jobs (refreshing_since, worker), so however many machines
    run the scheduler, one user is refreshed by one worker at a time.
    """

    class Provider(models.TextChoices):
        DEFAULT = "", _("Default (from settings)")
        BILIBILI = "bilibili", _("Bilibili")
        JUSTONEAPI = "justoneapi", "JustOneAPI"

    class Status(models.TextChoices):
        NEW = "new", _("Not synced yet")
        OK = "ok", _("Up to date")
        ERROR = "error", _("Refresh failed")
        STOPPED = "stopped", _("Stopped")

    # A refresh that has not beaten (once a page) for this long is taken to be dead.
    STALE_AFTER = timedelta(minutes=10)

    uid = models.PositiveBigIntegerField(
        unique=True, help_text="Bilibili user id (mid)"
    )
    provider = models.CharField(
        max_length=16, choices=Provider.choices, blank=True, default=""
    )
    refresh_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(10080)]
    )
    name = models.CharField(max_length=100, blank=True)
    face = models.CharField(max_length=500, blank=True)
    video_count = models.PositiveIntegerField(
        default=0, help_text="How many videos Bilibili says the user has"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    status_reason = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="In a row")
    provider_used = models.CharField(
        max_length=16, blank=True, help_text="The endpoint that answered last"
    )
    synced = models.DateTimeField(
        null=True, blank=True, help_text="The first full walk of the list ended"
    )
    full_synced = models.DateTimeField(null=True, blank=True)
    last_refresh = models.DateTimeField(null=True, blank=True)
    next_refresh = models.DateTimeField(default=timezone.now, db_index=True)
    refreshing_since = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid")
    created = models.DateTimeField(auto_now_add=True)

    objects = CreatorQuerySet.as_manager()

    class Meta:
        # The tables keep the names they had in `uploads`: moving the models moved no data.
        db_table = "uploads_creator"
        ordering = ["name", "uid"]

    def __str__(self) -> str:
        return f"{self.name or 'UID'} ({self.uid})"

    @property
    def display_name(self) -> str:
        return self.name or f"UID {self.uid}"

    def effective_provider(self, default: str) -> str:
        return self.provider or default

    def is_refreshing(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        beat = self.heartbeat or self.refreshing_since
        return (
            self.refreshing_since is not None
            and beat is not None
            and beat > now - self.STALE_AFTER
            and worker_alive(self.worker)
        )

    @property
    def own(self) -> bool:
        """One of our Bilibili accounts: its uploads are verified against this catalog."""
        if hasattr(self, "is_own"):
            return self.is_own
        return BilibiliAccount.objects.filter(mid=self.uid).exists()

    def publish(self) -> None:
        live.notify(live.PROGRESS_GROUP, "job.changed", kind="creator", pk=self.pk)

    def to_dict(self) -> CreatorDict:
        return {
            "uid": self.uid,
            "name": self.name,
            "face": self.face,
            "provider": self.provider,
            "provider_used": self.provider_used,
            "refresh_minutes": self.refresh_minutes,
            "status": self.status,
            "status_reason": self.status_reason,
            "video_count": self.video_count,
            "videos_known": getattr(self, "videos_known", None)
            if hasattr(self, "videos_known")
            else self.videos.count(),
            "own": self.own,
            "synced": self.synced.isoformat() if self.synced else None,
            "last_refresh": self.last_refresh.isoformat()
            if self.last_refresh
            else None,
            "next_refresh": self.next_refresh.isoformat(),
            "refreshing": self.is_refreshing(),
            "created": self.created.isoformat(),
        }


class CreatorVideoDict(TypedDict):
    bvid: str
    aid: int
    uid: int
    title: str
    cover: str
    duration: int
    play: int
    danmaku: int
    published: str
    category: str
    url: str
    first_seen: str
    updated: str


class CreatorVideo(models.Model):
    """One published video of a followed user, as last seen, with the provider's raw item."""

    creator = models.ForeignKey(
        Creator, on_delete=models.CASCADE, related_name="videos"
    )
    bvid = models.CharField(max_length=16)
    aid = models.PositiveBigIntegerField()
    title = models.CharField(max_length=200)
    cover = models.CharField(max_length=500, blank=True)
    duration = models.PositiveIntegerField(default=0, help_text="Seconds")
    play = models.BigIntegerField(default=0)
    danmaku = models.BigIntegerField(default=0)
    published = models.DateTimeField()
    category = models.CharField(max_length=50, blank=True)
    # The whole item as the provider gave it: fields not modelled here are not lost.
    raw = models.JSONField(default=dict)
    first_seen = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "uploads_creatorvideo"
        ordering = ["-published", "-aid"]
        constraints = [
            models.UniqueConstraint(
                fields=["creator", "bvid"], name="creator_video_unique_bvid"
            )
        ]
        indexes = [models.Index(fields=["creator", "-published"])]

    def __str__(self) -> str:
        return f"{self.bvid} {self.title}"

    @property
    def url(self) -> str:
        return f"https://www.bilibili.com/video/{self.bvid}"

    def to_dict(self) -> CreatorVideoDict:
        return {
            "bvid": self.bvid,
            "aid": self.aid,
            "uid": self.creator.uid,
            "title": self.title,
            "cover": self.cover,
            "duration": self.duration,
            "play": self.play,
            "danmaku": self.danmaku,
            "published": self.published.isoformat(),
            "category": self.category,
            "url": self.url,
            "first_seen": self.first_seen.isoformat(),
            "updated": self.updated.isoformat(),
        }


class VideoSnapshot(models.Model):
    """A video's plays and danmaku at one refresh: kept when they change, to draw trends."""

    video = models.ForeignKey(
        CreatorVideo, on_delete=models.CASCADE, related_name="snapshots"
    )
    at = models.DateTimeField()
    play = models.BigIntegerField()
    danmaku = models.BigIntegerField()

    class Meta:
        db_table = "uploads_videosnapshot"
        ordering = ["at"]
        indexes = [models.Index(fields=["video", "at"])]

    def __str__(self) -> str:
        return f"{self.video_id} at {self.at:%Y-%m-%d %H:%M}: {self.play} plays"


class CreatorSnapshot(models.Model):
    """A followed user's totals after a refresh: the catalog's plays over time."""

    creator = models.ForeignKey(
        Creator, on_delete=models.CASCADE, related_name="snapshots"
    )
    at = models.DateTimeField()
    videos = models.PositiveIntegerField()
    play = models.BigIntegerField()
    danmaku = models.BigIntegerField()

    class Meta:
        db_table = "uploads_creatorsnapshot"
        ordering = ["at"]
        indexes = [models.Index(fields=["creator", "at"])]

    def __str__(self) -> str:
        return f"{self.creator_id} at {self.at:%Y-%m-%d %H:%M}: {self.play} plays"
