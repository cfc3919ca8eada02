from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from biliup_site.forms import JsonModelForm
from recorder import platforms, reach
from recorder.models import HOOKS, Streamer
from uploads.models import UploadTemplate


class KeptJSONField(forms.JSONField):
    """A biliup setting this site stores for biliup's UI and never acts on; shown empty when
    unset (JSONField would show "null")."""

    def __init__(self, label: str | Promise) -> None:
        super().__init__(
            required=False,
            label=label,
            help_text=gettext_lazy(
                "biliup's setting, kept as JSON; this site does not run it."
            ),
        )

    def prepare_value(self, value: Any) -> Any:
        return "" if value is None else super().prepare_value(value)


class StreamerForm(JsonModelForm):
    url = forms.CharField(
        max_length=500,
        error_messages={
            "unique": gettext_lazy("A streamer with this URL exists already.")
        },
    )
    template_name = forms.CharField(required=False, max_length=200)
    # biliup's commands and ffmpeg arguments: kept in Streamer.hooks, never run.
    preprocessor = KeptJSONField(gettext_lazy("Command when recording starts"))
    segment_processor = KeptJSONField(gettext_lazy("Command for each segment"))
    downloaded_processor = KeptJSONField(gettext_lazy("Command when recording ends"))
    postprocessor = KeptJSONField(gettext_lazy("Command after upload"))
    opt_args = KeptJSONField(gettext_lazy("Extra ffmpeg arguments"))

    class Meta:
        model = Streamer
        fields = [
            "url",
            "remark",
            "filename_prefix",
            "split_time",
            "split_size",
            "format",
            "time_range",
            "excluded_keywords",
            "override",
            "record_danmaku",
            "danmaku_ass",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in HOOKS:
            self.initial.setdefault(name, (self.instance.hooks or {}).get(name))
        if self.instance.upload_template_id:
            self.initial.setdefault(
                "template_name", self.instance.upload_template.template_name
            )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        # streamlink's explicit protocols (hls://https://host/live.m3u8) name a stream itself.
        prefix, _, inner = url.partition("://")
        web = inner if prefix.lower() in platforms.STREAMLINK_PROTOCOLS else url
        if "://" not in web:
            web = url = f"https://{url}"
        try:
            scheme = urlsplit(web).scheme
        except ValueError:  # "http://[::1": an unclosed IPv6 address
            raise forms.ValidationError(gettext("Enter a valid URL.")) from None
        if scheme not in ("http", "https"):
            raise forms.ValidationError(
                gettext(
                    "Use an http:// or https:// URL of a live room (or hls://, httpstream:// "
                    "followed by a stream's URL)."
                )
            )
        try:
            URLValidator(schemes=["http", "https"])(web)
        except ValidationError:
            raise forms.ValidationError(gettext("Enter a valid URL.")) from None
        try:
            self.instance.platform = platforms.recognise(url)
        except platforms.UnsupportedUrl as exc:
            raise forms.ValidationError(str(exc)) from None
        refused = reach.refusal(url)
        if refused:
            raise forms.ValidationError(refused)
        return url

    def clean_template_name(self) -> UploadTemplate | None:
        name = self.cleaned_data["template_name"]
        if not name:
            return None
        template = UploadTemplate.objects.filter(template_name=name).first()
        if template is None:
            raise forms.ValidationError(
                gettext("No upload template named %(name)s.") % {"name": repr(name)}
            )
        return template

    def clean_split_time(self) -> int:
        value = self.cleaned_data["split_time"]
        if 0 < value < 10:
            raise forms.ValidationError(
                gettext("Use 0 (no time split) or at least 10 seconds.")
            )
        return value

    def clean_time_range(self) -> list[str] | None:
        value = self.cleaned_data["time_range"]
        if value in (None, "", []):
            return None
        if not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, str) for v in value)
        ):
            raise forms.ValidationError(gettext("Use two times: [start, end]."))
        return value

    def clean_excluded_keywords(self) -> list[str]:
        value = self.cleaned_data["excluded_keywords"] or []
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise forms.ValidationError(gettext("Use a list of words."))
        return value

    def clean_override(self) -> dict[str, Any]:
        value = self.cleaned_data["override"] or {}
        if not isinstance(value, dict):
            raise forms.ValidationError(
                gettext("Use an object of option names and values.")
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in HOOKS:
            value = cleaned.get(name)
            if value is None:
                continue
            steps = value if isinstance(value, list) else None
            if name == "opt_args":
                ok = steps is not None and all(isinstance(v, str) for v in steps)
            else:
                ok = steps is not None and all(_hook_step(v) for v in steps)
            if not ok:
                self.add_error(
                    name,
                    gettext("Use a list of arguments.")
                    if name == "opt_args"
                    else gettext(
                        'Use a list of steps such as {"run": "command"} or "rm".'
                    ),
                )
            elif len(json.dumps(value)) > HOOKS_MAX_CHARS:
                self.add_error(name, gettext("This is too long."))
        return cleaned

    def save(self, commit: bool = True) -> Streamer:
        self.instance.hooks = {
            name: self.cleaned_data[name]
            for name in HOOKS
            if self.cleaned_data.get(name) is not None
        }
        self.instance.upload_template = self.cleaned_data["template_name"]
        return super().save(commit)


HOOKS_MAX_CHARS = 16 * 1024


def _hook_step(step: Any) -> bool:
    """biliup's step: a word ("rm") or {"run" | "mv" | …: "text"}."""
    if isinstance(step, str):
        return True
    return (
        isinstance(step, dict)
        and len(step) == 1
        and all(isinstance(k, str) and isinstance(v, str) for k, v in step.items())
    )
