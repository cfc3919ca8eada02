"""What the accounts tell the user and the webhooks: uploads paused (Bilibili said too fast,
or the hourly budget is spent), a login about to expire, a login Bilibili no longer accepts.

accounts/models.py calls in here (an account marked expired), so this module does not import
it: an account is anything with BilibiliAccount's fields (the Account protocol).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.utils import formats, timezone
from django.utils.translation import gettext

from biliup_site.notices import digest, say, site_language

# A login expiring sooner than this is told (as the dashboard warns: EXPIRY_WARNING).
EXPIRING_WITHIN = timedelta(days=7)


class Account(Protocol):
    pk: Any
    value: str
    uname: str
    credential: Any
    expires_at: datetime | None
    status_reason: str


def account_data(account: Account) -> dict[str, Any]:
    return {
        "AccountId": account.pk,
        "Account": account.value,
        "AccountName": account.uname,
    }


def _name(account: Account) -> str:
    return f"{account.uname} ({account.value})" if account.uname else account.value


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def account_paused(
    account: Account, until: datetime, reason: str, episode: str
) -> None:
    """The account's uploads wait until `until`. `episode` names this pause (when it began,
    or the job whose submits are refused), so lengthening it is not told again."""
    data = account_data(account) | {"Until": until.isoformat(), "Reason": reason}
    with site_language():
        summary = gettext(
            "Uploads of account %(account)s are paused until %(time)s: %(reason)s"
        ) % {"account": _name(account), "time": _when(until), "reason": reason}
    say("account_paused", f"account_paused:{account.pk}:{episode}", data, summary)


def expiry(account: Account) -> datetime | None:
    """When the login stops working: the app token's end (checked by accounts/health.py) or
    the SESSDATA cookie's, whichever comes first; None when neither is known."""
    ends = [account.expires_at] if account.expires_at else []
    cookies = ((account.credential or {}).get("cookie_info") or {}).get("cookies")
    for cookie in cookies or []:
        expires = cookie.get("expires") if isinstance(cookie, dict) else None
        if cookie.get("name") == "SESSDATA" and isinstance(expires, int) and expires:
            try:
                ends.append(
                    datetime.fromtimestamp(expires, tz=timezone.get_current_timezone())
                )
            except (OverflowError, OSError, ValueError):
                pass  # an imported file's expiry past year 9999 tells nothing
    return min(ends) if ends else None


def cookie_expiring(account: Account, now: datetime | None = None) -> None:
    """Tell once per login and expiry date when it expires within EXPIRING_WITHIN."""
    now = now or timezone.now()
    ends = expiry(account)
    if ends is None or not now < ends <= now + EXPIRING_WITHIN:
        return
    data = account_data(account) | {"ExpiresAt": ends.isoformat()}
    with site_language():
        summary = gettext(
            "The login of account %(account)s expires on %(time)s: log in again before"
            " then"
        ) % {"account": _name(account), "time": _when(ends)}
    day = timezone.localdate(ends).isoformat()
    say("cookie_expiring", f"cookie_expiring:{account.pk}:{day}", data, summary)


def cookie_expired(account: Account) -> None:
    """Bilibili no longer accepts the login. Told once per credential: several jobs may find
    the same dead login at once, and a new login that expires later is news again."""
    data = account_data(account) | {"Reason": account.status_reason}
    with site_language():
        summary = gettext(
            "The login of account %(account)s has expired (%(reason)s): log in again"
        ) % {"account": _name(account), "reason": account.status_reason}
    credential = digest(json.dumps(account.credential, sort_keys=True))
    say("cookie_expired", f"cookie_expired:{account.pk}:{credential}", data, summary)
