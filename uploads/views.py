"""Pages: upload templates and the upload queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from accounts import categories
from accounts.models import BilibiliAccount
from biliup_site import bilibili_messages
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, upos
from biliup_site.http import HtmxHttpRequest
from biliup_site.models import SubmitApi
from biliup_site.pages import render_page
from uploads import collections
from uploads import upload as workflow
from uploads.forms import UploadTemplateForm, UploadTemplatePageForm
from uploads.models import COPYRIGHT_CHOICES, UploadJob, UploadTemplate

HISTORY_PAGE_SIZE = 25
# The models' status labels, which the templates translate ({% translate job.get_status_display %}),
# marked here so makemessages finds them.
STATUS_LABELS = (
    gettext_noop("Queued"),
    gettext_noop("Uploading"),
    gettext_noop("Submitting"),
    gettext_noop("Waiting for the live session to end"),
    gettext_noop("Done"),
    gettext_noop("Failed"),
    gettext_noop("Cancelled"),
    gettext_noop("Pending"),
    gettext_noop("Uploaded"),
)
# The event that makes both lists of the uploads page reload after a retry or cancel moved a row.
UPLOADS_CHANGED = "uploads-changed"

# Uploads


def _jobs() -> Any:
    return UploadJob.objects.for_rows()


@require_GET
@login_required
def uploads(request: HttpRequest) -> HttpResponse:
    """The queue (unfinished jobs, in upload order), then the history, newest first."""
    status = request.GET.get("status", "")
    if status not in UploadJob.Status.values:
        status = ""
    jobs = _jobs().filter(status=status) if status else _jobs()
    history = jobs.filter(status__in=UploadJob.FINISHED).order_by(
        F("finished").desc(nulls_last=True), "-id"
    )
    page = Paginator(history, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = dict(
        UploadJob.objects.values_list("status").annotate(n=Count("id")).order_by()
    )
    context = {
        "status": status,
        "show_queue": not status or status in UploadJob.ACTIVE,
        "show_history": not status or status in UploadJob.FINISHED,
        "queue": jobs.filter(status__in=UploadJob.ACTIVE).order_by("id"),
        "page": page,
        "filters": [
            (value, label, counts.get(value, 0))
            for value, label in UploadJob.Status.choices
        ],
        "total": sum(counts.values()),
    }
    return render_page(
        request, "uploads/uploads.html", context, parts=("filters", "queue", "history")
    )


def _job_action(
    request: HtmxHttpRequest,
    pk: int,
    action: Callable[[UploadJob], UploadJob],
    done: str,
    refused: str,
) -> HttpResponse:
    """Retry or cancel: the row for htmx (with a note when it did not apply), else back to
    the uploads page with a message."""
    job = get_object_or_404(UploadJob, pk=pk)
    try:
        job = action(job)
        note, level = done % {"pk": job.pk}, messages.SUCCESS
    except ValueError:
        # Finished, or retried/cancelled meanwhile: say what it is now, not an error page.
        job.refresh_from_db()
        note = refused % {"pk": job.pk, "status": job.get_status_display()}
        level = messages.WARNING
    if not request.htmx:
        messages.add_message(request, level, note)
        return redirect("uploads")
    job = _jobs().get(pk=job.pk)
    response = render(request, "uploads/uploads.html#job", {"job": job, "note": note})
    # The row may belong to the other list now (history ↔ queue): both lists reload.
    return trigger_client_event(response, UPLOADS_CHANGED)


@require_POST
@login_required
def retry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _job_action(
        request,
        pk,
        workflow.retry,
        _("Upload #%(pk)s is queued again; what it had sent is kept."),
        _("Upload #%(pk)s was not retried: it is %(status)s."),
    )


@require_POST
@login_required
def cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _job_action(
        request,
        pk,
        workflow.cancel,
        _("Upload #%(pk)s is cancelled; it can be retried later."),
        _("Upload #%(pk)s was not cancelled: it is %(status)s."),
    )


# Upload templates


def _templates_context() -> dict[str, Any]:
    return {
        "templates": UploadTemplate.objects.select_related("account")
        .defer("account__credential")
        .annotate(streamer_count=Count("streamers")),
        "has_accounts": BilibiliAccount.objects.exists(),
    }


@require_GET
@login_required
def templates(request: HttpRequest) -> HttpResponse:
    return render_page(
        request, "uploads/templates.html", _templates_context(), parts=("rows",)
    )


@require_http_methods(["GET", "POST"])
@login_required
def template_new(request: HttpRequest) -> HttpResponse:
    return _template_form(request, UploadTemplate())


@require_http_methods(["GET", "POST"])
@login_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_form(request, get_object_or_404(UploadTemplate, pk=pk))


def _template_form(request: HttpRequest, template: UploadTemplate) -> HttpResponse:
    """Create or edit with the API's form (and its rules), its controls made for people:
    field errors are shown next to their fields."""
    initial = {}
    if template.pk is None and (account := _first_usable_account()) is not None:
        initial["user_cookie"] = account.value
    form = UploadTemplatePageForm(
        request.POST or None, instance=template, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(
            request,
            _("Upload template “%(name)s” saved.") % {"name": saved.template_name},
        )
        return redirect("templates")
    _page_widgets(form)
    account_value = form["user_cookie"].value() or ""
    context = {
        "form": form,
        "template": template,
        "picker": category_picker(account_value, _int(form["tid"].value())),
        "lines": upos.LINES,
        "has_accounts": BilibiliAccount.objects.exists(),
    }
    return render(request, "uploads/templates.html", context)


@require_POST
@login_required
def template_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(UploadTemplate, pk=pk)
    name = template.template_name
    # Streamers using it keep recording, with no template (SET_NULL), as in the API.
    template.delete()
    if request.htmx:
        return render(request, "uploads/templates.html#rows", _templates_context())
    messages.success(request, _("Upload template “%(name)s” deleted.") % {"name": name})
    return redirect("templates")


@require_GET
@login_required
def template_categories(request: HttpRequest) -> HttpResponse:
    """The category field for the chosen account: Bilibili's list, or a number input."""
    account = request.GET.get("account", request.GET.get("user_cookie", ""))
    picker = category_picker(account, _int(request.GET.get("tid")))
    return render(request, "uploads/templates.html#categories", {"picker": picker})


