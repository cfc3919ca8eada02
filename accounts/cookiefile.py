"""biliup cookies.json files in and out of an account: what `importcookies`, `exportcookies`
and the accounts page share."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import credentials
from accounts.models import BilibiliAccount, account_name_validator


def export(account: BilibiliAccount) -> str:
    """The account's credential as the cookies.json text biliup reads (ends with a newline)."""
    return json.dumps(account.credential, ensure_ascii=False, indent=2) + "\n"


def store(name: str, document: dict[str, Any]) -> BilibiliAccount:
    """Create the account `name` with this checked document, or replace its credential."""
    with transaction.atomic():
        account = BilibiliAccount.objects.select_for_update().filter(
            value=name
        ).first() or BilibiliAccount(value=name)
        account.set_credential(document)
        account.save()
    return account


def find_or_import(name: str) -> BilibiliAccount | None:
    """The account a biliup template's user_cookie names: the account of that name; else the
    cookies file of that name in the data folder, matched to the account already imported
    from it (same mid) or imported as a new one; else None (nothing of that name yet).
    Raises CredentialError if the file is there but is not a usable cookies document."""
    account = BilibiliAccount.objects.filter(value=name).first()
    if account is not None:
        return account
    document = credentials.read_named_file(name)
    if document is None:
        return None
    mid = (document.get("token_info") or {}).get("mid")
    if isinstance(mid, int) and (
        same := BilibiliAccount.objects.filter(mid=mid).first()
    ):
        return same
    value = name if _valid_name(name) else name.replace("/", "-")
    if not _valid_name(value) or BilibiliAccount.objects.filter(value=value).exists():
        raise credentials.CredentialError(
            f"no account can be named after {name!r}: import it under Accounts instead"
        )
    return store(value, document)


def _valid_name(name: str) -> bool:
    try:
        account_name_validator(name)
    except ValidationError:
        return False
    return True
