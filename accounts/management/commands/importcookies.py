from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import cookiefile, credentials
from accounts.models import account_name_validator


class Command(BaseCommand):
    help = "Import a biliup cookies.json file as a Bilibili account (created, or its credential replaced)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--name", help="Account name (default: the file's name, e.g. cookies.json)"
        )

    def handle(self, *args: Any, path: Path, name: str | None, **options: Any) -> None:
        name = name or path.name
        try:
            account_name_validator(name)
            document = credentials.parse(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        except (credentials.CredentialError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from None
        account = cookiefile.store(name, document)
        self.stdout.write(f"Imported {path} as account {name!r} (mid {account.mid})")
