"""Site-wide pages: the dashboard, the settings and the logs; recordings under /static/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import TokenForm
from accounts.models import ApiToken, BilibiliAccount
from biliup_site import attention, hooks, logs, ranges
from biliup_site.api import ApiError, api
from biliup_site.attention import accounts_needing_attention, disk
from biliup_site.forms import ConfigurationForm, HookForm
from biliup_site.http import ApiRequest, HtmxHttpRequest
from biliup_site.models import Configuration, Hook
from biliup_site.pages import render_page
from recorder import videos
from recorder.models import Streamer
from uploads.models import UploadJob


def dashboard_jobs() -> list[UploadJob]:
    """Every unfinished job, then the ones finished in the last day (at most 10)."""
    jobs = UploadJob.objects.for_rows()
    active = list(jobs.filter(status__in=UploadJob.ACTIVE).order_by("-id"))
    recent = list(
        jobs.filter(
            status__in=UploadJob.FINISHED,
            finished__gt=timezone.now() - timedelta(days=1),
        ).order_by("-finished")[:10]
    )
    return active + recent


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    config = Configuration.load()
    context = {
        "streamers": Streamer.objects.with_upload_status().select_related(
            "upload_template"
        ),
        "jobs": dashboard_jobs(),
        "disk": disk(config),
        "attention": accounts_needing_attention(),
        "config": config,
        "has_accounts": BilibiliAccount.objects.exists(),
        "now": timezone.now(),
    }
    return render_page(
        request, "biliup_site/dashboard.html", context, parts=("rooms", "uploads")
    )


@require_GET
def attention_strip(request: HtmxHttpRequest) -> HttpResponse:
    """The attention strip alone: what every page shows under its header, reloaded by the
    strip itself when the pages' socket says an upload, a room or an account changed."""
    if not request.user.is_authenticated:
        if request.htmx:
            # Logged out in another tab: the strip's poll must not swap the login page in.
            return HttpResponse(status=204)
        return redirect_to_login(request.get_full_path())
    return render(
        request, "biliup_site/attention.html", {"attention": attention.count()}
    )


# Settings -------------------------------------------------------------------------------------

# Write-only: never rendered back; a blank field keeps what is stored.
SECRETS = ("openplatform_app_secret", "openplatform_access_token", "justoneapi_token")
SETTINGS_GROUPS = (
    (
        pgettext_lazy("settings section", "Recording"),
        (
            "recordings_dir",
            "event_loop_interval",
            "delay",
            "download_limit",
            "disk_reserve",
        ),
    ),
    (
        pgettext_lazy("settings section", "Uploading"),
        (
            "uploader",
            "lines",
            "threads",
            "upload_limit",
            "submit_api",
            "delete_after_upload",
        ),
    ),
    (
        pgettext_lazy("settings section", "Upload speed"),
        (
            "upload_rate_limit",
            "upload_schedule",
            "upload_adaptive",
            "upload_max_connections",
            "upload_line_max_connections",
        ),
    ),
    (
        pgettext_lazy("settings section", "Open Platform"),
        (
            "openplatform_client_id",
            "openplatform_app_secret",
            "openplatform_access_token",
            "openplatform_auth",
        ),
    ),
    (
        pgettext_lazy("settings section", "Creator catalogs"),
        ("catalog_provider", "justoneapi_env", "justoneapi_token"),
    ),
)


def _with_kept_secrets(post: QueryDict, config: Configuration) -> QueryDict:
    """A blank secret keeps the stored one (as the API's PUT without it); "clear" empties it."""
    data = post.copy()
    for name in SECRETS:
        if data.get(f"clear_{name}"):
            data[name] = ""
        elif not data.get(name):
            data[name] = getattr(config, name)
    return data


