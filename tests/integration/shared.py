"""What tests/integration/conftest.py's shared fixtures give: the site and its fake Bilibili."""

from __future__ import annotations

from dataclasses import dataclass

from tests.fakebili.server import FakeBilibili
from tests.livesite import Site


@dataclass(frozen=True)
class Shared:
    fake: FakeBilibili
    site: Site
