from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import cookiefile, credentials
from accounts.models import BilibiliAccount
from biliup_site.api import ApiError
from biliup_site.bilibili.submit import ScheduleRefused, check_dtime
from biliup_site.forms import JsonModelForm, clean_line
from uploads import collections, submit_form
from uploads.models import UploadTemplate

# biliup's own names for fields the documented API names differently.
ALIASES = {
    "copyright_source": "source",
    "description": "desc",
    "cover_path": "cover",
    "charging_pay": "open_elec",
    "human_type2": "tid_v2",
}
# biliup's UI offers these uploaders (default "biliup-rs"); both are its web UPOS upload.
UPLOADER_ALIASES = {"biliup-rs": "upos", "bili_web": "upos"}
# §4.1: Bilibili takes at most 10 tags.
MAX_TAGS = 10
MAX_TAG_LENGTH = 20
# An account name, or a cookies file under the data folder (biliup's "data/<mid>.json").
USER_COOKIE_NAME = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-/]{0,199}")


def normalize(payload: dict[str, Any]) -> dict[str, Any]:
    """Fold biliup's alias names and the `tags` list into the documented fields."""
    data = dict(payload)
    for alias, name in ALIASES.items():
        if alias in data and name not in data:
            data[name] = data[alias]
    if data.get("uploader") in UPLOADER_ALIASES:
        data["uploader"] = UPLOADER_ALIASES[data["uploader"]]
    if "tags" in data and "tag" not in data:
        tags = data["tags"]
        if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise ApiError("tags: Expected a list of strings.")
        data["tag"] = ",".join(tags)
    return data


