"""Live chat beside the video: each segment of a Bilibili room gets an XML file of the same stem
holding the chat that arrived while it was written, in BililiveRecorder's danmaku format (what
DanmakuFactory and biliass read), and, if the streamer wants it, an ASS subtitle made from it.

The XML is a valid document after every write: it always ends with the root's closing tag, and
each message overwrites that tag with itself and the tag again in one write, so a recorder
killed at any moment leaves a file that parses. A message's time is its place in the video of
the segment being written (the segmenter's written duration plus the wall time since that
write), so it shows with the picture it arrived with.

The chat runs in a daemon thread per recording (biliup_site.bilibili.chat.ChatClient); nothing
it does can disturb the video: its failures are logged, never raised into the recorder.

Reference: /work/shared/reference/bilibili-2026.md "Live chat (danmaku)".
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

import biliass
from django.utils import timezone

from biliup_site.bilibili.chat import ChatClient, ChatMessage
from recorder import flv
from recorder.files import PART, Segment, part_of

logger = logging.getLogger(__name__)

KINDS = ("danmaku", "superchat", "gift", "guard")
CLOSE = b"</i>\n"
# How far past the last write a message may be placed: the wall time since it stands for video
# still on its way, but not for a stall (the video goes on from where it stopped).
MAX_AHEAD_SECONDS = 6.0
STOP_SECONDS = 5.0  # how long stop() waits for the chat thread
# Messages kept while no segment is open (a split, the first frame not yet written).
HELD_MESSAGES = 1000
DEFAULT_STAGE = (1920, 1080)

# What XML 1.0 cannot hold (and BililiveRecorder drops too): C0 controls other than tab, newline
# and carriage return, C1 controls, lone surrogates (a str holds pairs as one code point), BOM
# and the non-characters U+FFFE and U+FFFF.
_INVALID = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]"
)
# Downstream tools (biliass's quick-xml) resolve the named entities only, no character
# references: so none are written. In attributes a parser would turn these into spaces anyway.
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": " ",
        "\r": " ",
        "\t": " ",
    }
)


def _text(value: object) -> str:
    return _INVALID.sub("", str(value)).translate(_TEXT)


def _escape(value: object) -> str:
    """An attribute value."""
    return _INVALID.sub("", str(value)).translate(_ATTRIBUTE)


def _number(value: float) -> str:
    """30.0 as "30", 0.5 as "0.5"."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# Messages of each kind: {"danmaku": n, "superchat": n, "gift": n, "guard": n}.
Counts = dict[str, int]


class DanmakuFields(TypedDict, total=False):
    """RecordingFile's danmaku fields, to create or update it with."""

    danmaku_path: str
    danmaku_ass_path: str
    danmaku_counts: Counts


def no_counts() -> Counts:
    return dict.fromkeys(KINDS, 0)


@dataclass(frozen=True)
class RecordInfo:
    """The room, as BililiveRecorderRecordInfo names it."""

    room_id: int
    short_id: int = 0
    name: str = ""
    title: str = ""
    area_parent: str = ""
    area_child: str = ""


def element(message: ChatMessage, ts: float) -> str:
    """One message as its BililiveRecorder element (one line), `ts` seconds into the video."""
    user, uid = _escape(message.uname), int(message.uid)
    at = f"{max(ts, 0.0):.3f}"
    if message.kind == "danmaku":
        p = (
            f"{at},{int(message.mode)},{int(message.size)},{int(message.color)},"
            f"{int(message.sent_ms)},0,{uid},0"
        )
        return f'<d p="{p}" user="{user}" uid="{uid}">{_text(message.text)}</d>'
    if message.kind == "superchat":
        return (
            f'<sc ts="{at}" user="{user}" uid="{uid}" price="{_number(message.price)}"'
            f' time="{int(message.duration)}">{_text(message.text)}</sc>'
        )
    if message.kind == "gift":
        return (
            f'<gift ts="{at}" user="{user}" uid="{uid}"'
            f' giftname="{_escape(message.gift_name)}" giftcount="{int(message.count)}"/>'
        )
    if message.kind == "guard":
        return (
            f'<guard ts="{at}" user="{user}" uid="{uid}"'
            f' level="{int(message.guard_level)}" count="{int(message.count)}"/>'
        )
    raise ValueError(f"not a kind of chat message kept: {message.kind}")


