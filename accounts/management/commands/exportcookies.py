from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import cookiefile
from accounts.models import BilibiliAccount


class Command(BaseCommand):
    help = "Print an account's credential as a biliup cookies.json document (a secret: redirect it to a file)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="Account name, as listed by /api/v1/users")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        account = BilibiliAccount.objects.filter(value=name).first()
        if account is None:
            raise CommandError(f"No Bilibili account named {name!r}")
        if not account.credential:
            raise CommandError(f"{name} has no credential")
        self.stdout.write(cookiefile.export(account), ending="")
