"""biliup cookies.json files in and out of an account: what `importcookies`, `exportcookies`
and the accounts page share."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from accounts.models import BilibiliAccount


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
