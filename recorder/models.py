from __future__ import annotations

import zlib
from typing import Any, TypedDict

from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from biliup_site import live


class StreamerQuerySet(models.QuerySet["Streamer"]):
    def with_upload_status(self) -> StreamerQuerySet:
        """Rows ready for to_row(): template joined, active uploads looked up in the same query."""
        from uploads.models import UploadJob

        # EXISTS, not COUNT: no GROUP BY over every joined column, and it stops at the first job.
        mine = UploadJob.objects.filter(streamer=models.OuterRef("pk"))
        running = models.Exists(mine.running())
        active = models.Exists(mine.active())
        # The account is joined for template.to_dict()'s user_cookie; its credential is not needed.
        return (
            self.select_related("upload_template__account")
            .defer("upload_template__account__credential")
            .annotate(running_uploads=running, active_uploads=active)
        )


class StreamerDict(TypedDict):
    id: int
    url: str
    platform: str
    remark: str
    template_name: str | None
    upload_streamers_id: int | None
    split_time: int
    split_size: int
    filename_prefix: str
    format: str
    time_range: list[str] | None
    excluded_keywords: list[str]
    override: dict[str, Any]
    record_danmaku: bool
    danmaku_ass: bool
    preprocessor: Any
    segment_processor: Any
    downloaded_processor: Any
    postprocessor: Any
    opt_args: Any


class RecordingProgress(TypedDict, total=False):
    """The running recording, refreshed with its heartbeat; {} when not recording."""

    bytes: int  # received from the stream since this worker took the session
    bitrate: int  # bits/s over the last heartbeat
    duration: float  # seconds of media recorded in the session's closed segments and the open one
    segments: int  # segments closed so far
    file: str  # the segment being written
    # Bilibili rooms: the stream's quality against the room's best (see StreamerInfo).
    stream: str  # format/codec, e.g. "flv/avc", "fmp4/hevc"
    qn: int
    origin_qn: int
    logged_out: bool  # recorded without an account's cookies


class RoomDict(TypedDict):
    """The room as the last live check saw it (a room card): Bilibili's get_info, or what
    streamlink's plugin tells (a title at most)."""

    title: str
    cover: str  # the image's URL at Bilibili; pages show it through /api/v1/proxy
    area_name: str
    parent_area_name: str
    online: int | None  # while live; None when offline or not known
    seen: str | None  # ISO 8601: when a check last read these


class StreamerRow(TypedDict):
    """A row of GET /streamers."""

    status: str
    upload_status: str
    state: str
    state_detail: str
    restriction: str  # why a live cannot be recorded (Streamer.Restriction), or ""
    progress: RecordingProgress
    room: RoomDict
    inner: StreamerDict


# Bilibili's live qualities (qn) by name, as its player shows them. Other numbers are shown bare.
QUALITY_NAMES = {
    30000: _("Dolby"),
    20000: "4K",  # the same in every language
    10000: _("Original"),
    400: _("Blu-ray"),
    250: _("Ultra HD"),
    150: _("HD"),
    80: _("Smooth"),
}


def quality_name(qn: int) -> str:
    """10000 → "原画 (10000)" (in the active language); an unnamed qn as "qn 12345"."""
    name = QUALITY_NAMES.get(qn)
    return f"{name} ({qn})" if name else f"qn {qn}"


def quality_words(qn: int, origin_qn: int) -> str:
    """The quality recorded against the best the room offers, in words; "" when not known."""
    if not qn:
        return ""
    if not origin_qn or qn == origin_qn:
        return gettext("%(recorded)s, the best offered") % {
            "recorded": quality_name(qn)
        }
    return gettext("%(recorded)s of the best %(best)s") % {
        "recorded": quality_name(qn),
        "best": quality_name(origin_qn),
    }


def quality_note(qn: int, origin_qn: int, logged_out: bool) -> str:
    """What to tell the user when a recording is below the room's best quality; "" when not.
    qn values are opaque (accept_qn ranks them): only "different from the best" is told."""
    if not qn or not origin_qn or qn == origin_qn:
        return ""
    if logged_out:
        return gettext(
            "Recording qn %(qn)s of %(origin)s: log in the upload template's account "
            "for the original"
        ) % {"qn": qn, "origin": origin_qn}
    return gettext(
        "Recording qn %(qn)s of %(origin)s: Bilibili offers this account no better"
    ) % {"qn": qn, "origin": origin_qn}


# biliup's per-streamer commands and ffmpeg arguments, in Streamer.hooks.
HOOKS = (
    "preprocessor",
    "segment_processor",
    "downloaded_processor",
    "postprocessor",
    "opt_args",
)


