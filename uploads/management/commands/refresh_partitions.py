from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, partitions
from uploads.submit_form import NoAccount, refresh_partitions


class Command(BaseCommand):
    help = (
        "Rewrite the 2025 partition tree (tid_v2) from Bilibili's list, asked with the first"
        " active account. Written to the data folder's partitions.json unless --output says."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help=f"Where to write (default: {partitions.local_path()}); the shipped tree is"
            f" {partitions.SHIPPED}",
        )

    def handle(self, *args: Any, output: Path | None, **options: Any) -> None:
        try:
            account, count = refresh_partitions(output)
        except NoAccount as exc:
            raise CommandError(str(exc)) from None
        except (BilibiliError, BilibiliUnavailable) as exc:
            raise CommandError(f"Bilibili refused the partition list: {exc}") from None
        where = output or partitions.local_path()
        self.stdout.write(f"{count} main partitions from {account} written to {where}")