class UploadTemplateForm(JsonModelForm):
    tag = forms.CharField(
        required=False,
        max_length=1000,
        label=_("Tags"),
        help_text=_("Comma-separated, at most 10."),
    )
    user_cookie = forms.CharField(
        required=False,
        max_length=200,
        label=_("Bilibili account"),
        help_text=_(
            "The account the archive is uploaded as: its name, or a cookies file in the"
            " data folder (cookies.json, data/12345.json), imported when first named."
        ),
    )
    # The template's `line`, under the configuration's name for the same setting.
    lines = forms.CharField(
        required=False,
        max_length=16,
        label=_("UPOS line"),
        help_text=_(
            "Empty: the line chosen in Settings. AUTO: the fastest line, probed. "
            "Or a line name such as bda2, bldsa, tx, txa or alia."
        ),
    )

    # The 2025 partition: a two-level <select>, one <optgroup> per main partition.
    tid_v2 = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=submit_form.partition_choices,
        label=_("Partition"),
        help_text=_(
            "Bilibili's 2025 partition, sent as human_type2; without it Bilibili files the"
            " archive under 生活-日常 whatever the category."
        ),
        error_messages={
            "invalid_choice": _(
                "%(value)s is not a partition of Bilibili's 2025 partition list."
            )
        },
    )
    creation_statement = forms.ChoiceField(
        required=False,
        choices=submit_form.statement_choices,
        label=_("Creation statement"),
        help_text=_("创作声明, shown on a self-made archive."),
        error_messages={
            "invalid_choice": _(
                "%(value)s is not a creation statement: use none, ai, fiction,"
                " marketing or opinion."
            )
        },
    )

    class Meta:
        model = UploadTemplate
        fields = [
            "template_name",
            "title",
            "part_title",
            "tid",
            "tid_v2",
            "creation_statement",
            "season_id",
            "section_id",
            "copyright",
            "source",
            "desc",
            "dynamic",
            "cover",
            "dtime",
            "dolby",
            "hires",
            "no_reprint",
            "open_elec",
            "up_selection_reply",
            "up_close_reply",
            "up_close_danmu",
            "is_only_self",
            "credits",
            "extra_fields",
            "submit_api",
            "uploader",
            "keep_danmaku",
        ]
        error_messages = {
            "template_name": {
                "unique": _("An upload template with this name exists already.")
            }
        }
        labels = {
            "template_name": _("Template name"),
            "title": _("Archive title"),
            "part_title": _("Part title"),
            "tid": _("Category"),
            "season_id": _("Collection (合集)"),
            "section_id": _("Section"),
            "copyright": _("Copyright"),
            "source": _("Source"),
            "desc": _("Description"),
            "dynamic": _("Dynamic"),
            "cover": _("Cover"),
            "dtime": _("Scheduled publishing"),
            "dolby": _("Dolby audio"),
            "hires": _("Hi-Res audio"),
            "no_reprint": _("Forbid reposting"),
            "open_elec": _("Charging (open_elec)"),
            "up_selection_reply": _("Curate comments"),
            "up_close_reply": _("Close comments"),
            "up_close_danmu": _("Close danmaku"),
            "is_only_self": _("Only visible to me"),
            "credits": _("Credits"),
            "extra_fields": _("Extra submit fields"),
            "submit_api": _("Submit API"),
            "uploader": _("Uploader"),
            "keep_danmaku": _("Keep the chat files"),
        }
        help_texts = {
            "template_name": _("How you pick this template for a streamer."),
            "title": _(
                "Empty: {streamer} %Y-%m-%d %H:%M {title} for a live session, "
                "the first file's name for picked files."
            ),
            "part_title": _("Each part's title; empty: the file name."),
            "season_id": _(
                "Each new archive joins this collection of the account once Bilibili"
                " has processed it."
            ),
            "section_id": _("Empty: the collection's first section."),
            "tid": _("Bilibili's category (zone) id."),
            "source": _("Where a repost comes from, e.g. the live room's address."),
            "desc": _("The archive's description, up to 2000 characters."),
            "dynamic": _("Text of the feed post that announces the archive."),
            "cover": _(
                "An image URL or the path of an image file; empty: Bilibili picks a frame."
            ),
            "dtime": _("Unix time in seconds; empty: publish at once."),
            "credits": _("A JSON list, as Bilibili's submit takes it."),
            "extra_fields": _(
                'A JSON object merged into the submit, e.g. {"is_360": 0}.'
            ),
            "submit_api": _("Empty: the one chosen in Settings."),
            "uploader": _("Empty: the one chosen in Settings."),
            "keep_danmaku": _(
                "When the videos are deleted after upload, their danmaku XML and ASS"
                " files stay."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("tag", ",".join(self.instance.tags or []))
        self.initial.setdefault("lines", self.instance.line)
        if self.instance.account_id:
            self.initial.setdefault("user_cookie", self.instance.account.value)
        elif self.instance.account_name:
            self.initial.setdefault("user_cookie", self.instance.account_name)

    def clean_tag(self) -> list[str]:
        tags: list[str] = []
        for tag in re.split(r"[,，]", self.cleaned_data["tag"]):
            tag = tag.strip()
            if tag and tag not in tags:
                tags.append(tag)
        if not tags:
            raise forms.ValidationError(
                gettext(
                    "Give at least one tag: Bilibili refuses an archive without tags."
                )
            )
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(
                gettext("Bilibili takes at most %(count)s tags.") % {"count": MAX_TAGS}
            )
        if too_long := [t for t in tags if len(t) > MAX_TAG_LENGTH]:
            raise forms.ValidationError(
                gettext("Tags are at most %(count)s characters: %(tag)s.")
                % {"count": MAX_TAG_LENGTH, "tag": repr(too_long[0])}
            )
        return tags

    def clean_user_cookie(self) -> tuple[BilibiliAccount | None, str]:
        """biliup's user_cookie is a name: an account's, or a cookies file's in the data
        folder (imported, or matched to the account imported from it). A name that is
        neither yet is kept, and linked when such an account appears."""
        name = self.cleaned_data["user_cookie"].strip()
        if not name:
            return None, ""
        if not USER_COOKIE_NAME.fullmatch(name) or ".." in name.split("/"):
            raise forms.ValidationError(
                gettext(
                    "Use an account name or a cookies file name such as cookies.json"
                    " or data/12345.json."
                )
            )
        try:
            return cookiefile.find_or_import(name), name
        except credentials.CredentialError as exc:
            raise forms.ValidationError(
                gettext("%(name)s in the data folder: %(error)s")
                % {"name": name, "error": exc}
            ) from None

    def clean_dtime(self) -> int | None:
        """A scheduled publish time must be 2 hours to 15 days ahead now (submit.check_dtime's
        rule): refused here rather than dropped at submit, when it would go public at once."""
        dtime = self.cleaned_data.get("dtime")
        if not dtime:
            return None
        try:
            check_dtime(dtime)
        except ScheduleRefused:
            try:
                when = timezone.localtime(datetime.fromtimestamp(dtime, tz=UTC))
                shown = when.strftime("%Y-%m-%d %H:%M")
            except (OverflowError, OSError, ValueError):
                shown = str(dtime)  # past year 9999: a number, not a date
            raise forms.ValidationError(
                gettext(
                    "Bilibili takes a scheduled publish time 2 hours to 15 days ahead;"
                    " %(when)s is not."
                )
                % {"when": shown}
            ) from None
        return dtime

    def clean_lines(self) -> str:
        value = self.cleaned_data["lines"].strip()
        return clean_line(value) if value else ""

    def clean_credits(self) -> list[Any]:
        value = self.cleaned_data["credits"] or []
        if not isinstance(value, list):
            raise forms.ValidationError(gettext("Use a list."))
        return value

    def clean_extra_fields(self) -> dict[str, Any]:
        value = self.cleaned_data["extra_fields"] or {}
        if not isinstance(value, dict):
            raise forms.ValidationError(gettext("Use a JSON object of submit fields."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("copyright") == 2 and not cleaned.get("source"):
            self.add_error(
                "source", gettext("A repost (copyright 2) needs its source.")
            )
        self._check_collection(cleaned)
        return cleaned

    def _check_collection(self, cleaned: dict[str, Any]) -> None:
        """A collection's ids are positive, and the section is the season's (asked of the
        account's creator centre when it has a login; skipped if Bilibili cannot be asked)."""
        season_id, section_id = cleaned.get("season_id"), cleaned.get("section_id")
        for name, value in (("season_id", season_id), ("section_id", section_id)):
            if value is not None and value <= 0:
                self.add_error(name, gettext("Use a positive id."))
                return
        account = (cleaned.get("user_cookie") or (None, ""))[0]
        credential = account.credential if account is not None else None
        if not season_id or not section_id or not credential:
            return
        if field := collections.check_section(credential, season_id, section_id):
            message = (
                gettext("The account has no collection %(id)s.") % {"id": season_id}
                if field == "season_id"
                else gettext("Section %(section)s is not in collection %(season)s.")
                % {"section": section_id, "season": season_id}
            )
            self.add_error(field, message)

    def save(self, commit: bool = True) -> UploadTemplate:
        self.instance.tags = self.cleaned_data["tag"]
        self.instance.account, self.instance.account_name = self.cleaned_data[
            "user_cookie"
        ]
        self.instance.line = self.cleaned_data["lines"]
        return super().save(commit)


class UploadParamsForm(UploadTemplateForm):
    """The `params` of POST /uploads: a template's fields, not saved, its name optional."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template_name"].required = False

    def validate_unique(self) -> None:
        pass