def header(info: RecordInfo, start: datetime) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<i>\n"
        "  <chatserver>chat.bilibili.com</chatserver>\n"
        "  <chatid>0</chatid>\n"
        "  <mission>0</mission>\n"
        "  <maxlimit>1000</maxlimit>\n"
        "  <state>0</state>\n"
        "  <real_name>0</real_name>\n"
        "  <source>0</source>\n"
        f'  <BililiveRecorderRecordInfo roomid="{int(info.room_id)}"'
        f' shortid="{int(info.short_id)}" name="{_escape(info.name)}"'
        f' title="{_escape(info.title)}" areanameparent="{_escape(info.area_parent)}"'
        f' areanamechild="{_escape(info.area_child)}"'
        f' start_time="{start.isoformat()}"/>\n'
    )


class XmlWriter:
    """A danmaku XML file written message by message; a valid document after every write."""

    def __init__(
        self, path: Path, info: RecordInfo, start: datetime | None = None
    ) -> None:
        self.path = path
        self.start = start or timezone.localtime()
        self.counts = no_counts()
        self.last_ts = 0.0
        self.failed = False  # a write failed (a full disk): no more are tried
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        data = header(info, self.start).encode()
        self._end = 0  # where the closing tag starts
        try:
            self._put(data)
        except OSError:
            os.close(self._fd)
            raise

    def _put(self, data: bytes) -> None:
        """Write data and the closing tag over the closing tag, in one write (more only if the
        kernel takes less)."""
        buf = memoryview(data + CLOSE)
        at = self._end
        try:
            while buf:
                written = os.pwrite(self._fd, buf, at)
                buf, at = buf[written:], at + written
        except OSError:
            # Part of it may be there (a full disk): the closing tag goes back where it was,
            # over bytes already on disk, and what followed it is cut.
            try:
                os.pwrite(self._fd, CLOSE, self._end)
                os.ftruncate(self._fd, self._end + len(CLOSE))
            except OSError:
                pass  # recover()'s repair() can still mend it
            raise
        self._end += len(data)

    def append(self, message: ChatMessage, ts: float) -> None:
        line = f"  {element(message, ts)}\n".encode()
        self._put(line)
        self.counts[message.kind] += 1
        self.last_ts = max(self.last_ts, ts)

    def close(self) -> None:
        os.close(self._fd)


def read_counts(path: Path) -> Counts:
    """How many messages of each kind the XML holds; raises ET.ParseError if it does not parse."""
    counts = no_counts()
    tags = {"d": "danmaku", "sc": "superchat", "gift": "gift", "guard": "guard"}
    for _event, elem in ET.iterparse(path):
        kind = tags.get(elem.tag)
        if kind is not None:
            counts[kind] += 1
        elem.clear()
    return counts


def repair(path: Path) -> bool:
    """Make an XML a dead writer cut off parse again: drop its last (half-written) elements and
    close the root. True if it parses now."""
    try:
        read_counts(path)
        return True
    except ET.ParseError:
        pass
    data = path.read_bytes()
    # Every element starts a line with two spaces and "<"; in a message's text "<" is escaped.
    end = len(data)
    for _attempt in range(4):
        end = data.rfind(b"\n  <", 0, end)
        if end < 0:
            return False
        kept = data[: end + 1] + CLOSE
        try:
            ET.fromstring(kept)
        except ET.ParseError:
            continue
        path.write_bytes(kept)
        return True
    return False


