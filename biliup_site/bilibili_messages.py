"""What a Bilibili error code means to a person: a translated sentence, the next step, and what
must change (the template, the account, nothing but time, or nothing we can change).

Bilibili's own messages are Chinese, terse ("参数错误") or the code itself ("-352"); wrapped in
English they told neither reader what to do. explain() is the one place that turns a code into
words for the pages: uploads (a failed or paused job keeps the code, UploadJob.explanation), the
account page (QR login, a check, a logout Bilibili reported) and the attention strip, which links
to `fix`. The JSON API keeps str(BilibiliError), in English, for scripts.

Reference: /work/shared/reference/bilibili-protocol.md §1 (login codes) and §8 (error codes);
bilibili-2026.md "Upload and submit" (601, 21566, 137022, 21590, 21006). 16025 is the tag
check's refusal (tests/fakebili/member.py); 61000 is an expired login key in older passport
flows, not in our protocol doc, and read like 86038.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from biliup_site.bilibili import BilibiliError

# What the person must change for the next try to succeed; pages link to it:
# "template" → the upload template, "account" → the Bilibili account (log in again),
# "wait" → nothing: time fixes it (the job goes on by itself or a retry later works),
# "none" → nothing in this site fixes it (Bilibili's side, a bug or a changed API).
Fix = Literal["template", "account", "wait", "none"]


@dataclass(frozen=True)
class Entry:
    sentence: Promise
    next_step: Promise
    fix: Fix


@dataclass(frozen=True)
class Explanation:
    """One refusal in words, in the language active when explain() was called."""

    code: int
    sentence: str
    next_step: str
    fix: Fix
    # Bilibili's own message, as it came ("" when it said nothing but the code).
    message: str
    known: bool
    # The sentence, the next step and the code in one line, to show, search or report.
    line: str

    def __str__(self) -> str:
        return self.line


_LOG_IN_AGAIN = _("Log the account in again by QR code under Accounts, then retry.")
_WAIT_RISK = _(
    "Wait half an hour or so, then try again. If it keeps happening, check fewer rooms "
    "or creators, or less often."
)
_WAIT_SERVER = _("Try again in a few minutes: nothing needs to change here.")
_TOO_MANY = _("Bilibili refuses requests from this machine as too frequent.")
_SUBMIT_TOO_OFTEN = _("Bilibili refuses this account's submissions as too frequent.")
_SUBMIT_TOO_OFTEN_NEXT = _(
    "The uploaded files are kept and the submission is tried again later by itself. "
    "Submitting one video in the official Bilibili app and passing its captcha clears "
    "this sooner."
)
_QR_EXPIRED = _("The QR code expired before it was confirmed in the app.")
_QR_EXPIRED_NEXT = _("Get a new QR code and confirm it in the app within 3 minutes.")
_REPORT = _(
    "Nothing on this site can fix it: Bilibili may have changed. Report it with the log."
)

TABLE: dict[int, Entry] = {
    # §8 common codes: the login.
    -101: Entry(
        _("Bilibili says this account is not logged in."), _LOG_IN_AGAIN, "account"
    ),
    -2: Entry(
        _("Bilibili no longer accepts this account's app token."),
        _LOG_IN_AGAIN,
        "account",
    ),
    -658: Entry(_("This account's app token has expired."), _LOG_IN_AGAIN, "account"),
    -663: Entry(
        _("This account's app token belongs to another Bilibili client."),
        _("Log the account in again with the TV QR code under Accounts, then retry."),
        "account",
    ),
    -111: Entry(
        _(
            "Bilibili's CSRF check failed: the account's stored cookies are incomplete "
            "or out of date."
        ),
        _LOG_IN_AGAIN,
        "account",
    ),
    -102: Entry(
        _("Bilibili has banned this account."),
        _(
            "Look at the account in the Bilibili app; nothing can be uploaded with it "
            "until Bilibili lifts the ban."
        ),
        "account",
    ),
    -403: Entry(
        _("This account is not allowed to do that."),
        _(
            "Check that the archive or collection belongs to the account the template "
            "uploads with."
        ),
        "template",
    ),
    # §8: risk control and rate limits.
    -352: Entry(
        _("Bilibili's risk control took the request for a robot."), _WAIT_RISK, "wait"
    ),
    -412: Entry(
        _("Bilibili's risk control blocked this machine's IP address for a while."),
        _WAIT_RISK,
        "wait",
    ),
    -702: Entry(_TOO_MANY, _WAIT_RISK, "wait"),
    -799: Entry(_TOO_MANY, _WAIT_RISK, "wait"),
    -509: Entry(_TOO_MANY, _WAIT_RISK, "wait"),
    # §8: Bilibili's own trouble.
    -500: Entry(_("Bilibili had a server error."), _WAIT_SERVER, "wait"),
    -503: Entry(_("Bilibili is overloaded."), _WAIT_SERVER, "wait"),
    -8888: Entry(_("Bilibili had a server error."), _WAIT_SERVER, "wait"),
    # §8: the request itself.
    -1: Entry(_("Bilibili refused the client this site speaks as."), _REPORT, "none"),
    -3: Entry(_("Bilibili refused the request's signature."), _REPORT, "none"),
    -400: Entry(_("Bilibili refused the request as malformed."), _REPORT, "none"),
    -404: Entry(
        _("Bilibili found nothing there: it may have been deleted."),
        _("Check that the archive, room or collection still exists."),
        "none",
    ),
    -616: Entry(
        _("Bilibili no longer has an uploaded file of this video."),
        _(
            "Retry the job. If it fails the same way, cancel it and upload the "
            "recordings again."
        ),
        "none",
    ),
    -617: Entry(
        _("The file is larger than Bilibili takes."),
        _(
            "Record shorter segments (the streamer's split size or time), then upload "
            "the new ones."
        ),
        "none",
    ),
    # bilibili-2026.md: upload and submit.
    601: Entry(
        _(
            "Bilibili takes no more uploads from this account for now (about 20 files "
            "an hour)."
        ),
        _(
            "Nothing to do: the account's uploads wait and go on by themselves. A lower "
            '"preuploads an hour" on the account keeps under the limit.'
        ),
        "wait",
    ),
    21566: Entry(_SUBMIT_TOO_OFTEN, _SUBMIT_TOO_OFTEN_NEXT, "wait"),
    137022: Entry(_SUBMIT_TOO_OFTEN, _SUBMIT_TOO_OFTEN_NEXT, "wait"),
    # Unconfirmed (§8): handled like 137022.
    21070: Entry(_SUBMIT_TOO_OFTEN, _SUBMIT_TOO_OFTEN_NEXT, "wait"),
    21590: Entry(
        _("Bilibili closed this submission route (the old client route) in 2025."),
        _(
            "Choose the app or web submission route in the template (or in Settings), "
            "then retry."
        ),
        "template",
    ),
    -2100: Entry(
        _("Bilibili wants a newer client for this submission route."),
        _(
            "Choose another submission route in the template (or in Settings), then "
            "retry."
        ),
        "template",
    ),
    21150: Entry(
        _("Bilibili upgraded this submission entry and refused the archive."),
        _(
            "Choose another submission route in the template (or in Settings), then "
            "retry."
        ),
        "template",
    ),
    21006: Entry(
        _("The scheduled publishing time must be 2 hours to 15 days ahead."),
        _(
            "Change the template's scheduled publishing time, or clear it, then retry. "
            "The files are uploaded and stay so."
        ),
        "template",
    ),
    21001: Entry(
        _("Bilibili refused the video's settings as invalid."),
        _(
            "Check the template's category, tags, copyright and source, then retry. "
            "The files are uploaded and stay so."
        ),
        "template",
    ),
    21103: Entry(
        _("The title is too long: Bilibili takes at most 80 characters."),
        _("Shorten the template's title, then retry."),
        "template",
    ),
    16025: Entry(
        _("Bilibili refused one of the tags (a banned tag)."),
        _("Remove or change that tag in the template, then retry."),
        "template",
    ),
    # §1: QR login.
    86038: Entry(_QR_EXPIRED, _QR_EXPIRED_NEXT, "account"),
    61000: Entry(_QR_EXPIRED, _QR_EXPIRED_NEXT, "account"),
    86039: Entry(
        _("The QR code has not been confirmed in the app yet."),
        _("Scan it with the Bilibili app and confirm the login."),
        "wait",
    ),
    86090: Entry(
        _("The QR code was scanned but not confirmed yet."),
        _("Confirm the login in the Bilibili app."),
        "wait",
    ),
    86101: Entry(
        _("The QR code has not been scanned yet."),
        _("Scan it with the Bilibili app and confirm the login."),
        "wait",
    ),
}


def explain(code: int, message: str = "") -> Explanation:
    """The code in words, in the active language. An unknown code keeps Bilibili's own
    message (it is Chinese already) with a generic next step."""
    # Bilibili often repeats the code as the message ("-352"); that says nothing.
    message = "" if message.strip() == str(code) else message.strip()
    entry = TABLE.get(code)
    if entry is not None:
        sentence, next_step = str(entry.sentence), str(entry.next_step)
        line = gettext("%(sentence)s %(next_step)s (code %(code)s)") % {
            "sentence": sentence,
            "next_step": next_step,
            "code": code,
        }
        return Explanation(code, sentence, next_step, entry.fix, message, True, line)
    if message:
        sentence = gettext("Bilibili refused: %(message)s (code %(code)s).") % {
            "message": message,
            "code": code,
        }
    else:
        sentence = gettext("Bilibili refused with code %(code)s.") % {"code": code}
    next_step = gettext(
        "Retry later. If it keeps failing the same way, look in the log and report the code."
    )
    # The sentence names the code already.
    line = f"{sentence} {next_step}"
    return Explanation(code, sentence, next_step, "none", message, False, line)


def explain_error(exc: BilibiliError) -> Explanation:
    return explain(exc.code, exc.message)


def reason(exc: BilibiliError) -> str:
    """A one-line reason to store (an account's status), with the code kept for searching.
    In the site's language (BILIUP_LANGUAGE), as the other stored messages are: it is read
    later, on a page, in a notice or in the API."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("%(sentence)s (Bilibili code %(code)s)") % {
            "sentence": explain_error(exc).sentence,
            "code": exc.code,
        }
