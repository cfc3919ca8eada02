"""django-q2 entry points of the accounts app."""

from __future__ import annotations

from accounts import health
from accounts.models import BilibiliAccount


def check_accounts() -> None:
    """Scheduled daily: validate every account that has a credential."""
    for account in BilibiliAccount.objects.filter(credential__isnull=False).exclude(
        status=BilibiliAccount.Status.EXPIRED
    ):
        health.check(account)


def check_account(account_id: int) -> None:
    account = BilibiliAccount.objects.filter(pk=account_id).first()
    if account is not None:
        health.check(account)
