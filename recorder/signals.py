"""What the recorder tells the rest of the site.

segment_closed(sender=RecordingFile, file=RecordingFile): a segment was closed, renamed from its
.part and recorded as a file of its session. Sent in the recording worker, after the row is
saved; the upload pipeline listens to queue it. It is sent with send_robust: a failing receiver
is logged and the recording goes on.
"""

from __future__ import annotations

from django.dispatch import Signal

segment_closed = Signal()

# session_ended(sender=StreamerInfo, session=StreamerInfo): the live session is over (the room
# stayed offline past the grace delay, or it was paused or deleted); end_time is saved. Not sent
# when the worker stops for a restart: the session goes on after it.
session_ended = Signal()
