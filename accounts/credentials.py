"""biliup's cookies.json documents: reading one that a user put in the data folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings


class CredentialError(ValueError):
    pass


def parse(text: str) -> dict[str, Any]:
    """Check that text is a biliup cookies.json document and return it."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialError(f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(
        document.get("cookie_info", {}), dict
    ):
        raise CredentialError(
            "not a biliup cookies.json document (expected cookie_info and token_info)"
        )
    if "cookie_info" not in document and "token_info" not in document:
        raise CredentialError(
            "not a biliup cookies.json document (expected cookie_info and token_info)"
        )
    return document


def read_from_data_dir(name: str) -> dict[str, Any] | None:
    """The document named `name` in BILIUP_DATA_DIR, if there is one.

    `name` has passed account_name_validator (no '/' and no leading '.'), so it cannot leave the
    data folder; a symlink out of it is refused all the same.
    """
    root = settings.DATA_DIR
    path = root / name
    if not path.is_file():
        return None
    if path.is_symlink() or path.resolve().parent != root:
        raise CredentialError("the file is a link out of the data folder")
    if path.stat().st_size > 1024 * 1024:
        raise CredentialError("the file is larger than 1 MB")
    return parse(Path(path).read_text(encoding="utf-8", errors="replace"))
