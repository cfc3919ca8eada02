"""biliup's `user` section of the configuration, mapped onto Bilibili accounts.

biliup keeps cookies in its configuration (`user.bili_cookie_file`, `user.bili_cookie`, …) and
its dashboard sends them back with every save. We never keep credentials there: a named cookie
file or a pasted Bilibili cookie becomes an account, and reads show the accounts' file names.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from accounts import cookiefile, credentials
from accounts.models import BilibiliAccount
from biliup_site.api import ApiError

# The keys of biliup's UserConfig (crates/biliup-cli/src/server/config.rs).
BILIBILI_KEYS = ("bili_cookie", "bili_cookie_file")
OTHER_KEYS = (
    "douyin_cookie",
    "twitch_cookie",
    "twitcasting_cookie",
    "youtube_cookie",
    "kuaishou_cookie",
    "niconico-email",
    "niconico-password",
    "niconico-user-session",
    "niconico-purge-credentials",
    "afreecatv_username",
    "afreecatv_password",
)


def _field_error(key: str, message: str) -> ApiError:
    return ApiError(f"user.{key}: {message}")


def section() -> dict[str, Any]:
    """The `user` section as biliup's dashboard reads it: the first account's name as the cookie
    file, everything else empty. Never a cookie: those stay in the accounts."""
    account = BilibiliAccount.objects.order_by("pk").only("value").first()
    data: dict[str, Any] = dict.fromkeys((*BILIBILI_KEYS, *OTHER_KEYS))
    data["bili_cookie_file"] = account.value if account else None
    return data


def apply(user: Any) -> list[BilibiliAccount]:
    """Take the `user` section of a configuration edit: import what names a Bilibili login, refuse
    what we cannot keep. Run inside the edit's transaction, so a refusal undoes the imports.
    Empty values (null, "") mean "not set" and are skipped, as the dashboard sends every key."""
    if user is None:
        return []
    if not isinstance(user, dict):
        raise ApiError("user: " + gettext("Expected an object."))
    accounts = []
    for key, value in user.items():
        if value in (None, ""):
            continue
        if key == "bili_cookie_file":
            accounts.append(_import_file(value))
        elif key == "bili_cookie":
            accounts.append(_import_cookie(value))
        elif key in OTHER_KEYS:
            raise _field_error(
                key,
                gettext(
                    "Not kept: this site records other platforms without their cookies "
                    "or passwords. Leave it empty."
                ),
            )
        else:
            raise _field_error(key, gettext("Unknown key."))
    return accounts


def _import_file(name: Any) -> BilibiliAccount:
    if not isinstance(name, str):
        raise _field_error("bili_cookie_file", gettext("Expected a file name."))
    try:
        account = cookiefile.find_or_import(name.strip())
    except credentials.CredentialError as exc:
        raise _field_error(
            "bili_cookie_file",
            gettext("%(name)s can't be imported: %(reason)s.")
            % {"name": name, "reason": exc},
        ) from None
    if account is None:
        raise _field_error(
            "bili_cookie_file",
            gettext(
                "No account and no file named %(name)s in the data folder: put the "
                "cookies file there, or log in under Accounts."
            )
            % {"name": name},
        )
    return account


def parse_cookie(text: str) -> dict[str, str]:
    """A Cookie header's text ("SESSDATA=…; bili_jct=…") as name → value."""
    pairs = {}
    for part in text.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            pairs[name.strip()] = value.strip()
    return pairs


def _import_cookie(text: Any) -> BilibiliAccount:
    """A pasted Bilibili cookie becomes an account named as biliup names its cookie files
    (<mid>.json). An account of the same mid is kept as it is: its stored login may carry an
    access token that a browser cookie lacks."""
    if not isinstance(text, str):
        raise _field_error("bili_cookie", gettext("Expected the cookie's text."))
    cookies = parse_cookie(text)
    if not cookies.get("SESSDATA"):
        raise _field_error(
            "bili_cookie",
            gettext("A Bilibili login cookie needs SESSDATA (SESSDATA=…; bili_jct=…)."),
        )
    uid = cookies.get("DedeUserID", "")
    mid = int(uid) if uid.isdigit() else None
    if mid is not None and (same := BilibiliAccount.objects.filter(mid=mid).first()):
        return same
    document = {
        "cookie_info": {
            "cookies": [{"name": k, "value": v} for k, v in cookies.items()],
            "domains": [".bilibili.com"],
        },
        "token_info": {"mid": mid} if mid is not None else {},
        "platform": "BiliTV",
    }
    name = f"{mid}.json" if mid is not None else "bili_cookie.json"
    return cookiefile.store(name, credentials.check(document))