class Streamer(models.Model):
    """A live room to watch and record (biliup's `livestreamers`)."""

    class State(models.TextChoices):
        IDLE = "idle", _("Idle")
        CHECKING = "checking", _("Checking")
        WAITING = "waiting", _("Live, waiting for a download slot")
        RECORDING = "recording", _("Recording")
        RESTRICTED = "restricted", _("Live, cannot be recorded")
        ERROR = "error", _("Error")

    class Restriction(models.TextChoices):
        """Lives that cannot be recorded (bilibili-2026.md "Special lives")."""

        PAID = "paid", _("Paid live (DRM-protected): it cannot be recorded")
        GUARD = (
            "guard",
            _("Guard-only live (舰长专属): Bilibili offers no stream to this account"),
        )
        PASSWORD = "password", _("Password-protected room: it cannot be recorded")

    # A room's page, or a stream named with streamlink's protocols (hls://https://...).
    url = models.CharField(max_length=500, unique=True)
    platform = models.CharField(
        max_length=40, blank=True, editable=False, help_text="Set from the URL"
    )
    remark = models.CharField(max_length=200, blank=True)
    # SET_NULL, not biliup's cascade: deleting a template must never delete streamers.
    upload_template = models.ForeignKey(
        "uploads.UploadTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="streamers",
    )
    filename_prefix = models.CharField(
        max_length=300, blank=True, help_text="e.g. {streamer}%Y-%m-%dT%H_%M_%S"
    )
    split_time = models.PositiveIntegerField(
        default=3600, help_text="Seconds; 0 = no time split"
    )
    split_size = models.PositiveIntegerField(
        default=2048, help_text="MB; 0 = no size split"
    )
    format = models.CharField(max_length=8, blank=True)
    time_range = models.JSONField(null=True, blank=True)
    excluded_keywords = models.JSONField(default=list, blank=True)
    # Per-platform options (biliup's `override`): e.g. {"bili_qn": 10000, "bili_cdn": ["cn-gotcha04"]}.
    override = models.JSONField(default=dict, blank=True)
    # biliup's preprocessor, segment_processor, downloaded_processor, postprocessor and
    # opt_args, kept and given back so its web UI does not save them away. Not run: they are
    # shell commands sent over a web API (see README, "The API").
    hooks = models.JSONField(default=dict, blank=True)
    paused = models.BooleanField(default=False)
    # Bilibili rooms only: live chat beside each segment (BililiveRecorder's XML), and an ASS
    # subtitle made from it when the segment closes.
    record_danmaku = models.BooleanField(default=True)
    danmaku_ass = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IDLE)
    state_detail = models.TextField(blank=True)
    state_changed = models.DateTimeField(null=True, blank=True)
    # Beaten every few seconds by the worker recording this streamer; stale = that worker died.
    heartbeat = models.DateTimeField(null=True, blank=True)
    # "host:pid" of that worker: on its own host a dead worker is known at once, not after
    # the heartbeat goes stale.
    worker = models.CharField(max_length=255, blank=True)
    # What the running recording has done so far (see RecordingProgress), for pages and sockets.
    progress = models.JSONField(default=dict, blank=True)
    # A live that cannot be recorded (state RESTRICTED): why, and which broadcast (its
    # live_time). The watcher leaves the room alone until the broadcast changes or the user
    # edits, pauses or resumes the streamer (lift_restriction).
    restriction = models.CharField(
        max_length=16, choices=Restriction.choices, blank=True
    )
    restricted_live_time = models.BigIntegerField(default=0)
    # The room as the last live check saw it, for its card (recorder/cards.py): title, cover
    # URL and area stay after the live ends; the online count only while live (None after).
    live_title = models.CharField(max_length=300, blank=True)
    live_cover = models.CharField(max_length=1024, blank=True)
    live_area = models.CharField(max_length=100, blank=True)
    live_parent_area = models.CharField(max_length=100, blank=True)
    live_online = models.PositiveIntegerField(null=True, blank=True)
    live_seen = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = StreamerQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.remark or self.url

    @property
    def upload_status(self) -> str:
        """biliup's uploader status: Working while a worker sends or submits, Pending while a
        job is queued or waits for the session's end, else Idle. Exact without a query after
        with_upload_status()."""
        running = getattr(self, "running_uploads", None)
        active = getattr(self, "active_uploads", None)
        if running is None or active is None:
            from uploads.models import UploadJob

            mine = UploadJob.objects.filter(streamer=self)
            running, active = mine.running().exists(), mine.active().exists()
        if running:
            return "Working"
        return "Pending" if active else "Idle"

    @property
    def status(self) -> str:
        """biliup's downloader status: the three values its clients know."""
        if self.paused:
            return "Pause"
        if self.state == self.State.RECORDING:
            return "Working"
        return "Idle"

    def enqueue_recording(self) -> None:
        """Hand the streamer to a recorder worker (which claims it, or finds nothing to do)."""
        from django.conf import settings
        from django_q.tasks import async_task

        async_task(
            "recorder.tasks.record",
            self.pk,
            cluster=settings.RECORDER_CLUSTER,
            group="recordings",
            task_name=f"record-{self.pk}",
        )

    def enqueue_check(self) -> None:
        """Check the room now rather than at the watcher's next round (a new or resumed streamer)."""
        from django_q.tasks import async_task

        async_task(
            "recorder.tasks.check",
            self.pk,
            group="checks",
            task_name=f"check-{self.pk}",
        )

    def lift_restriction(self) -> bool:
        """Forget that the broadcast could not be recorded: the room is checked as any other.
        True if there was a restriction to lift."""
        now = timezone.now()
        lifted = (
            Streamer.objects.filter(pk=self.pk)
            .exclude(restriction="")
            .update(
                restriction="",
                restricted_live_time=0,
                state=self.State.IDLE,
                state_detail="",
                state_changed=now,
                updated=now,
            )
        )
        if lifted:
            self.refresh_from_db(
                fields=[
                    "restriction",
                    "restricted_live_time",
                    "state",
                    "state_detail",
                    "state_changed",
                    "updated",
                ]
            )
            live.notify(live.PROGRESS_GROUP, "job.changed", kind="streamer", pk=self.pk)
        return bool(lifted)

    def restriction_detail(self) -> str:
        """The reason, in English: for the state detail the API shows and for the log."""
        if not self.restriction:
            return ""
        with translation.override("en"):
            return str(self.Restriction(self.restriction).label)

    def quality_note(self) -> str:
        """quality_note() of the running recording, "" when none or at the best quality."""
        p = self.progress if self.state == self.State.RECORDING else {}
        return quality_note(
            int(p.get("qn") or 0),
            int(p.get("origin_qn") or 0),
            bool(p.get("logged_out")),
        )

    def quality_words(self) -> str:
        """The running recording's quality against the room's best, in words; "" when none."""
        p = self.progress if self.state == self.State.RECORDING else {}
        return quality_words(int(p.get("qn") or 0), int(p.get("origin_qn") or 0))

    @property
    def live_area_label(self) -> str:
        """ "网游 · 英雄联盟": the parent area, then the area."""
        return " · ".join(a for a in (self.live_parent_area, self.live_area) if a)

    @property
    def cover_key(self) -> str:
        """A short digest of the cover's URL: a new cover changes the state's data-key, so the
        dashboard's cards reload with it (the cover is not in the pushed fragment)."""
        return f"{zlib.crc32(self.live_cover.encode()):08x}" if self.live_cover else ""

    def room_dict(self) -> RoomDict:
        return {
            "title": self.live_title,
            "cover": self.live_cover,
            "area_name": self.live_area,
            "parent_area_name": self.live_parent_area,
            "online": self.live_online,
            "seen": self.live_seen.isoformat() if self.live_seen else None,
        }

    def toggle_pause(self) -> None:
        """Working or Idle → Pause; Pause → Idle, as biliup's pause endpoint does."""
        # Flip in the database, not from this (maybe stale) instance: two quick clicks must
        # end where they started.
        Streamer.objects.filter(pk=self.pk).update(
            paused=~models.F("paused"), updated=timezone.now()
        )
        self.refresh_from_db(fields=["paused", "updated"])
        live.notify(live.PROGRESS_GROUP, "job.changed", kind="streamer", pk=self.pk)

    def to_dict(self) -> StreamerDict:
        template = self.upload_template
        return {
            "id": self.pk,
            "url": self.url,
            "platform": self.platform,
            "remark": self.remark,
            "template_name": template.template_name if template else None,
            "upload_streamers_id": template.pk if template else None,
            "split_time": self.split_time,
            "split_size": self.split_size,
            "filename_prefix": self.filename_prefix,
            "format": self.format,
            "time_range": self.time_range,
            "excluded_keywords": self.excluded_keywords,
            "override": self.override,
            "record_danmaku": self.record_danmaku,
            "danmaku_ass": self.danmaku_ass,
            **{name: (self.hooks or {}).get(name) for name in HOOKS},
        }

    def to_row(self) -> StreamerRow:
        """A row of GET /streamers: biliup's {status, upload_status, inner} plus our finer state."""
        return {
            "status": self.status,
            "upload_status": self.upload_status,
            "state": "paused" if self.paused else self.state,
            "state_detail": self.state_detail,
            "restriction": self.restriction,
            "progress": self.progress
            if self.state == self.State.RECORDING
            else RecordingProgress(),
            "room": self.room_dict(),
            "inner": self.to_dict(),
        }


