"""django-q2 entry points of the site app."""

from __future__ import annotations

from biliup_site import hooks


def flush_hook(hook_id: int) -> int:
    """Send a hook's due deliveries, in order (biliup_site/hooks.py)."""
    return hooks.flush(hook_id)