# The category picker


@dataclass
class Category:
    id: int
    name: str
    description: str


@dataclass
class CategoryGroup:
    parent: Category
    children: list[Category]


@dataclass
class CategoryPicker:
    """Bilibili's categories for an account (empty if they could not be had, with why)."""

    tid: int | None
    groups: list[CategoryGroup] = field(default_factory=list)
    error: str = ""

    @property
    def selected(self) -> Category | None:
        for group in self.groups:
            for child in group.children:
                if child.id == self.tid:
                    return child
        return None


def category_picker(account_value: str, tid: int | None) -> CategoryPicker:
    """Ask Bilibili (archive/pre, cached) for the account's categories; failures become a
    message, as the API's archive_pre reports them, and the page falls back to a number."""
    picker = CategoryPicker(tid)
    if not account_value:
        picker.error = _("Choose a Bilibili account to pick from its categories.")
        return picker
    account = BilibiliAccount.objects.filter(value=account_value).first()
    if account is None:
        picker.error = _("No Bilibili account named %(name)s.") % {
            "name": account_value
        }
    elif not account.credential:
        picker.error = _(
            "%(account)s has no login yet: log it in on the Accounts page to pick a category from the list."
        ) % {"account": account}
    elif account.status == BilibiliAccount.Status.EXPIRED:
        picker.error = _(
            "The login of %(account)s has expired: log it in again on the Accounts page to pick a category from the list."
        ) % {"account": account}
    else:
        try:
            data = account.ask(
                lambda: categories.archive_pre(account.credential, account.pk)
            )
        except BilibiliError as exc:
            picker.error = _("Bilibili refused the category list: %(error)s") % {
                "error": bilibili_messages.explain_error(exc)
            }
        except BilibiliUnavailable as exc:
            picker.error = _("Bilibili could not be reached: %(error)s") % {
                "error": exc.message
            }
        else:
            picker.groups = _category_groups(data["typelist"])
    return picker


