from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import signin
from accounts.models import BilibiliAccount


class RegisterForm(forms.Form):
    """Any password is accepted, as biliup does (and the REST document's example is
    "password123"); a weak one earns a warning (signin.password_warning), not a refusal."""

    username = forms.CharField(max_length=150, label=gettext_lazy("Username"))
    password = forms.CharField(
        max_length=256, strip=False, label=gettext_lazy("Password")
    )

    def clean_username(self) -> str:
        username = signin.canonical_username(self.cleaned_data["username"])
        if signin.username_taken(username):
            raise forms.ValidationError(_("That username is taken."))
        return username


class LoginForm(forms.Form):
    username = forms.CharField(max_length=150, label=gettext_lazy("Username"))
    password = forms.CharField(
        max_length=256, strip=False, label=gettext_lazy("Password")
    )
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
