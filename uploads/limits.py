"""What holds an upload's speed, as UploadJob.limited_by stores it and its row says it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CAP = "cap"  # the configuration's rate cap
SCHEDULE = "schedule"  # the schedule's rate for this time of day
ACCOUNT = "account"  # the account's own cap
LINE = "line"  # the connections a UPOS line allows
CONNECTIONS = "connections"  # the connection budget all uploads share

NOTES = {
    CAP: _("Held by the upload speed cap (Settings)."),
    SCHEDULE: _("Held by the upload schedule's cap for this time of day (Settings)."),
    ACCOUNT: _("Held by this account's upload speed cap (Accounts)."),
    LINE: _(
        "At the most connections this upload line allows (Settings, connections per line)."
    ),
    CONNECTIONS: _(
        "At its share of the connections all uploads may use (Settings, connections)."
    ),
}


def note(code: str) -> str:
    """The sentence a job's row shows for `code`, or ""."""
    return str(NOTES.get(code, ""))
