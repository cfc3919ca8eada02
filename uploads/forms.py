from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import cookiefile, credentials
from accounts.models import BilibiliAccount
from biliup_site import strictjson
from biliup_site.api import ApiError
from biliup_site.bilibili.submit import (
    DTIME_MAX_AHEAD,
    DTIME_MIN_AHEAD,
    ScheduleRefused,
    check_dtime,
)
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
        help_text=_(
            "1 to 10 tags of up to 20 characters each, separated by commas"
            " (or press Enter after each)."
        ),
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
        label=_("Upload line"),
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
            "Where Bilibili files the archive since its 2025 overhaul: pick the main"
            " partition, then a sub partition or the whole of it. Without one, Bilibili"
            " files the archive under 生活 › 日常, whatever the legacy category."
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
        help_text=_(
            "A label Bilibili shows with the archive, such as AI-generated or staged"
            " content."
        ),
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
            "tid": _("Legacy category"),
            "season_id": _("Collection (合集)"),
            "section_id": _("Section"),
            "copyright": _("Self-made or repost"),
            "source": _("Source"),
            "desc": _("Description"),
            "dynamic": _("Feed post"),
            "cover": _("Cover"),
            "dtime": _("Scheduled publishing"),
            "dolby": _("Dolby audio"),
            "hires": _("Hi-Res audio"),
            "no_reprint": _("Forbid reposting"),
            "open_elec": _("Charging"),
            "up_selection_reply": _("Curate comments"),
            "up_close_reply": _("Close comments"),
            "up_close_danmu": _("Close danmaku"),
            "is_only_self": _("Only visible to me"),
            "credits": _("Mentions"),
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
            "tid": _(
                "Bilibili's category from before 2025, sent beside the partition."
            ),
            "copyright": _("A repost needs its source."),
            "source": _("Where a repost comes from, e.g. the live room's address."),
            "desc": _("The archive's description, up to 2000 characters."),
            "dynamic": _("Text of the feed post that announces the archive."),
            "cover": _(
                "An image URL or the path of an image file; empty: Bilibili picks a frame."
            ),
            "dtime": _("Unix time in seconds; empty: publish at once."),
            "dolby": _("Only for videos with a Dolby audio track."),
            "hires": _("Only for videos with lossless audio."),
            "no_reprint": _(
                "Others may not repost the archive without your permission."
            ),
            "open_elec": _("Viewers can support you with Bilibili's charging (充电)."),
            "up_selection_reply": _("Comments show only after you pick them."),
            "up_close_reply": _("No one can comment on the archive."),
            "up_close_danmu": _("No one can send danmaku on the archive."),
            "is_only_self": _("The archive is published privately: only you see it."),
            "credits": _(
                "Accounts @-mentioned in the description, kept as biliup's clients send"
                ' them: a JSON list such as [{"username": "…", "uid": 1}]. This site does'
                " not send them to Bilibili."
            ),
            "extra_fields": _(
                "Fields added to Bilibili's submit as they are, such as is_360 = 0. A value"
                " that reads as JSON (a number, true, a list) is sent as such, else as text."
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


# The templates page (templates/uploads/templates.html, static/biliup/template_form.js) posts what
# people pick rather than the API's raw values: a local date and time for the epoch, name/value
# rows for the JSON object. UploadTemplatePageForm reads both into the API's values, so the rules
# (clean_tag, clean_dtime, clean_extra_fields) stay the API's.

SCHEDULE_FORMAT = "%Y-%m-%dT%H:%M"
# A name in Bilibili's submit body: is_360, act_reserve_create, topic_id …
EXTRA_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# An epoch posted where a date was expected (a script, or the page before the picker).
EPOCH = re.compile(r"[0-9]{1,18}")


class ScheduleInput(forms.DateTimeInput):
    """A datetime-local picker; a stored time with seconds keeps them (step 1)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=SCHEDULE_FORMAT)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, datetime) and value.second:
            return value.strftime(SCHEDULE_FORMAT + ":%S")
        return super().format_value(value)

    def get_context(
        self, name: str, value: Any, attrs: dict[str, Any] | None
    ) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        # Without step 1 a value with seconds would not match the picker's minute steps.
        if len(context["widget"]["value"] or "") > len("2025-01-01T00:00"):
            context["widget"]["attrs"]["step"] = "1"
        return context


class ScheduleField(forms.DateTimeField):
    """A date and time in the active time zone, cleaned to the Unix seconds the model stores."""

    widget = ScheduleInput

    def to_python(self, value: Any) -> int | None:
        if type(value) is int:
            return value
        if isinstance(value, str) and EPOCH.fullmatch(value.strip()):
            return int(value)
        when = super().to_python(value)
        return None if when is None else int(when.timestamp())

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            try:
                return timezone.localtime(datetime.fromtimestamp(value, tz=UTC))
            except (OverflowError, OSError, ValueError):
                return ""
        return value


class PostedRows(list[tuple[str, str]]):
    """The name/value rows the page posted, told apart from a JSON list."""


class KeyValueRows(forms.Widget):
    """Rows of a name and a value input, posted as <name>-key and <name>-value (the page draws
    them). A post without rows may send JSON text under the field's own name, as before."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if f"{name}-key" not in data:
            return data.get(name)
        keys, values = _getlist(data, f"{name}-key"), _getlist(data, f"{name}-value")
        return PostedRows(zip_longest(keys, values, fillvalue=""))

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and f"{name}-key" not in data


def _getlist(data: Any, key: str) -> list[str]:
    if hasattr(data, "getlist"):
        return [str(v) for v in data.getlist(key)]
    value = data.get(key, [])
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity: text, not numbers no database stores


def _json_value(text: str) -> tuple[bool, Any]:
    """(True, value) if the text is one JSON value, else (False, None)."""
    if strictjson.depth(text) > strictjson.MAX_DEPTH:
        return False, None
    try:
        return True, json.loads(text, parse_constant=_no_constant)
    except ValueError:
        return False, None


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[", '"')


def value_text(value: Any) -> str:
    """How a value shows in its row, read back as the same value by row_value(): a string as
    it is unless it would read as something else (or cannot sit in an input), else JSON."""
    if (
        isinstance(value, str)
        and value.isprintable()
        and not _looks_like_json(value)
        and not _json_value(value)[0]
    ):
        return value
    return json.dumps(value, ensure_ascii=False)


def row_value(name: str, text: str) -> Any:
    """A row's value: JSON if it reads as JSON (0, true, [1, 2], "0"), else the text itself."""
    ok, value = _json_value(text)
    if ok:
        return value
    if _looks_like_json(text):
        raise forms.ValidationError(
            gettext(
                "The value of %(name)s starts like JSON but is not: check its brackets"
                " and quotes."
            )
            % {"name": name}
        )
    return text


class ExtraFieldsField(forms.JSONField):
    """extra_fields as name/value rows; cleans to the same JSON object the API takes."""

    widget = KeyValueRows

    def to_python(self, value: Any) -> Any:
        if isinstance(value, PostedRows):
            return self._rows_to_object(value)
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        if isinstance(data, PostedRows):
            return data
        return super().bound_data(data, initial)

    def prepare_value(self, value: Any) -> list[tuple[str, str]]:
        """The rows to draw: (name, value text) pairs."""
        if isinstance(value, PostedRows):
            return list(value)
        if isinstance(value, str):  # JSON text, or InvalidJSONInput (a str)
            try:
                value = strictjson.loads(value)
            except strictjson.JsonError:
                return []
        if isinstance(value, dict):
            return [(str(k), value_text(v)) for k, v in value.items()]
        return []

    def _rows_to_object(self, rows: PostedRows) -> dict[str, Any]:
        found: dict[str, Any] = {}
        errors: list[str] = []
        for key, text in rows:
            key = key.strip()
            shown = key[:40]
            if not key:
                if text.strip():
                    errors.append(
                        gettext(
                            "The value “%(value)s” has no field name: name it, or clear"
                            " the row."
                        )
                        % {"value": text[:40]}
                    )
            elif not EXTRA_FIELD_NAME.fullmatch(key):
                errors.append(
                    gettext(
                        "“%(name)s” is not a submit field name: use letters, digits and _,"
                        " such as is_360."
                    )
                    % {"name": shown}
                )
            elif key in found:
                errors.append(gettext("%(name)s is given twice.") % {"name": shown})
            else:
                try:
                    found[key] = row_value(key, text)
                except forms.ValidationError as exc:
                    errors.extend(exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        try:
            # What no database column stores (a NUL character) is refused, as in JSON text.
            strictjson.loads(json.dumps(found))
        except strictjson.JsonError as exc:
            raise forms.ValidationError(
                gettext("Not a value that can be stored: %(error)s") % {"error": exc}
            ) from None
        return found


class UploadTemplatePageForm(UploadTemplateForm):
    """The templates page's form: the API's fields and rules, with controls for people."""

    dtime = ScheduleField(required=False, label=_("Scheduled publishing"))
    extra_fields = ExtraFieldsField(
        required=False,
        label=UploadTemplateForm.Meta.labels["extra_fields"],
        help_text=UploadTemplateForm.Meta.help_texts["extra_fields"],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        now = timezone.localtime()
        earliest = now + timedelta(seconds=DTIME_MIN_AHEAD + 60)  # whole minutes inside
        latest = now + timedelta(seconds=DTIME_MAX_AHEAD)
        self.fields["dtime"].help_text = gettext(
            "Empty: publish once Bilibili has reviewed it. Bilibili takes a time 2 hours"
            " to 15 days ahead: now %(earliest)s to %(latest)s (time zone %(zone)s)."
        ) % {
            "earliest": earliest.strftime("%Y-%m-%d %H:%M"),
            "latest": latest.strftime("%Y-%m-%d %H:%M"),
            "zone": timezone.get_current_timezone_name(),
        }
        self.fields["dtime"].widget.attrs.update(
            {"data-clearable": gettext("Clear"), "class": "schedule-input"}
        )
        self.fields["tag"].widget.attrs.update(
            {
                "data-chips": "",
                "data-max": str(MAX_TAGS),
                "data-max-length": str(MAX_TAG_LENGTH),
                "data-placeholder": gettext("Type a tag, then Enter"),
                "data-remove": gettext("Remove the tag %(tag)s"),
                "data-too-long": gettext(
                    "Tags are at most %(count)s characters: %(tag)s."
                ).replace("%(count)s", str(MAX_TAG_LENGTH)),
                "data-too-many": gettext("Bilibili takes at most %(count)s tags.")
                % {"count": MAX_TAGS},
                "autocomplete": "off",
            }
        )
        self.fields["tid_v2"].widget.attrs.update(
            {
                "data-two-level": "",
                "data-child-label": gettext("Sub partition"),
                "data-whole-label": gettext("The whole partition"),
            }
        )
