"""JSON bodies go through the same Django forms as the pages: one validation path for both."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from django import forms
from django.db import models

from biliup_site.api import ApiError, form_error
from biliup_site.models import Configuration

F = TypeVar("F", bound=forms.BaseForm)


class JsonModelForm(forms.ModelForm):
    """A ModelForm whose JSON fields keep their type: [] stays [], not None."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, forms.JSONField) and cleaned.get(name) is None:
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


class ConfigurationForm(JsonModelForm):
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
        ]

    def clean_lines(self) -> str:
        value = self.cleaned_data["lines"].strip()
        if value.upper() == "AUTO":
            return "AUTO"
        if not re.fullmatch(r"[a-z0-9]{2,16}", value):
            raise forms.ValidationError(
                "Use AUTO or a line name such as bda2, bldsa, tx, txa or alia."
            )
        return value

    def clean_recordings_dir(self) -> str:
        value = self.cleaned_data["recordings_dir"].strip()
        if value and not value.startswith("/"):
            raise forms.ValidationError(
                "Use an absolute path, or leave empty for BILIUP_RECORDINGS_DIR."
            )
        return value