def make_ass(xml: Path, video: Path) -> Path | None:
    """The ASS subtitle (biliass) beside the XML, sized to the video; None if it failed (logged:
    a subtitle is never worth a recording)."""
    try:
        width, height = _stage(video)
        ass = biliass.convert_to_ass(
            xml.read_text(encoding="utf-8"),
            width,
            height,
            font_size=round(height / 27),
            text_opacity=0.8,
            duration_marquee=12.0,
            duration_still=6.0,
        )
        path = xml.with_suffix(".ass")
        path.write_text(ass, encoding="utf-8")
        return path
    except Exception:
        # biliass is a native library: whatever it raises, the segment stays on record.
        logger.exception("Could not make an ASS subtitle from %s", xml)
        return None


def _stage(video: Path) -> tuple[int, int]:
    """The video's picture size (an FLV's onMetaData), 1920×1080 when unknown."""
    if video.suffix == ".flv":
        try:
            meta = flv.read_metadata(video)
        except (OSError, ValueError):
            return DEFAULT_STAGE
        width, height = meta.get("width"), meta.get("height")
        if (
            isinstance(width, int | float)
            and isinstance(height, int | float)
            and min(width, height) >= 16
        ):
            return int(width), int(height)
    return DEFAULT_STAGE


def xml_beside(video: Path) -> Path:
    return video.with_suffix(".xml")


def _finish(xml: Path, video: Path, counts: Counts, ass: bool) -> DanmakuFields:
    """Give a closed XML the video's stem (claim() may have picked another name than asked),
    make its ASS if wanted; the fields for the video's RecordingFile."""
    target = xml_beside(video)
    if target != xml and not target.exists():
        xml.rename(target)
        xml = target
    fields: DanmakuFields = {"danmaku_path": str(xml), "danmaku_counts": counts}
    if ass:
        made = make_ass(xml, video)
        if made is not None:
            fields["danmaku_ass_path"] = str(made)
    return fields


def recovered(part: Path, video: Path, ass: bool = False) -> DanmakuFields:
    """The chat of a segment a dead recorder left (`part`, finalized as `video`): its XML,
    repaired if the kill cut a write, counted; {} if it has none."""
    xml = part.with_name(Path(part.name.removesuffix(PART)).stem + ".xml")
    if not xml.is_file():
        return {}
    try:
        if not repair(xml):
            logger.warning("%s does not parse; not attached to %s", xml, video)
            return {}
        return _finish(xml, video, read_counts(xml), ass)
    except OSError as exc:
        logger.warning("Could not attach %s to %s: %s", xml, video, exc)
        return {}


Position = Callable[[], "tuple[float, float] | None"]


