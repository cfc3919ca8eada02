"""Adding, changing and pausing streamers: what the API and the streamers page both do."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from recorder.forms import StreamerForm
from recorder.models import Streamer


def save(form: StreamerForm) -> Streamer | None:
    """Save a valid form. None, with the error on the form's url field, when a concurrent
    request took the URL after the form checked it (no 500 for that race). An edit is the
    user acting: a live that could not be recorded, or a source that ended in error, is checked
    again at once."""
    try:
        with transaction.atomic():
            streamer = form.save()
    except IntegrityError:
        form.add_error("url", form.fields["url"].error_messages["unique"])
        return None
    lifted = streamer.lift_restriction()
    if (lifted or streamer.state == Streamer.State.ERROR) and not streamer.paused:
        transaction.on_commit(streamer.enqueue_check)
    return streamer


def create(form: StreamerForm) -> Streamer | None:
    """Save a new streamer (as save()) and check its room once the row is committed."""
    streamer = save(form)
    if streamer is not None:
        transaction.on_commit(streamer.enqueue_check)
    return streamer


def toggle_pause(streamer: Streamer) -> None:
    """Pause or resume; a resumed room is checked at once, not at the watcher's next round
    (even one whose live could not be recorded: the user acted)."""
    streamer.toggle_pause()
    streamer.lift_restriction()
    if not streamer.paused:
        transaction.on_commit(streamer.enqueue_check)
