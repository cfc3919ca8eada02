"""django-q2 entry points of the accounts app."""

from __future__ import annotations

from accounts import health, notices
from accounts.models import BilibiliAccount


def check_accounts() -> None:
    """Scheduled daily: validate every account that has a credential; a login that expires
    within a week (a token that could not be refreshed, a web login's cookies) is told."""
    for account in BilibiliAccount.objects.filter(credential__isnull=False).exclude(
        status=BilibiliAccount.Status.EXPIRED
    ):
        _check(account)


def check_account(account_id: int) -> None:
    account = BilibiliAccount.objects.filter(pk=account_id).first()
    if account is not None:
        _check(account)


def _check(account: BilibiliAccount) -> None:
    checked = health.check(account)
    if checked.status != BilibiliAccount.Status.EXPIRED:
        notices.cookie_expiring(checked)
