from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import BilibiliAccount


class RegisterForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(max_length=256, strip=False)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is taken."))
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "username" in cleaned and "password" in cleaned:
            user = User(username=cleaned["username"])
            try:
                password_validation.validate_password(cleaned["password"], user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class LoginForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(max_length=256, strip=False)
    next = forms.CharField(required=False, max_length=500)


class AccountForm(forms.ModelForm):
    """POST /users: biliup sends {"key": "bilibili-cookies", "value": "<name>.json"}."""

    key = forms.CharField(required=False, max_length=32)

    class Meta:
        model = BilibiliAccount
        fields = ["value"]
        error_messages = {
            "value": {
                "unique": gettext_lazy(
                    "A Bilibili account with this name already exists."
                )
            }
        }

    def clean_key(self) -> str:
        key = self.cleaned_data["key"] or BilibiliAccount.PLATFORM
        if key != BilibiliAccount.PLATFORM:
            raise forms.ValidationError(
                _("Only %(platform)s accounts can be added here.")
                % {"platform": repr(BilibiliAccount.PLATFORM)}
            )
        return key


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)