class DanmakuRecorder:
    """The chat of one recording: a ChatClient thread, an XML beside each segment.

    open() when the recorder opens a segment, close() when the segment closes (both from the
    recording thread), stop() when the recording ends. `position()` gives the segment being
    written's (seconds written, time.monotonic() of that write), None when none is open.
    """

    def __init__(
        self,
        info: RecordInfo,
        credential: dict[str, Any] | None,
        position: Position,
        ass: bool = False,
    ) -> None:
        self.info = info
        self.credential = credential
        self.position = position
        self.ass = ass
        # Messages that came while no segment was open (before the first frame, or between a
        # segment's close and the next one's open): written at the start of the next segment.
        self._held: deque[ChatMessage] = deque(maxlen=HELD_MESSAGES)
        # Messages not written: held past HELD_MESSAGES, left when the recording ended, or
        # refused by the disk.
        self.dropped = 0
        self._dropped_logged = 0
        self._writer: XmlWriter | None = None
        self._video: Path | None = None  # what the open XML is beside
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.client: ChatClient | None = None

    @property
    def connected(self) -> bool:
        return self.client is not None and bool(self.client.connected)

    def start(self) -> None:
        """Connect to the room's chat in a daemon thread. Never raises."""
        try:
            self.client = ChatClient(
                self.info.room_id, self.credential, self._on_message
            )
            self._thread = threading.Thread(
                target=self._run, name=f"chat-{self.info.room_id}", daemon=True
            )
            self._thread.start()
        except Exception:
            logger.exception("Room %s: the chat could not start", self.info.room_id)

    def _run(self) -> None:
        assert self.client is not None
        try:
            self.client.run(self._stop)
        except Exception:
            logger.exception("Room %s: the chat stopped", self.info.room_id)

    def _on_message(self, message: ChatMessage, held: bool = False) -> None:
        if message.kind not in KINDS:
            return
        with self._lock:
            writer = self._writer
            if writer is None:
                if len(self._held) == self._held.maxlen:
                    self.dropped += 1
                self._held.append(message)
                return
            if writer.failed:
                self.dropped += 1
                return
            try:
                writer.append(message, 0.0 if held else self._time(message, writer))
            except OSError as exc:
                # A full disk: the XML keeps what it has (it parses), the video goes on.
                writer.failed = True
                logger.warning("No more chat in %s: %s", writer.path, exc)
            except Exception:
                # A bug with one message must not end the chat of a 24/7 recording.
                logger.exception(
                    "Room %s: a chat message was not written", self.info.room_id
                )

    def _time(self, message: ChatMessage, writer: XmlWriter) -> float:
        """Where the message goes in the video being written (seconds)."""
        position = self.position()
        if position is None:
            # Between the segment's last write and its close, or before its first frame.
            return writer.last_ts
        written, at = position
        late = max(time.time() - message.received, 0.0)
        ahead = min(max(time.monotonic() - at - late, 0.0), MAX_AHEAD_SECONDS)
        return written + ahead

    def open(self, video: Path) -> None:
        """The recorder opens `video`: the chat goes to the XML beside it from now on."""
        with self._lock:
            self._drop_writer()
            try:
                self._writer = XmlWriter(xml_beside(video), self.info)
                self._video = video
            except OSError as exc:
                logger.warning("No chat for %s: %s", video, exc)
            held, self._held = list(self._held), deque(maxlen=HELD_MESSAGES)
        for message in held:
            self._on_message(message, held=True)
        self._log_dropped()

    def close(self, segment: Segment) -> DanmakuFields:
        """The segment closed: its XML is closed too. The fields for its RecordingFile."""
        with self._lock:
            writer, self._writer = self._writer, None
            self._video = None
            if writer is None:
                return {}
            try:
                writer.close()
            except OSError:
                pass
        try:
            return _finish(writer.path, segment.path, writer.counts, self.ass)
        except OSError as exc:
            logger.warning("Could not keep the chat of %s: %s", segment.path, exc)
            return {}

    def halt(self) -> None:
        """Tell the chat thread to end, without waiting for it."""
        self._stop.set()

    def stop(self) -> None:
        """The recording ended: stop the chat thread, close what is open."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_SECONDS)
        with self._lock:
            self._drop_writer()
            self.dropped += len(self._held)
            self._held.clear()
        self._log_dropped()

    def _drop_writer(self) -> None:
        """Close an XML whose segment never closed: kept beside a .part left for recover(),
        removed if its video was not kept (nothing decodable in it). Lock held."""
        writer, self._writer = self._writer, None
        video, self._video = self._video, None
        if writer is None:
            return
        try:
            writer.close()
            if video is not None and not (video.exists() or part_of(video).exists()):
                writer.path.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("Could not close %s: %s", writer.path, exc)

    def _log_dropped(self) -> None:
        dropped = self.dropped - self._dropped_logged
        if dropped:
            self._dropped_logged = self.dropped
            logger.info(
                "Room %s: %d chat messages dropped: no segment took them",
                self.info.room_id,
                dropped,
            )


def closed(chat: DanmakuRecorder | None, segment: Segment) -> DanmakuFields:
    """close() of the recording's chat, {} when it records none. Never raises."""
    if chat is None:
        return {}
    try:
        return chat.close(segment)
    except Exception:
        logger.exception("The chat of %s was not kept", segment.path)
        return {}