class GapDict(TypedDict):
    """A stream drop inside one live session."""

    start: str  # ISO 8601
    seconds: float


class StreamerInfoDict(TypedDict):
    id: int
    name: str
    url: str
    title: str
    date: int  # unix seconds
    live_cover_path: str
    template_name: str
    stream_title: str
    streamer_name: str
    start_time: str
    end_time: str | None
    video_path: str
    gaps: list[GapDict]
    stream_format: str
    qn: int
    origin_qn: int
    below_origin: bool
    quality_note: str


class StreamerInfo(models.Model):
    """One live session of a streamer: what biliup calls `streamerinfo`."""

    streamer = models.ForeignKey(
        Streamer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
    )
    name = models.CharField(max_length=200)
    url = models.CharField(max_length=500)
    title = models.CharField(max_length=300, blank=True)
    template_name = models.CharField(max_length=200, blank=True)
    start_time = models.DateTimeField(default=timezone.now, db_index=True)
    end_time = models.DateTimeField(null=True, blank=True)
    live_cover_path = models.CharField(max_length=1024, blank=True)
    # Stream drops inside one session: [{"start": iso8601, "seconds": float}].
    gaps = models.JSONField(default=list, blank=True)
    # What was recorded (Bilibili rooms): the stream's format/codec ("flv/avc", "fmp4/hevc"),
    # its quality (qn) and the best the room has (accept_qn's first). When a part of the
    # session was below the best (logged out: capped at 250; a quality loss after a
    # reconnect), stream_qn is the worst part's. 0: not known (other platforms).
    stream_format = models.CharField(max_length=32, blank=True)
    stream_qn = models.PositiveIntegerField(default=0)
    origin_qn = models.PositiveIntegerField(default=0)
    logged_out = models.BooleanField(default=False)  # recorded without an account

    class Meta:
        ordering = ["-start_time", "-id"]
        verbose_name = "live session"

    def __str__(self) -> str:
        return f"{self.name}: {self.title} ({self.start_time:%Y-%m-%d %H:%M})"

    @property
    def below_origin(self) -> bool:
        return (
            bool(self.stream_qn and self.origin_qn) and self.stream_qn != self.origin_qn
        )

    def quality_note(self) -> str:
        return quality_note(self.stream_qn, self.origin_qn, self.logged_out)

    def to_dict(self) -> StreamerInfoDict:
        files = list(self.files.all())
        # Both shapes at once: the documented one (stream_title, streamer_name, start_time,
        # video_path) and biliup's own route's (name, title, date, live_cover_path).
        return {
            "id": self.pk,
            "name": self.name,
            "url": self.url,
            "title": self.title,
            "date": int(self.start_time.timestamp()),
            "live_cover_path": self.live_cover_path,
            "template_name": self.template_name,
            "stream_title": self.title,
            "streamer_name": self.name,
            "start_time": self.start_time.isoformat(),
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "video_path": files[0].path if files else "",
            "gaps": self.gaps,
            "stream_format": self.stream_format,
            "qn": self.stream_qn,
            "origin_qn": self.origin_qn,
            "below_origin": self.below_origin,
            "quality_note": self.quality_note(),
        }


