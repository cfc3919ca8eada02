"""The JustOneAPI client itself, without the catalogs: what its document asks of a caller.

The client's paging, business codes and token secrecy are tested end to end through the
catalogs (tests/creators/test_catalogs_justoneapi.py), against the fake JustOneAPI.
"""

from __future__ import annotations

from biliup_site.bilibili import justoneapi


def test_the_timeout_is_at_least_60_seconds() -> None:
    # The document: "Set request timeout to at least 60 seconds."
    assert justoneapi.TIMEOUT[1] >= 60
