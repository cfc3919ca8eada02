"""Recording a Bilibili live room: one session across drops, segments as files, until the room
has stayed offline for the grace delay.

The worker that runs this owns the streamer (claim() below): it beats a heartbeat, watches the
paused flag, and leaves every segment closed, valid and on record, whatever ends the session.
"""

from __future__ import annotations

import errno
import logging
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, cdn, live
from biliup_site.models import Configuration
from recorder import (
    cards,
    danmaku,
    flv,
    heartbeats,
    hls,
    notices,
    platforms,
    reach,
    signals,
    streamlink_sources,
)
from recorder.chunks import ChunkStream
from recorder.lease import holds, release, restrict
from recorder.models import (
    GapDict,
    RecordingFile,
    RecordingProgress,
    Streamer,
    StreamerInfo,
)
from recorder.segments import announce, file_stem, folder, recover

logger = logging.getLogger(__name__)

STALL_SECONDS = 10  # no bytes for this long: reconnect (BililiveRecorder's watchdog)
# Live, and no stream has delivered for this long: the recording is stuck, the user is told.
STALLED_SECONDS = 60
# Play URLs expire (`expires=`): the next CDN of a list older than this is not tried, the list
# is asked for again (every reconnect asks anyway).
SOURCES_FRESH_SECONDS = 30
HEARTBEAT_SECONDS = 5
OFFLINE_POLL_SECONDS = 5
# A broadcast this young whose play info lists no stream may only not have them yet: it is looked
# at again next round rather than taken for guard-only (and skipped for the whole live).
GUARD_SETTLE_SECONDS = 90
MB = 1024 * 1024


class Restricted(Exception):
    """The live cannot be recorded (paid, guard-only, password): see restrict()."""

    def __init__(self, restriction: str, live_time: int) -> None:
        super().__init__(restriction)
        self.restriction = restriction
        self.live_time = live_time


class StopRecording(Exception):
    """The session must end now: paused, deleted, or the disk reserve was reached."""


class TakenOver(StopRecording):
    """Another recorder holds the streamer now (this one's heartbeat went stale): stop without
    touching its row or its session, which are the other recorder's."""


class DiskFull(StopRecording):
    pass


# Errors of a write that mean the disk (or the user's quota) is full, not that the stream broke.
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)

# The recordings running in this process, so the recorder service can stop them all.
_running: set[Recorder] = set()
_running_lock = threading.Lock()


def stop_all() -> int:
    """Ask every recording of this process to close its segment and stop (for a restart: the
    sessions stay open, to go on when the recorder is back). The number asked."""
    with _running_lock:
        recorders = list(_running)
    for recorder in recorders:
        recorder.shutting_down = True
    return len(recorders)


def _stop_if_disk_full(exc: Exception) -> None:
    """A write that failed for want of space stops the recording (the segmenter kept what
    reached the disk, closed and on record); other errors end the connection, to reconnect."""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        raise DiskFull(
            f"The disk is full ({exc.strerror}): recording stopped, what was written is kept. "
            "Free some space; the next live check starts it again."
        ) from exc


def _last_write(session: StreamerInfo) -> float | None:
    """When (time.monotonic()) the session's last byte reached the disk; None for a session
    with no file yet."""
    written = [
        path.stat().st_mtime
        for file in session.files.all()
        if (path := Path(file.path)).exists()
    ]
    if not written:
        return None
    return time.monotonic() - max(time.time() - max(written), 0.0)


def _why(exc: Exception) -> str:
    # The log names what broke (ReadTimeout, ChunkedEncodingError, ...), not just "the CDN".
    return exc.cause if isinstance(exc, cdn.CdnError) else exc.__class__.__name__


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def open_session(
    streamer: Streamer, name: str, title: str = "", cover: str = ""
) -> StreamerInfo:
    """The streamer's session for this broadcast: the unfinished one if a worker died in it."""
    session = streamer.sessions.filter(end_time=None).order_by("-start_time").first()
    if session is not None:
        return session
    template = streamer.upload_template
    return StreamerInfo.objects.create(
        streamer=streamer,
        name=streamer.remark or name,
        url=streamer.url,
        title=title,
        template_name=template.template_name if template else "",
        live_cover_path=cover,
    )


