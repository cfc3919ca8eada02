"""Following a user and filtering their videos: one form each for the pages and the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from creators.models import Creator


class CreatorForm(forms.ModelForm):
    """Follow a Bilibili user, or change how it is refreshed (the uid then stays)."""

    class Meta:
        model = Creator
        fields = ["uid", "provider", "refresh_minutes"]
        labels = {
            "uid": _("UID"),
            "provider": _("Provider"),
            "refresh_minutes": _("Refresh every (minutes)"),
        }
        help_texts = {
            "uid": _(
                "The number at the end of the user's space address, space.bilibili.com/…"
            ),
            "refresh_minutes": _("5 to 10080 (a week)."),
        }
        error_messages = {
            "uid": {"unique": _("This user is already followed.")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["uid"].disabled = True

    def clean_uid(self) -> int:
        uid = self.cleaned_data["uid"]
        if uid is not None and not 0 < uid < 2**63:
            raise forms.ValidationError(
                gettext("Enter a Bilibili UID (a positive number).")
            )
        return uid


ORDER_CHOICES = [
    ("-published", _("Newest first")),
    ("published", _("Oldest first")),
    ("-play", _("Most played")),
    ("play", _("Least played")),
    ("-danmaku", _("Most danmaku")),
    ("danmaku", _("Least danmaku")),
    ("-duration", _("Longest")),
    ("duration", _("Shortest")),
]


class VideoFilterForm(forms.Form):
    """Sort, filter and page a followed user's videos: GET parameters of the API and the page."""

    order = forms.ChoiceField(choices=ORDER_CHOICES, required=False, label=_("Sort"))
    q = forms.CharField(max_length=100, required=False, label=_("Title contains"))
    category = forms.CharField(max_length=50, required=False, label=_("Category"))
    since = forms.DateTimeField(required=False, label=_("Published since"))
    until = forms.DateTimeField(required=False, label=_("Published before"))
    page = forms.IntegerField(min_value=1, required=False)
    page_size = forms.IntegerField(min_value=1, max_value=100, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["order"] = cleaned.get("order") or "-published"
        cleaned["page"] = cleaned.get("page") or 1
        cleaned["page_size"] = cleaned.get("page_size") or 30
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            raise forms.ValidationError(
                gettext("“Published since” must be before “Published before”.")
            )
        return cleaned
