"""A failed upload job in plain words: why, the next step, the page where the fix is made, and
whether Retry can succeed now. The job's row shows it (UploadJob.failure_help).

A refusal by Bilibili carries its code, explained by biliup_site.bilibili_messages
(UploadJob.explanation). Every other failure is a sentence the worker wrote (uploads/upload.py's
preflight, runner.py, upos_upload.py, openplatform_upload.py), read here for what must change.

A retry re-reads the job's template and its account (uploads/upload.py: retry), so a failure
that needs either changed cannot succeed on Retry until it is: the row says so beside the
button, and says when the template or the account was changed after the failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from django.urls import reverse
from django.utils.translation import gettext

# "ready": Retry can succeed as things are; "after_fix": only once the fix is made;
# "never": Retry repeats the same failure (the files changed, or no template to change).
Retry = Literal["ready", "after_fix", "never"]

# Where on the template's page each kind of template problem is fixed.
TEMPLATE_FIELDS = {
    21006: "field-dtime",
    21103: "field-title",
    16025: "field-tag",
    21001: "tid-field",
    127207: "tid-field",
}
ACTIVE = "active"  # BilibiliAccount.Status.ACTIVE


class Job(Protocol):
    """The fields of UploadJob read here (the model imports this module)."""

    pk: Any
    status: str
    error: str
    finished: datetime | None
    template: Any
    account: Any
    params: dict[str, Any]

    @property
    def explanation(self) -> Any: ...


@dataclass(frozen=True)
class FailureHelp:
    reason: str  # why, in the reader's language when it was Bilibili's refusal
    next_step: str  # what to do, in plain words
    fix_url: str  # the page where the change is made; "" when none is needed
    fix_label: str
    retry: Retry
    said: str = ""  # Bilibili's own message, as it came


def explain(job: Job) -> FailureHelp:
    explanation = job.explanation
    if explanation is not None:
        return _refusal(job, explanation)
    return _from_reason(job, job.error or gettext("No reason was recorded."))


def _refusal(job: Job, explanation: Any) -> FailureHelp:
    """Bilibili refused, with a code bilibili_messages knows what to do about."""
    reason, step = explanation.sentence, explanation.next_step
    said = explanation.message if explanation.known else ""
    if explanation.fix == "template":
        anchor = TEMPLATE_FIELDS.get(explanation.code, "")
        return _template_fix(job, reason, step, anchor, said)
    if explanation.fix == "account":
        return _account_fix(job, reason, step, said)
    return FailureHelp(reason, step, "", "", "ready", said)


def _from_reason(job: Job, reason: str) -> FailureHelp:
    """A failure the worker described: what it names decides the fix."""
    text = reason.lower()
    name = _template_name(job)
    if "gone from the recordings folder" in text or "changed size since" in text:
        return FailureHelp(
            reason,
            gettext(
                "A file is gone or changed since the upload was queued, so a retry fails "
                "the same way. Tick the segments again on the Recordings page and upload them."
            ),
            reverse("recordings"),
            gettext("Open Recordings"),
            "never",
        )
    if "category" in text:
        step = gettext("Choose another category in the template %(name)s, then retry.")
        return _template_fix(job, reason, step % {"name": name}, "tid-field")
    if "open platform settings" in text or "in the configuration" in text:
        return FailureHelp(
            reason,
            gettext(
                "Fill in the Open Platform settings (client id, app secret, access "
                "token), then retry."
            ),
            reverse("settings"),
            gettext("Open Settings"),
            "after_fix",
        )
    if "no tags" in text:
        step = gettext("Add 1 to 10 tags to the template %(name)s, then retry.")
        return _template_fix(job, reason, step % {"name": name}, "field-tag")
    if "cover" in text and ("template" in text or "5 mb" in text):
        step = gettext("Fix the cover of the template %(name)s, then retry.")
        return _template_fix(job, reason, step % {"name": name}, "field-cover")
    if "scheduled publishing time" in text:
        step = gettext(
            "Change or clear the scheduled publishing time of the template %(name)s, "
            "then retry."
        )
        return _template_fix(job, reason, step % {"name": name}, "field-dtime")
    if "user_cookie" in text:
        step = gettext(
            "Choose the Bilibili account to upload with in the template %(name)s, then "
            "retry."
        )
        return _template_fix(job, reason, step % {"name": name}, "field-user_cookie")
    if any(
        words in text
        for words in ("logged out", "has no login", "no bilibili account named")
    ):
        step = gettext(
            "Log the account in by QR code on the Accounts page (or import its "
            "cookies file), then retry."
        )
        return _account_fix(job, reason, step)
    if "retr" in text or "could not" in text or "failed" in text:
        # "the job can be retried", "retry the job later", "Preupload failed 5 times": the
        # network or Bilibili's side; what was sent is kept.
        step = gettext(
            "Nothing needs to change here: retry. What was already sent is kept."
        )
        return FailureHelp(reason, step, "", "", "ready")
    step = gettext("Read the reason; once its cause is fixed, retry.")
    if job.template is not None:
        return FailureHelp(reason, step, *_template_link(job, ""), "ready")
    return FailureHelp(reason, step, "", "", "ready")


def _template_name(job: Job) -> str:
    if job.template is not None:
        return str(job.template.template_name)
    return str(job.params.get("template_name") or "")


def _template_link(job: Job, anchor: str) -> tuple[str, str]:
    url = reverse("templates-edit", args=[job.template.pk])
    label = gettext("Edit template %(name)s") % {"name": job.template.template_name}
    return (f"{url}#{anchor}" if anchor else url), label


def _template_fix(
    job: Job, reason: str, step: str, anchor: str, said: str = ""
) -> FailureHelp:
    if job.template is None:
        # A retry takes the job's own settings again: nothing on a page changes them.
        return FailureHelp(
            reason,
            gettext(
                "This upload has no template to fix, so a retry fails the same way. "
                "Upload its files again from the Recordings page with a template that "
                "is right."
            ),
            reverse("recordings"),
            gettext("Open Recordings"),
            "never",
            said,
        )
    url, label = _template_link(job, anchor)
    if _changed_since(job.template, job):
        step = gettext(
            "The template %(name)s was changed after this failure: retry to upload with "
            "it as it is now."
        ) % {"name": job.template.template_name}
        return FailureHelp(reason, step, url, label, "ready", said)
    return FailureHelp(reason, step, url, label, "after_fix", said)


def _account_fix(job: Job, reason: str, step: str, said: str = "") -> FailureHelp:
    # A retry uploads with the template's account as it is then; without a template, the job's.
    account = job.template.account if job.template is not None else job.account
    url = reverse("accounts")
    if account is not None:
        url += f"#account-{account.pk}"
        if account.status == ACTIVE and _changed_since(account, job):
            step = gettext(
                "The account %(name)s was logged in again after this failure: retry."
            ) % {"name": account.value}
            return FailureHelp(
                reason, step, url, gettext("Open Accounts"), "ready", said
            )
    return FailureHelp(reason, step, url, gettext("Open Accounts"), "after_fix", said)


def _changed_since(thing: Any, job: Job) -> bool:
    updated = getattr(thing, "updated", None)
    return bool(updated and job.finished and updated > job.finished)