def _settings_context(
    request: HttpRequest, form: ConfigurationForm, config: Configuration, **extra: Any
) -> dict[str, Any]:
    for name in SECRETS:
        form.fields[name].widget = forms.PasswordInput(
            attrs={"autocomplete": "new-password"}
        )
    # Read before the form is bound: a bound ModelForm has already changed `config`.
    stored = Configuration.load()
    secret_set = {name: bool(getattr(stored, name)) for name in SECRETS}
    groups = [
        (title, [(form[name], secret_set.get(name)) for name in names])
        for title, names in SETTINGS_GROUPS
    ]
    return {
        "form": form,
        "groups": groups,
        "recordings_path": stored.recordings_path(),
        "tokens": request.user.api_tokens.all(),
        "token_form": TokenForm(),
        **_hooks_context(),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """The global configuration, through the same form as PUT /api/v1/configuration."""
    config = Configuration.load()
    if request.method != "POST":
        form = ConfigurationForm(instance=config)
        return render_page(
            request,
            "biliup_site/settings.html",
            _settings_context(request, form, config),
            parts=("tokens", "hooks"),
        )
    form = ConfigurationForm(_with_kept_secrets(request.POST, config), instance=config)
    if form.is_valid():
        form.save()
        messages.success(request, _("Settings saved."))
        return redirect("settings")
    return render(
        request,
        "biliup_site/settings.html",
        _settings_context(request, form, Configuration.load()),
    )


def _tokens_answer(request: HtmxHttpRequest, **extra: Any) -> HttpResponse:
    """The tokens card for htmx; the whole settings page for a plain form post."""
    if request.htmx:
        context = {
            "tokens": request.user.api_tokens.all(),
            "token_form": TokenForm(),
            **extra,
        }
        return render(request, "biliup_site/settings.html#tokens", context)
    config = Configuration.load()
    form = ConfigurationForm(instance=config)
    context = _settings_context(request, form, config, **extra)
    return render(request, "biliup_site/settings.html", context)


@require_POST
@login_required
def settings_tokens(request: HtmxHttpRequest) -> HttpResponse:
    """Issue an API token; its secret is shown this once."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _tokens_answer(request, token_form=form)
    token, raw = ApiToken.objects.issue(request.user, form.cleaned_data["name"])
    return _tokens_answer(request, new_token=token, raw_token=raw)


@require_POST
@login_required
def settings_token_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.delete()
    if request.htmx:
        return _tokens_answer(request)
    messages.success(
        request, _("Deleted the API token %(name)s.") % {"name": token.name}
    )
    return redirect("settings")


# Notifications and webhooks --------------------------------------------------------------------

ADD_KINDS = (Hook.Kind.APPRISE, Hook.Kind.WEBHOOK)


def _add_form(kind: str, data: QueryDict | None = None) -> HookForm:
    initial = {"kind": kind, "events": hooks.default_events(kind), "enabled": True}
    return HookForm(data, prefix=f"new-{kind}", initial=initial)


def _edit_form(hook: Hook, data: QueryDict | None = None) -> HookForm:
    return HookForm(data, instance=hook, prefix=f"hook-{hook.pk}")


def _hooks_context(
    bound: HookForm | None = None,
    tested: tuple[int, hooks.Outcome] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The hooks card: each hook with its edit form, its last deliveries and, just after a
    test, how the test went; and a form to add each kind. `bound` is a form that failed."""
    rows = []
    for hook in Hook.objects.all():
        form = _edit_form(hook)
        if bound is not None and bound.prefix == form.prefix:
            form = bound
        rows.append(
            {
                "hook": hook,
                "form": form,
                "deliveries": hooks.recent_deliveries(hook),
                "test": tested[1] if tested and tested[0] == hook.pk else None,
            }
        )
    adds = {kind: _add_form(kind) for kind in ADD_KINDS}
    if bound is not None and bound.prefix in {f"new-{kind}" for kind in ADD_KINDS}:
        adds[bound.initial["kind"]] = bound
    return {
        "hook_rows": rows,
        "add_apprise": adds[Hook.Kind.APPRISE],
        "add_webhook": adds[Hook.Kind.WEBHOOK],
        **extra,
    }


def _hooks_answer(request: HtmxHttpRequest, **extra: Any) -> HttpResponse:
    """The hooks card for htmx; the whole settings page for a plain form post."""
    if request.htmx:
        return render(
            request, "biliup_site/settings.html#hooks", _hooks_context(**extra)
        )
    config = Configuration.load()
    form = ConfigurationForm(instance=config)
    context = {**_settings_context(request, form, config), **_hooks_context(**extra)}
    return render(request, "biliup_site/settings.html", context)


@require_POST
@login_required
def settings_hook_add(request: HtmxHttpRequest, kind: str) -> HttpResponse:
    """Add a notification or a webhook; a webhook's secret is shown this once."""
    if kind not in ADD_KINDS:
        raise Http404
    form = _add_form(kind, _with_kind(request.POST, f"new-{kind}", kind))
    if not form.is_valid():
        return _hooks_answer(request, bound=form)
    hook = form.save(commit=False)
    secret = hooks.save(hook)
    return _hooks_answer(request, new_secret=secret, secret_hook=hook)


@require_POST
@login_required
def settings_hook_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Hook, pk=pk)
    form = _edit_form(hook, _with_kind(request.POST, f"hook-{pk}", hook.kind))
    if not form.is_valid():
        return _hooks_answer(request, bound=form)
    hooks.save(form.save(commit=False))
    return _hooks_answer(request, saved=pk)


