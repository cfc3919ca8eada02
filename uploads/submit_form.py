"""The 2025 submit form's choices: the creation statement (创作声明) and the partition picker.

A template stores a statement's key; biliup_site/bilibili/submit.py turns it into the wire's
`creation_statement: {"id": n}`. Reference: bilibili-2026.md "Upload and submit".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import BilibiliAccount
from biliup_site.bilibili import partitions
from biliup_site.bilibili.submit import CREATION_STATEMENTS


@dataclass(frozen=True)
class Statement:
    label: Promise  # English msgid; zh-Hans is Bilibili's own wording
    wire: int  # the id sent as creation_statement.id


STATEMENTS: dict[str, Statement] = {
    "none": Statement(_("No label needed"), CREATION_STATEMENTS["none"]),
    "ai": Statement(_("Contains AI-generated content"), CREATION_STATEMENTS["ai"]),
    "fiction": Statement(
        _("Contains fictional or staged content"), CREATION_STATEMENTS["fiction"]
    ),
    "marketing": Statement(
        _("Contains marketing information"), CREATION_STATEMENTS["marketing"]
    ),
    "opinion": Statement(
        _("Personal opinion, for reference only"), CREATION_STATEMENTS["opinion"]
    ),
}


def statement_choices() -> list[tuple[str, str | Promise]]:
    return [("", _("None declared")), *((k, s.label) for k, s in STATEMENTS.items())]


def partition_choices() -> list[tuple[str | int, object]]:
    """The tid_v2 <select>: empty, then one <optgroup> per main partition."""
    return [("", _("None: the legacy category alone")), *partitions.choices()]


class NoAccount(Exception):
    """No logged-in, active Bilibili account to ask for the partition list."""


def refresh_partitions(path: Path | None = None) -> tuple[BilibiliAccount, int]:
    """Rewrite the partition tree from the first active account's type2 list: (that account,
    how many main partitions). Raises NoAccount, BilibiliError or BilibiliUnavailable."""
    account = (
        BilibiliAccount.objects.filter(
            status=BilibiliAccount.Status.ACTIVE, credential__isnull=False
        )
        .order_by("id")
        .first()
    )
    if account is None:
        raise NoAccount(
            _("No active Bilibili account: log one in on the Accounts page.")
        )
    rows = account.ask(lambda: partitions.refresh(account.credential, path))
    return account, len(rows)
