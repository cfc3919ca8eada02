"""QR login, from the code a user scans to a stored account.

The login is a row; each poll of Bilibili advances it one step. A client may ask once per call
(`advance`), or wait, as biliup's login_by_qrcode does, until the phone confirms (`wait`). The
wait is a coroutine that sleeps on the event loop between polls: under daphne every sync view
shares one thread, and a sync view that slept for minutes would stall the whole site.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
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


FINISHED = (QrLogin.Status.CONFIRMED, QrLogin.Status.EXPIRED)


def advance(login: QrLogin) -> QrLogin:
    """Poll Bilibili once and record what it says; on confirmation, store the account."""
    if login.status in FINISHED:
        return login
    return record(login, poll(login))


def poll(login: QrLogin) -> passport.QrPoll:
    """Ask Bilibili where this code stands. Network only: no database."""
    if login.kind == QrLogin.Kind.TV:
        return passport.tv_poll(login.key)
    return passport.web_qr_poll(login.key)


def record(login: QrLogin, polled: passport.QrPoll) -> QrLogin:
    """Save what a poll said; on confirmation, store the account."""
    with transaction.atomic():
        login = QrLogin.objects.select_for_update().get(pk=login.pk)
        if login.status == QrLogin.Status.CONFIRMED:
            return login  # a concurrent request got there first
        if (
            polled.state == "confirmed"
            and polled.credential is not None
            and polled.mid is not None
        ):
            login.account = store(polled.credential, polled.mid)
        login.status = polled.state
        login.save(update_fields=("status", "account", "updated"))
    return login


async def wait(login: QrLogin, seconds: float) -> QrLogin:
    """Poll until the code is confirmed or expired, or `seconds` have passed; at least once.

    The HTTP poll runs on a thread of its own (it touches no database), the save in the sync
    thread with the ORM, and the pause between polls on the event loop, so a waiting login
    holds no thread. If the client goes away, Django cancels this coroutine at a sleep.
    """
    deadline = time.monotonic() + seconds
    while True:
        if login.status not in FINISHED:
            polled = await sync_to_async(poll, thread_sensitive=False)(login)
            login = await sync_to_async(record)(login, polled)
        left = deadline - time.monotonic()
        if login.status in FINISHED or left <= 0:
            return login
        await asyncio.sleep(min(settings.QR_POLL_SECONDS, left))


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
