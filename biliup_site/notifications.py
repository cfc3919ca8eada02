"""Notifications through apprise: one apprise URL per hook (Telegram, ServerChan, email, ...)."""

from __future__ import annotations

import apprise
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from biliup_site.models import Event, EventKind, Hook
from biliup_site.webhooks import Outcome

TIMEOUT_SECONDS = 20.0
ERROR_LENGTH = 500


def supported(url: str) -> bool:
    """apprise knows this URL's service and can parse it."""
    return apprise.Apprise.instantiate(url.strip()) is not None


def title_and_body(event: Event) -> tuple[str, str]:
    """What the person reads, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        label = (
            str(EventKind(event.kind).label)
            if event.kind in EventKind.values
            else gettext("Test")
        )
    return f"biliup: {label}", event.summary or label


def send(hook: Hook, event: Event) -> Outcome:
    """Notify once. apprise only says yes or no: the warnings it logs are the error."""
    notifier = apprise.Apprise()
    if not notifier.add(hook.url):
        return Outcome(
            ok=False, error="apprise does not support this URL.", permanent=True
        )
    title, body = title_and_body(event)
    logs: list[str] = []
    result = notifier.notify(
        body=body,
        title=title,
        timeout=TIMEOUT_SECONDS,
        log_callback=lambda entry, plugin: logs.append(entry.message),
        log_level=30,
    )
    if result:
        return Outcome(ok=True)
    error = " ".join(logs) or "apprise could not send the notification."
    return Outcome(ok=False, error=error[:ERROR_LENGTH])