class Recorder:
    """One streamer's session: pumps streams into a segmenter until the room stays offline."""

    def __init__(self, streamer: Streamer) -> None:
        self.streamer = streamer
        self.config = Configuration.load()
        self.last_beat = 0.0
        self.shutting_down = False
        self.received = 0  # stream bytes since this worker took the session
        self.received_at_beat = 0
        self.closed_seconds = 0.0
        self.closed_segments = 0
        # A closed segment is news for the pages: the next heartbeat goes out at once.
        self.beat_due = False
        self.current_file = ""
        self.segmenter: flv.Segmenter | hls.HlsSegmenter | None = None
        self.hls_sequence: int | None = None  # the last HLS media segment written
        # When the last connection ended; its gap goes on record when media flows again.
        self.lost_at: float | None = None
        # Bilibili's CDN session is made once the room is known (run); streamlink's plugins
        # bring their own (_sources).
        self.http = reach.guard(cdn.session())
        # Why the last connection got no stream, when it got something else; how many in a row.
        self.not_stream, self.not_streams = "", 0
        self.room: live.Room | None = None  # Bilibili's; None for other platforms
        # Bilibili: the play info _open_session read, for the first _sources() to use.
        self.play: live.PlayInfo | None = None
        self.quality: RecordingProgress = {}  # the stream's, for the progress (_note_quality)
        self.open_gaps: list[GapDict] = []  # gaps inside the segment being written
        self.opened: dict[str, datetime] = {}  # when each segment opened (its events)
        self.started_said = self.stall_said = False  # once each per recorder (notices)
        self.room_info: live.RoomInfo | None = None  # Bilibili's, for the chat's XML
        self.chat: danmaku.DanmakuRecorder | None = (
            None  # the live chat beside the segments
        )

    def _on_shutdown(self, signum: int, frame: Any) -> None:
        self.shutting_down = True

    def run(self) -> str:
        """Record until the session ends or must stop; what happened, in a few words (the
        record job's result)."""
        with _running_lock:
            _running.add(self)
        try:
            return self._run()
        finally:
            with _running_lock:
                _running.discard(self)
            heartbeats.forget(self.streamer.pk)
            self._release_db()

    def _run(self) -> str:
        # Segments a recorder of this streamer left half-written when it died: this one holds
        # the streamer now, so a .part in its folder is no one else's.
        recover(self.streamer)
        try:
            opened = self._open_session()
        except Restricted as exc:
            self.http.close()
            restrict(self.streamer, exc.restriction, exc.live_time)
            return self.streamer.state_detail
        if not opened:
            release(self.streamer)  # not live (any more)
            return "Not live"
        # A session resumed after a crash or a restart: the time since its last byte on disk is
        # a gap, on record once media flows again (_resumed).
        self.lost_at = _last_write(self.session)
        if self.room is not None:
            # The CDN refuses a pull without a browser UA and the room's page as Referer; the
            # account's cookies go along (bilibili-2026.md "Live rooms and the stream CDN").
            self.http.close()
            self.http = reach.guard(cdn.session(self._credential(), self.room.room_id))
        directory = folder(self.streamer)
        directory.mkdir(parents=True, exist_ok=True)
        detail, state, taken_over = "", Streamer.State.IDLE, False
        # serve stops the recorder cluster with SIGINT: django-q2's idle workers ignore it, and a
        # recording worker closes its segment and leaves the session open for the next start.
        previous = (
            signal.signal(signal.SIGINT, self._on_shutdown) if _main_thread() else None
        )
        try:
            self._start_chat()
            self._loop()
        except DiskFull as exc:
            state, detail = Streamer.State.ERROR, str(exc)
            self._failed(detail, disk_full=True)
        except (reach.Refused, reach.NotAStream) as exc:
            state, detail = Streamer.State.ERROR, str(exc)
            logger.warning("Streamer %s: %s", self.streamer.pk, detail)
            self._failed(detail)
        except TakenOver as exc:
            taken_over, detail = True, str(exc)
            logger.warning("Streamer %s: %s; stopping here", self.streamer.pk, exc)
        except StopRecording as exc:
            detail = str(exc)
        except Exception as exc:
            self._failed(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            try:
                self._close_segment(taken_over)
                self.http.close()
            finally:
                # The chat thread winds down while the streamer is freed, not before.
                if self.chat is not None:
                    self.chat.halt()
                try:
                    if not taken_over:
                        self._end(state, detail)
                finally:
                    if self.chat is not None:
                        self.chat.stop()
        return self._summary(detail)

    def _close_segment(self, taken_over: bool) -> None:
        try:
            self._use(None)
        except OSError:
            if not taken_over:
                raise
            # On a folder both machines share, the recorder that took over repaired and
            # renamed the segment this one was writing when it froze.
            logger.warning(
                "Streamer %s: the segment being written was taken over too",
                self.streamer.pk,
            )

    def _end(self, state: str, detail: str) -> None:
        """Put the session's end (or, for a restart, its gaps) on record and free the streamer.
        Not if another recorder took the streamer over meanwhile: the session is its now."""
        if (
            not holds(self.streamer)
            and Streamer.objects.filter(pk=self.streamer.pk).exists()
        ):
            logger.warning(
                "Streamer %s was taken over; its session goes on there",
                self.streamer.pk,
            )
            return
        if not self.shutting_down:
            self.session.end_time = timezone.now()
        self.session.save(update_fields=("end_time", "gaps"))
        if self.session.end_time is not None:
            for receiver, result in signals.session_ended.send_robust(
                StreamerInfo, session=self.session
            ):
                if isinstance(result, Exception):
                    logger.error("%s failed", receiver, exc_info=result)
            # A stop (pause, full disk) ends the recording, not the broadcast.
            notices.session_ended(self.session, self._facts(), streaming=bool(detail))
        release(self.streamer, state, detail)

    def _summary(self, detail: str) -> str:
        seconds = round(self.closed_seconds)
        done = (
            f"{self.closed_segments} segments ({seconds // 3600}:{seconds // 60 % 60:02}:"
            f"{seconds % 60:02}, {self.received} bytes) in session {self.session.pk}"
        )
        return f"{detail}: {done}" if detail else f"Recorded {done}"

    def _open_session(self) -> bool:
        """Start or resume the session if the streamer is live. Raises Restricted for a live
        that cannot be recorded (paid, guard-only, password: before any session is opened);
        BilibiliError, BilibiliUnavailable, UnsupportedUrl or StreamlinkUnavailable when that
        can't be told."""
        if self.streamer.platform != "bilibili":
            found = streamlink_sources.broadcast(self.streamer.url)
            if not found.sources:
                return False
            self.session = open_session(
                self.streamer, found.author or self.streamer.url, found.title
            )
            cards.heard_from_streamlink(self.streamer, found.title)
            return True
        room_ref = platforms.recordable_room(self.streamer.url)
        self.room = live.room_init(room_ref)
        if not self.room.is_live:
            return False
        if self.room.restriction:
            raise Restricted(self.room.restriction, self.room.live_time)
        # A guard-only live shows only here: live, and no stream for this account.
        self.play = live.play_info(self.room.room_id, self._credential())
        if self.play.restriction:
            age = time.time() - self.room.live_time
            young = GUARD_SETTLE_SECONDS > 0 and age < GUARD_SETTLE_SECONDS
            if self.play.restriction == live.GUARD and young:
                logger.info("Room %s is live with no stream yet", self.room.room_id)
                return False
            raise Restricted(self.play.restriction, self.room.live_time)
        try:
            info = self.room_info = live.room_info(self.room.room_id)
        except (BilibiliError, BilibiliUnavailable) as exc:
            # The title and the anchor's name are nice to have: the stream is what counts.
            logger.warning(
                "Room info of %s failed, recording without it: %s",
                self.room.room_id,
                exc,
            )
            info = None
        if info is not None:
            # Read for the session anyway: the room's card costs no call of its own.
            cards.store(self.streamer, cards.Card.of(info))
        self.session = open_session(
            self.streamer,
            (info.uname if info else "") or f"room {self.room.room_id}",
            info.title if info else "",
            info.cover if info else "",
        )
        return True

    def _sources(self) -> list[live.StreamUrl]:
        """Where the stream is now, best first; [] while offline or when that can't be told
        (an outage counts as offline time: the grace delay bounds how long we wait)."""
        if self.room is None:
            try:
                found = streamlink_sources.broadcast(self.streamer.url)
            except streamlink_sources.StreamlinkUnavailable as exc:
                logger.warning("streamlink on %s failed: %s", self.streamer.url, exc)
                return []
            self.http = found.http
            return found.sources
        play, self.play = self.play, None
        try:
            if play is None:
                play = live.play_info(self.room.room_id, self._credential())
        except (BilibiliError, BilibiliUnavailable) as exc:
            logger.warning("Play info of room %s failed: %s", self.room.room_id, exc)
            return []
        self._note_quality(play)
        return play.urls

    def _note_quality(self, play: live.PlayInfo) -> None:
        """Put the stream's quality on record: below the room's best is said on the session
        (the worst part of it is kept) and, while recording, on the streamer."""
        if not play.urls:
            return
        best = play.urls[0]
        quality: RecordingProgress = {
            "stream": f"{best.format}/{best.codec}",
            "qn": play.qn,
            "origin_qn": play.origin_qn,
            "logged_out": self._credential() is None,
        }
        if quality != self.quality:
            # News for the pages, like a closed segment: the next heartbeat goes out at once.
            self.quality, self.beat_due = quality, True
        session = self.session

        def rank(qn: int) -> int:
            # qn is opaque: accept_qn's order is the ranking.
            return (
                best.accept_qn.index(qn)
                if qn in best.accept_qn
                else len(best.accept_qn)
            )

        worse = not session.stream_qn or rank(play.qn) > rank(session.stream_qn)
        fields = {
            "stream_format": self.quality["stream"],
            "origin_qn": play.origin_qn,
            "logged_out": self.quality["logged_out"],
            **({"stream_qn": play.qn} if worse else {}),
        }
        changed = [k for k, v in fields.items() if getattr(session, k) != v]
        if changed:
            for name in changed:
                setattr(session, name, fields[name])
            session.save(update_fields=changed)
            if play.below_origin:
                logger.info("Streamer %s: %s", self.streamer.pk, session.quality_note())

    def _loop(self) -> None:
        offline_since: float | None = None
        stuck_since: float | None = None  # live, and no stream delivers
        while True:
            self._beat(force=True)
            started = None
            # Fresh play URLs for every connection: they expire, so a reconnect never reuses one.
            sources = self._sources()
            fetched = time.monotonic()
            for url in sources:  # the next CDN when one fails
                if time.monotonic() - fetched > SOURCES_FRESH_SECONDS:
                    break
                pump = self._pump_flv if url.format == "flv" else self._pump_hls
                started = pump(url)
                if started is not None:
                    break
            if started is not None:
                offline_since = stuck_since = None
                self.not_streams = 0
                # The gap goes on record when media flows again (_resumed).
                self.lost_at = time.monotonic()
                continue
            if self.not_stream:  # something else than a stream: asked ever more slowly
                self.not_streams += 1
                if self.not_streams >= reach.NOT_A_STREAM_TRIES:
                    raise reach.NotAStream(f"{reach.NOT_A_STREAM}: {self.not_stream}")
                self.not_stream = ""
                self._sleep(2 ** (self.not_streams - 1))
                continue
            # Offline, or live with no stream that delivers: the grace delay bounds the wait.
            offline_since = offline_since or time.monotonic()
            stuck_since = (stuck_since or time.monotonic()) if sources else None
            stuck = time.monotonic() - stuck_since if stuck_since else -1.0
            if stuck >= STALLED_SECONDS and not self.stall_said:
                self.stall_said = True
                notices.recording_stalled(self.session, stuck, self._facts())
            if time.monotonic() - offline_since >= self.config.delay:
                return  # the broadcast is over
            poll = 1 if sources else OFFLINE_POLL_SECONDS
            self._sleep(min(poll, max(self.config.delay, 0.2)))

    def _use(self, kind: type[flv.Segmenter] | type[hls.HlsSegmenter] | None) -> Any:
        """The segmenter for this kind of stream; the other kind's file is closed first."""
        current = self.segmenter
        if current is not None and type(current) is not kind:
            self.segmenter = None
            current.close()
        if self.segmenter is None and kind is not None:
            self.segmenter = kind(
                self._next_path,
                split_time=self.streamer.split_time or None,
                split_size=self.streamer.split_size * MB or None,
                on_closed=self._closed,
            )
        return self.segmenter

    def _pump_hls(self, url: live.StreamUrl) -> float | None:
        """Follow one HLS playlist into files. The monotonic time media began, or None."""
        began = None
        previous = self.hls_sequence
        reader = cdn.HlsReader(
            self.http, url.url, last_sequence=previous, stall_seconds=STALL_SECONDS
        )
        try:
            for media in reader:
                if began is None:
                    began = time.monotonic()
                    seamless = previous is not None and media.sequence == previous + 1
                    self._resumed(seamless)
                elif media.sequence > self.hls_sequence + 1:
                    # Segments the CDN lost, or that left the window before we got them.
                    lost = (media.sequence - self.hls_sequence - 1) * media.duration
                    self._record_gap(timezone.now() - timedelta(seconds=lost), lost)
                self._use(hls.HlsSegmenter).feed(media)
                self.hls_sequence = media.sequence
                self.received += len(media.data)
                self._beat()
        except (cdn.CdnError, OSError) as exc:
            _stop_if_disk_full(exc)
            logger.info(
                "HLS of %s from %s ended: %s", self.streamer, url.cdn, _why(exc)
            )
        except cdn.HlsError as exc:
            logger.warning(
                "HLS of %s from %s is broken: %s", self.streamer, url.cdn, exc
            )
            if isinstance(exc, cdn.NotAPlaylist) and began is None:
                self.not_stream = str(exc)
        return began

    def _pump_flv(self, url: live.StreamUrl) -> float | None:
        """Stream one connection into the segmenter. The monotonic time data began, or None."""
        began = None
        try:
            with cdn.open_stream(self.http, url.url, STALL_SECONDS) as stream:
                said = reach.answer(stream.status_code, stream.headers)
                if stream.status_code != 200:
                    logger.warning("CDN %s answered %s", url.cdn, said)
                    # Bilibili's CDN answers 404 between a streamer's reconnects.
                    if self.room is None and 400 <= stream.status_code < 500:
                        self.not_stream = said
                    return None
                segmenter = self._use(flv.Segmenter)
                # The CDN starts a new pull with the last GOP it sent the previous one.
                segmenter.reconnected()
                for tag in flv.FlvReader(ChunkStream(self._counted(stream.chunks()))):
                    if began is None:
                        began = time.monotonic()
                        # What the connection missed is gone.
                        self._resumed(seamless=False)
                    segmenter.feed(tag)
                    self._beat()
        except (cdn.CdnError, OSError) as exc:
            _stop_if_disk_full(exc)
            # A drop, a reset or STALL_SECONDS without bytes: reconnect while the room is live.
            logger.info(
                "Stream of %s from %s ended: %s", self.streamer, url.cdn, _why(exc)
            )
        except flv.FlvError as exc:
            logger.warning(
                "Stream of %s from %s is broken: %s", self.streamer, url.cdn, exc
            )
            if isinstance(exc, flv.NotFlv):
                self.not_stream = f"{exc} ({said})"
        return began

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.received += len(chunk)
            yield chunk

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.shutting_down:
            time.sleep(0.1)

    def _resumed(self, seamless: bool) -> None:
        """Media flows again after a lost connection: its gap goes on record now, before the
        new connection's media is written, so it is listed on the file being written when it
        happened (or, if none was open, the next one), not on one that a later split opens."""
        if self.lost_at is not None and not seamless:
            self._gap(self.lost_at, time.monotonic())
        self.lost_at = None

    def _gap(self, lost_at: float, resumed_at: float) -> None:
        self._record_gap(
            timezone.now() - timedelta(seconds=time.monotonic() - lost_at),
            max(resumed_at - lost_at, 0.0),
        )

    def _record_gap(self, start: datetime, seconds: float) -> None:
        gap: GapDict = {"start": start.isoformat(), "seconds": round(seconds, 3)}
        self.session.gaps = [*self.session.gaps, gap]
        self.open_gaps.append(gap)
        self.session.save(update_fields=("gaps",))

    def _beat(self, force: bool = False) -> None:
        if self.shutting_down:
            raise StopRecording(
                "Stopped for a restart; the session continues when it comes back"
            )
        self._check_lost()
        now = time.monotonic()
        if not (force or self.beat_due) and now - self.last_beat < HEARTBEAT_SECONDS:
            return
        self.beat_due = False
        elapsed, self.last_beat = now - self.last_beat, now
        bitrate = (self.received - self.received_at_beat) * 8 / max(elapsed, 0.001)
        self.received_at_beat = self.received
        heartbeats.beat(
            self.streamer.pk, self.streamer.worker, self._progress(round(bitrate))
        )
        self._check_lost()
        self._release_db()

    def _check_lost(self) -> None:
        lost = heartbeats.lost(self.streamer.pk)
        if lost is not None:
            raise (TakenOver if lost.taken_over else StopRecording)(lost.reason)

    @staticmethod
    def _release_db() -> None:
        """Give this thread's database connection back: in the recorder service a hundred
        recordings must not hold a hundred PostgreSQL connections between their rare writes
        (the next query opens one). Not in a transaction, nor in the main thread, where a
        test's transaction may be open."""
        if not _main_thread() and not connection.in_atomic_block:
            connection.close()

    def _progress(self, bitrate: int) -> RecordingProgress:
        open_seconds = self.segmenter.open_duration if self.segmenter else 0.0
        return {
            "bytes": self.received,
            "bitrate": bitrate if self.last_beat else 0,
            "duration": round(self.closed_seconds + open_seconds, 3),
            "segments": self.closed_segments,
            "file": self.current_file,
            **self.quality,
        }

    def _start_chat(self) -> None:
        """A Bilibili room whose streamer wants its chat: an XML beside each segment."""
        if self.room is None or not self.streamer.record_danmaku:
            return
        info = self.room_info
        self.chat = danmaku.DanmakuRecorder(
            danmaku.RecordInfo(
                room_id=self.room.room_id,
                short_id=self.room.short_id,
                name=self.session.name,
                title=self.session.title,
                area_parent=info.parent_area_name if info else "",
                area_child=info.area_name if info else "",
            ),
            self._credential(),
            self._video_position,
            ass=self.streamer.danmaku_ass,
        )
        self.chat.start()

    def _video_position(self) -> tuple[float, float] | None:
        """Where the segment being written is (for the chat thread)."""
        segmenter = self.segmenter
        return segmenter.position() if segmenter is not None else None

    def _credential(self) -> dict[str, Any] | None:
        template = self.streamer.upload_template
        account = template.account if template else None
        usable = (
            account is not None
            and account.credential
            and account.status != account.Status.EXPIRED
        )
        return account.credential if usable else None

    def _next_path(self, suffix: str = ".flv") -> Path:
        directory = folder(self.streamer)
        free = shutil.disk_usage(directory).free
        free_mb = free // MB
        if free_mb < self.config.disk_reserve:
            raise DiskFull(
                f"Disk reserve reached: {free_mb} MB free, {self.config.disk_reserve} MB kept free"
            )
        stem = file_stem(self.streamer, self.session, timezone.now())
        for n in count():
            path = directory / (f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}")
            if not path.exists() and not path.with_name(path.name + ".part").exists():
                if danmaku.xml_beside(path).exists():
                    continue  # the chat of another segment of that name
                self.current_file = path.name
                if self.chat is not None:
                    self.chat.open(path)
                self._opening(path, free)
                return path
        raise AssertionError("unreachable")

    def _opening(self, path: Path, free: int) -> None:
        """A segment opens; the session's first is its start, for the user and the webhooks
        (one stopped before any, by a full disk or a room with no stream, started nothing)."""
        if free < 2 * self.config.disk_reserve * MB:
            notices.disk_low(path.parent, self.config.disk_reserve, free)
        facts, self.opened[str(path)] = self._facts(), timezone.now()
        if (
            not self.started_said
        ):  # (a resumed session's start was said: its key dedups)
            self.started_said = True
            notices.session_started(self.session, facts)
        notices.file_opening(self.session, path, self.opened[str(path)], facts)

    def _facts(self) -> notices.Room | None:
        """The room as the recorder knows it, for the events: no Bilibili call for them."""
        chat = self.chat is not None and self.chat.connected
        return notices.Room.of(self.room, self.room_info, danmaku_connected=chat)

    def _failed(self, reason: str, disk_full: bool = False) -> None:
        """The recording ends on an error: the user hears of it (and of the disk, if full)."""
        if disk_full:
            notices.disk_low(folder(self.streamer), self.config.disk_reserve)
        notices.recording_failed(self.streamer, reason, self.session, self._facts())

    def _closed(self, segment: flv.Segment) -> None:
        file = RecordingFile.objects.create(
            streamer_info=self.session,
            path=str(segment.path),
            size=segment.size,
            duration=segment.duration,
            gaps=self.open_gaps,
            **danmaku.closed(self.chat, segment),
        )
        self.open_gaps = []
        self.closed_seconds += segment.duration
        self.closed_segments += 1
        self.beat_due = True
        self.current_file = ""
        logger.info(
            "Closed %s (%.1f s, %d bytes)", segment.path, segment.duration, segment.size
        )
        notices.file_closed(
            file, self.opened.pop(str(segment.path), None), self._facts()
        )
        announce(file, tell=False)
