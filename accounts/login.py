"""QR login, from the code a user scans to a stored account, one poll per call.

biliup's /login_by_qrcode holds the request for up to 300 s. Here a web request never waits on
Bilibili longer than one poll: the login is a row, each POST advances it one step and answers at
once ("pending" until confirmed), so a client just asks again. Under daphne all sync views share
one thread, and a view that slept for minutes would stall the whole site.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django_q.tasks import async_task

from accounts.models import BilibiliAccount, QrLogin
from biliup_site.bilibili import passport

logger = logging.getLogger(__name__)


def start(kind: str = QrLogin.Kind.TV) -> QrLogin:
    code = (
        passport.tv_auth_code()
        if kind == QrLogin.Kind.TV
        else passport.web_qr_generate()
    )
    return QrLogin.objects.create(key=code.key, kind=kind, url=code.url)


def advance(login: QrLogin) -> QrLogin:
    """Poll Bilibili once and record what it says; on confirmation, store the account."""
    if login.status in (QrLogin.Status.CONFIRMED, QrLogin.Status.EXPIRED):
        return login
    poll = (
        passport.tv_poll(login.key)
        if login.kind == QrLogin.Kind.TV
        else passport.web_qr_poll(login.key)
    )
    with transaction.atomic():
        login = QrLogin.objects.select_for_update().get(pk=login.pk)
        if login.status == QrLogin.Status.CONFIRMED:
            return login  # a concurrent request got there first
        if (
            poll.state == "confirmed"
            and poll.credential is not None
            and poll.mid is not None
        ):
            login.account = store(poll.credential, poll.mid)
        login.status = poll.state
        login.save(update_fields=("status", "account", "updated"))
    return login


def store(credential: dict[str, Any], mid: int) -> BilibiliAccount:
    """Create or update the account of this mid (named like biliup's data/{mid}.json)."""
    account = BilibiliAccount.objects.select_for_update().filter(mid=mid).first()
    if account is None:
        account = BilibiliAccount(value=f"{mid}.json")
    account.set_credential(credential)
    account.mid = mid
    account.save()
    logger.info("Stored the credential of Bilibili account %s", mid)
    # Learn its name, avatar and token expiry now rather than at the next daily check.
    pk = account.pk
    transaction.on_commit(
        lambda: async_task("accounts.tasks.check_account", pk, group="accounts")
    )
    return account