def _with_kind(post: QueryDict, prefix: str, kind: str) -> QueryDict:
    """The page does not change a hook's kind: it is the one the form was made for."""
    data = post.copy()
    data[f"{prefix}-kind"] = kind
    return data


@require_POST
@login_required
def settings_hook_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Hook, pk=pk).delete()
    return _hooks_answer(request)


@require_POST
@login_required
def settings_hook_secret(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A new signing secret for a webhook, shown this once."""
    hook = get_object_or_404(Hook, pk=pk, kind=Hook.Kind.WEBHOOK)
    secret = hooks.save(hook, regenerate_secret=True)
    return _hooks_answer(request, new_secret=secret, secret_hook=hook)


@require_POST
@login_required
def settings_hook_test(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Send a test event now and show how it went beside the hook."""
    hook = get_object_or_404(Hook, pk=pk)
    return _hooks_answer(request, tested=(hook.pk, hooks.test_send(hook)))


# Files under /static and the logs ------------------------------------------------------------


@api("GET", "HEAD")
def static_file(request: ApiRequest, name: str) -> HttpResponse:
    """GET /static/<name>: a recording (biliup's history player), a segment's chat (danmaku
    XML or ASS, as an attachment) or one of the site's logs.

    The site's own CSS and JS are answered before this by WhiteNoise; whatever else is under
    /static/ is a file of the recordings folder, for a logged-in user (session or API token)
    only, never outside it. Players seek with Range requests: 206 answers.
    """
    log = logs.log_path(name)
    if log is not None:
        if not log.is_file():
            raise ApiError("This log has no lines yet", 404)
        return ranges.file_response(request, log, attachment=True)
    try:
        path = videos.resolve(
            Configuration.load().recordings_path(),
            name,
            videos.MEDIA_SUFFIXES + videos.DANMAKU_SUFFIXES,
        )
    except videos.PathRefused:
        raise ApiError("Not found", 404) from None
    # A chat file is text written from viewers' messages: saved, never shown in the site's origin.
    chat = path.suffix.lower() in videos.DANMAKU_SUFFIXES
    return ranges.file_response(request, path, attachment=chat)


@require_GET
@login_required
def logs_page(request: HttpRequest) -> HttpResponse:
    """The site's logs as they are written: the same stream as biliup's log viewer (/v1/ws/logs)."""
    name = request.GET.get("file", logs.LOG_NAMES[0])
    if name not in logs.LOG_NAMES:
        name = logs.LOG_NAMES[0]
    return render(
        request, "biliup_site/logs.html", {"file": name, "names": logs.LOG_NAMES}
    )
