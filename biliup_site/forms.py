"""JSON bodies go through the same Django forms as the pages: one validation path for both."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from biliup_site import notifications, rate_schedule, strictjson, webhooks
from biliup_site.api import ApiError, form_error
from biliup_site.models import Configuration, EventKind, Hook

F = TypeVar("F", bound=forms.BaseForm)


class JsonModelForm(forms.ModelForm):
    """A ModelForm whose JSON fields keep their type: [] stays [], not None, and whose JSON text
    (biliup's UI sends time_range and extra_fields so) is read by strictjson, like a body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.JSONField):
                field.decoder = strictjson.StrictDecoder

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name, field in self.fields.items():
            if (
                isinstance(field, forms.JSONField)
                and cleaned.get(name) is None
                and name in self._meta.fields
            ):
                model_field = self._meta.model._meta.get_field(name)
                if not model_field.null and model_field.has_default():
                    cleaned[name] = model_field.get_default()
        return cleaned


def _expected(field: forms.Field, value: Any) -> str | None:
    """What a JSON value of the wrong type for this field should have been, or None if fine."""
    if value is None or isinstance(field, forms.JSONField):
        return None
    if isinstance(field, forms.BooleanField):
        return (
            None
            if isinstance(value, bool) or (type(value) is int and value in (0, 1))
            else "true, false, 0 or 1"
        )
    if isinstance(field, forms.IntegerField):
        return None if type(value) is int else "a whole number"
    if isinstance(field, forms.FloatField):
        return None if type(value) in (int, float) else "a number"
    if isinstance(field, forms.MultipleChoiceField):
        return (
            None
            if isinstance(value, list) and all(isinstance(v, str) for v in value)
            else "a list of strings"
        )
    if isinstance(field, forms.TypedChoiceField):
        return None if type(value) in (int, str) else "one of the listed choices"
    if isinstance(field, forms.CharField | forms.ChoiceField):
        return None if isinstance(value, str) else "a string"
    return None


def bind(
    form_class: type[F],
    payload: dict[str, Any],
    instance: models.Model | None = None,
    **kwargs: Any,
) -> F:
    """Bind a JSON object to a form. Fields left out keep the instance's (or default) values,
    so a PUT may send only what changes. Raises ApiError on the first invalid field.
    """
    unbound = (
        form_class(instance=instance, **kwargs)
        if instance is not None
        else form_class(**kwargs)
    )
    data: dict[str, Any] = {}
    for name, field in unbound.fields.items():
        if name in payload:
            if expected := _expected(field, payload[name]):
                raise ApiError(f"{name}: Expected {expected}.")
            data[name] = payload[name]
        else:
            data[name] = unbound.get_initial_for_field(field, name)
    form = (
        form_class(data, instance=instance, **kwargs)
        if instance is not None
        else form_class(data, **kwargs)
    )
    if not form.is_valid():
        raise form_error(form)
    return form


def clean_line(value: str) -> str:
    """A UPOS line setting: AUTO (the fastest line, probed) or a line name such as bda2.
    Shared by the configuration's `lines` and an upload template's."""
    value = value.strip()
    if value.upper() == "AUTO":
        return "AUTO"
    if not re.fullmatch(r"[a-z0-9]{2,16}", value):
        raise forms.ValidationError(
            gettext("Use AUTO or a line name such as bda2, bldsa, tx, txa or alia.")
        )
    return value


class ScheduleField(forms.Field):
    """The upload schedule: the API's list of rules, or the page's lines of text."""

    widget = forms.Textarea(
        attrs={"rows": 3, "placeholder": "01:00-08:00 0\n18:00-23:30 2048"}
    )

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        return rate_schedule.clean(value)

    def prepare_value(self, value: Any) -> str:
        return rate_schedule.as_text(value)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return rate_schedule.clean(data) != (initial or [])
        except forms.ValidationError:
            return True


class ConfigurationForm(JsonModelForm):
    upload_schedule = ScheduleField(
        required=False,
        label=_("Schedule"),
        help_text=_(
            "One rule a line, START-END RATE in KiB/s (0: no limit), in the site's time zone;"
            " the first that holds wins, outside them the cap above does."
        ),
    )

    class Meta:
        model = Configuration
        fields = [
            "lines",
            "threads",
            "submit_api",
            "download_limit",
            "upload_limit",
            "recordings_dir",
            "event_loop_interval",
            "delay",
            "delete_after_upload",
            "disk_reserve",
            "uploader",
            "openplatform_client_id",
            "openplatform_app_secret",
            "openplatform_access_token",
            "openplatform_auth",
            "catalog_provider",
            "justoneapi_token",
            "justoneapi_env",
            "upload_rate_limit",
            "upload_schedule",
            "upload_adaptive",
            "upload_max_connections",
            "upload_line_max_connections",
        ]
        labels = {
            "lines": _("Upload line"),
            "threads": _("Upload threads per file"),
            "submit_api": _("Submit API"),
            "download_limit": _("Recordings at once"),
            "upload_limit": _("Uploads at once"),
            "recordings_dir": _("Recordings folder"),
            "event_loop_interval": _("Live check interval (s)"),
            "delay": _("Offline grace period (s)"),
            "delete_after_upload": _("After upload"),
            "disk_reserve": _("Disk reserve (MB)"),
            "uploader": _("Uploader"),
            "openplatform_client_id": _("Client ID"),
            "openplatform_app_secret": _("App secret"),
            "openplatform_access_token": _("Access token"),
            "openplatform_auth": _("Authentication"),
            "catalog_provider": _("Catalog provider"),
            "justoneapi_token": _("JustOneAPI token"),
            "justoneapi_env": _("JustOneAPI environment"),
            "upload_rate_limit": _("Upload speed cap (KiB/s)"),
            "upload_adaptive": _("Adaptive connections"),
            "upload_max_connections": _("Connections, all uploads"),
            "upload_line_max_connections": _("Connections per upload line"),
        }
        help_texts = {
            "lines": _(
                "AUTO picks the fastest; or a line name such as bda2, bldsa, tx, txa or alia."
            ),
            "threads": _("Chunks sent at once for each file (1–32)."),
            "submit_api": _(
                "Which Bilibili endpoint submits archives; empty means the app one."
            ),
            "download_limit": _("How many rooms may record at the same time (1–500)."),
            "upload_limit": _("How many uploads may run at the same time (1–50)."),
            "recordings_dir": _("An absolute path; empty uses BILIUP_RECORDINGS_DIR."),
            "event_loop_interval": _(
                "Seconds between checks whether a room is live (5–3600)."
            ),
            "delay": _(
                "Seconds a stream may stay offline and still continue the same recording session."
            ),
            "delete_after_upload": _(
                "Keep the recorded files, or delete them once Bilibili accepts the archive."
            ),
            "disk_reserve": _("Free space (MB) below which no new segment is started."),
            "uploader": _("For upload templates that do not choose one."),
            "openplatform_client_id": _("From your Bilibili Open Platform app."),
            "openplatform_app_secret": _(
                "Write-only: leave blank to keep the stored secret."
            ),
            "openplatform_access_token": _(
                "The user's OAuth token. Write-only: leave blank to keep it."
            ),
            "openplatform_auth": _("How requests to the Open Platform are signed."),
            "catalog_provider": _(
                "Where followed users' video lists come from, unless a user chooses."
            ),
            "justoneapi_token": _(
                "Write-only: leave blank to keep it. A new token resumes refreshes"
                " stopped by JustOneAPI."
            ),
            "justoneapi_env": _("prod-cn is faster from mainland China."),
            "upload_rate_limit": _(
                "All uploads together, shared between them; 0: no limit. 1024 is 1 MiB/s."
                " A change applies to running uploads within a second."
            ),
            "upload_adaptive": _(
                "Open more connections while the speed still grows (threads is where each"
                " file starts); off: exactly threads."
            ),
            "upload_max_connections": _(
                "The most chunks in flight over all running uploads (1–64)."
            ),
            "upload_line_max_connections": _(
                "The most on one UPOS line (1–64): some lines allow only 8."
            ),
        }

    def clean_upload_rate_limit(self) -> int:
        rate = self.cleaned_data["upload_rate_limit"]
        rate_schedule.check_rate(rate)
        return rate

    def clean_lines(self) -> str:
        return clean_line(self.cleaned_data["lines"])

    def clean_justoneapi_token(self) -> str:
        return self.cleaned_data["justoneapi_token"].strip()

    def save(self, commit: bool = True) -> Configuration:
        config = super().save(commit=False)
        if "justoneapi_token" in self.changed_data:
            # A new token (or a topped-up one saved again) is worth trying at once.
            config.justoneapi_stop_reason = ""
            config.justoneapi_stop_until = None
        if commit:
            config.save()
        return config

    def clean_recordings_dir(self) -> str:
        value = self.cleaned_data["recordings_dir"].strip()
        if value and not value.startswith("/"):
            raise forms.ValidationError(
                gettext(
                    "Use an absolute path, or leave empty for BILIUP_RECORDINGS_DIR."
                )
            )
        if value and (reason := recordings_dir_refusal(Path(value))):
            raise forms.ValidationError(reason)
        return value


# Recordings are written, listed, served and deleted after upload inside this folder: never the
# system's own. A folder in SYSTEM_TREES is refused with everything below it; one in
# SYSTEM_FOLDERS only itself (/home/me/recordings is fine, /home is not).
SYSTEM_TREES = tuple(
    Path(p)
    for p in (
        "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
        "/run", "/sbin", "/sys", "/usr", "/var/lib", "/var/cache", "/var/log", "/var/run",
    )
)  # fmt: skip
SYSTEM_FOLDERS = tuple(
    Path(p) for p in ("/", "/home", "/media", "/mnt", "/opt", "/root", "/srv", "/tmp", "/var")
)  # fmt: skip


def recordings_dir_refusal(path: Path) -> str | None:
    """Why `path` (absolute) can't be the recordings folder, or None if it can."""
    path = path.resolve()
    data_dir = Path(settings.DATA_DIR).resolve()
    if path in SYSTEM_FOLDERS or any(path.is_relative_to(t) for t in SYSTEM_TREES):
        return gettext("%(path)s is a system folder: choose a folder of its own.") % {
            "path": path
        }
    if data_dir.is_relative_to(path):
        return gettext(
            "%(path)s holds the site's data folder: choose a folder of its own."
        ) % {"path": path}
    return None


class HookForm(JsonModelForm):
    """A notification (apprise URL) or a webhook: the pages' form and the API's body."""

    events = forms.MultipleChoiceField(
        choices=EventKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Events"),
        help_text=_("None chosen: every event."),
    )

    class Meta:
        model = Hook
        fields = ["kind", "name", "url", "events", "allow_private", "enabled"]
        labels = {
            "kind": _("Kind"),
            "name": _("Name"),
            "url": _("URL"),
            "allow_private": _("Allow private addresses"),
            "enabled": _("Enabled"),
        }
        help_texts = {
            "allow_private": _(
                "Webhooks only: let this webhook reach this machine or the local network."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].widget = forms.TextInput(attrs={"autocomplete": "off"})
        if self.instance.pk:
            # Blank keeps the stored URL: an apprise URL holds the service's token, so it is
            # write-only and the page shows it empty.
            self.fields["url"].required = False
            if self.instance.kind == Hook.Kind.APPRISE:
                self.initial["url"] = ""

    def clean_url(self) -> str:
        url = (self.cleaned_data.get("url") or "").strip()
        if not url and self.instance.pk:
            return self.instance.url
        return url

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind, url = cleaned.get("kind"), cleaned.get("url")
        if not kind or not url:
            return cleaned
        if kind == Hook.Kind.WEBHOOK:
            reason = webhooks.refusal(url, bool(cleaned.get("allow_private")))
            if reason:
                self.add_error("url", reason)
        elif not notifications.supported(url):
            self.add_error(
                "url",
                gettext(
                    "Not a notification URL apprise knows, such as tgram://…, "
                    "mailto://… or schan://…."
                ),
            )
        return cleaned