def _category_groups(typelist: list[Any]) -> list[CategoryGroup]:
    def category(item: dict[str, Any]) -> Category | None:
        pk = _int(item.get("id"))
        if pk is None:
            return None
        name = str(item.get("name") or pk)
        return Category(pk, name, str(item.get("desc") or item.get("description", "")))

    groups = []
    for item in typelist:
        if not isinstance(item, dict) or (parent := category(item)) is None:
            continue
        children = [
            child
            for c in item.get("children") or []
            if isinstance(c, dict) and (child := category(c)) is not None
        ]
        if children:
            groups.append(CategoryGroup(parent, children))
    return groups


# Page helpers


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _first_usable_account() -> BilibiliAccount | None:
    return (
        BilibiliAccount.objects.filter(credential__isnull=False)
        .exclude(status=BilibiliAccount.Status.EXPIRED)
        .defer("credential")
        .order_by("id")
        .first()
    )


UPLOADER_LABELS = {
    "": gettext_lazy("The one chosen in Settings"),
    UploadTemplate.Uploader.UPOS: gettext_lazy("UPOS (biliup-rs)"),
    UploadTemplate.Uploader.OPENPLATFORM: gettext_lazy("Open Platform"),
    UploadTemplate.Uploader.NOOP: gettext_lazy("Don't upload"),
}
COPYRIGHT_LABELS = {1: gettext_lazy("Self-made"), 2: gettext_lazy("Repost")}


def _collection_widgets(form: UploadTemplateForm, accounts: Any) -> None:
    """The collection (合集) as two selects of the chosen account's seasons and sections;
    number inputs when they cannot be had. A value not in the list is kept, and said so."""
    value = form["user_cookie"].value() or ""
    account = next((a for a in accounts if a.value == value), None)
    if account is not None and account.status == BilibiliAccount.Status.EXPIRED:
        account = None
    found = collections.seasons_for_page(account)
    if not found:
        return
    season_now = _int(form["season_id"].value())
    section_now = _int(form["section_id"].value())

    def missing(now: int | None, known: set[int]) -> list[tuple[Any, str]]:
        if now is None or now in known:
            return []
        return [(now, _("%(id)s (not in this account's list)") % {"id": now})]

    form.fields["season_id"].widget = forms.Select(
        choices=[
            ("", _("None")),
            *((s.id, s.title) for s in found),
            *missing(season_now, {s.id for s in found}),
        ]
    )
    form.fields["section_id"].widget = forms.Select(
        choices=[
            ("", _("The collection's first section")),
            *((s.title, [(c.id, c.title) for c in s.sections]) for s in found),
            *missing(section_now, {c.id for s in found for c in s.sections}),
        ]
    )


def _page_widgets(form: UploadTemplateForm) -> None:
    """What the page shows differently from the API's plain fields: an account select,
    translated choices, a list of known lines."""
    accounts = BilibiliAccount.objects.defer("credential").order_by("id")
    pending = form.instance.account_name if form.instance.account_id is None else ""
    form.fields["user_cookie"].widget = forms.Select(
        choices=[
            ("", _("None: nothing is uploaded")),
            *((a.value, str(a)) for a in accounts),
            # A name given through the API before its account exists (biliup's clients).
            *(
                [(pending, _("%(name)s (no such account yet)") % {"name": pending})]
                if pending
                else []
            ),
        ],
        # Another account has other categories: reload the picker, keeping the chosen one.
        attrs={
            "hx-get": reverse("templates-categories"),
            "hx-target": "#tid-field",
            "hx-swap": "outerHTML",
            "hx-include": "[name='tid']",
        },
    )
    _collection_widgets(form, accounts)
    form.fields["uploader"].choices = [
        (value, UPLOADER_LABELS.get(value, label))
        for value, label in form.fields["uploader"].choices
    ]
    form.fields["submit_api"].choices = [
        ("", _("The one chosen in Settings")),
        (SubmitApi.APP, _("App (BiliTV appkey)")),
        (SubmitApi.WEB, _("Web (cookies + csrf)")),
    ]
    form.fields["copyright"].choices = [
        (value, COPYRIGHT_LABELS.get(value, label))
        for value, label in COPYRIGHT_CHOICES
    ]
    form.fields["lines"].widget.attrs.update(list="upos-lines", placeholder="AUTO")
    for name in ("desc", "credits"):
        form.fields[name].widget.attrs["rows"] = 3