class DanmakuDict(TypedDict):
    """A segment's live chat: its XML ("" when none), its ASS ("" when none was made) and how
    many messages of each kind (danmaku, superchat, gift, guard) it holds."""

    path: str
    ass_path: str
    counts: dict[str, int]


class RecordingFileDict(TypedDict):
    id: int
    streamer_info_id: int
    file: str
    file_path: str
    file_size: int
    duration: float
    gaps: list[GapDict]
    danmaku: DanmakuDict


class RecordingFile(models.Model):
    """A closed segment of a live session (biliup's `filelist`)."""

    streamer_info = models.ForeignKey(
        StreamerInfo, on_delete=models.CASCADE, related_name="files"
    )
    path = models.CharField(max_length=1024)
    size = models.BigIntegerField(default=0)
    duration = models.FloatField(default=0)
    # The session's gaps that fell inside this segment (the reconnect went on in the same file).
    gaps = models.JSONField(default=list, blank=True)
    # The live chat of this segment: the XML beside it ("" when none was recorded), its ASS if
    # one was made, and how many of each kind of message it holds (recorder/danmaku.py).
    danmaku_path = models.CharField(max_length=1024, blank=True)
    danmaku_ass_path = models.CharField(max_length=1024, blank=True)
    danmaku_counts = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.path

    def to_dict(self) -> RecordingFileDict:
        return {
            "id": self.pk,
            "streamer_info_id": self.streamer_info_id,
            "file": self.path,
            "file_path": self.path,
            "file_size": self.size,
            "duration": self.duration,
            "gaps": self.gaps,
            "danmaku": {
                "path": self.danmaku_path,
                "ass_path": self.danmaku_ass_path,
                "counts": self.danmaku_counts,
            },
        }
