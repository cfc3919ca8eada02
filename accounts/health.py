"""Keeping credentials alive: validate each account, refresh its app token before it expires,
and mark it expired, with Bilibili's reason, when Bilibili no longer accepts it."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import notices
from accounts.models import BilibiliAccount
from biliup_site import bilibili, bilibili_messages
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, passport
from biliup_site.bilibili import account as bilibili_account

logger = logging.getLogger(__name__)

# Refresh when less than this is left (tokens last 180 days; Bilibili also says `refresh`).
REFRESH_BEFORE = timedelta(days=30)


def check(account: BilibiliAccount) -> BilibiliAccount:
    """Check one account against Bilibili and save what was learnt. Never raises for Bilibili."""
    original = account.credential
    if not original:
        return account
    credential, expires_at = original, account.expires_at
    try:
        if bilibili.access_token(credential):
            token = passport.token_info(credential)
            if token.refresh or timedelta(seconds=token.expires_in) < REFRESH_BEFORE:
                credential = passport.refresh_token(credential)
                token = passport.token_info(credential)
                logger.info("Refreshed the app token of account %s", account.value)
            expires_at = timezone.now() + timedelta(seconds=token.expires_in)
        me = bilibili_account.nav(credential)
    except BilibiliError as exc:
        if exc.expired_credential:
            logger.warning("Account %s expired: %s", account.value, exc)
            return _save(
                account,
                original,
                status=BilibiliAccount.Status.EXPIRED,
                reason=bilibili_messages.reason(exc),
            )
        return _save(
            account, original, reason=_not_checked(bilibili_messages.reason(exc))
        )
    except BilibiliUnavailable as exc:
        return _save(account, original, reason=_not_checked(exc.message))
    account.credential = credential
    account.mid, account.uname, account.face, account.expires_at = (
        me.mid,
        me.uname,
        me.face,
        expires_at,
    )
    return _save(
        account, original, status=BilibiliAccount.Status.ACTIVE, reason="", learnt=True
    )


def _not_checked(why: str) -> str:
    # Stored, so in the site's language (as bilibili_messages.reason is).
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Could not check: %(reason)s") % {"reason": why}


def _save(
    account: BilibiliAccount,
    original: object,
    status: str | None = None,
    reason: str = "",
    learnt: bool = False,
) -> BilibiliAccount:
    fields = ["status_reason", "checked_at", "updated"]
    with transaction.atomic():
        fresh = BilibiliAccount.objects.select_for_update().get(pk=account.pk)
        if fresh.credential != original:
            # A new login replaced the credential while we checked the old one: keep the new one.
            return fresh
        if learnt:
            fresh.credential, fresh.mid, fresh.uname = (
                account.credential,
                account.mid,
                account.uname,
            )
            fresh.face, fresh.expires_at = account.face, account.expires_at
            fields += ["credential", "mid", "uname", "face", "expires_at"]
        if status is not None:
            fresh.status = status
            fields.append("status")
        fresh.status_reason = reason
        fresh.checked_at = timezone.now()
        fresh.save(update_fields=fields)
    if status == BilibiliAccount.Status.EXPIRED:
        notices.cookie_expired(fresh)
    return fresh
