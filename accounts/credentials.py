"""biliup's cookies.json documents: checking one, and reading one a user put in the data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from biliup_site import strictjson


class CredentialError(ValueError):
    pass


def parse(text: str) -> dict[str, Any]:
    """Check that text is a biliup cookies.json document and return it."""
    try:
        document = strictjson.loads(text)
    except strictjson.JsonError as exc:
        raise CredentialError(f"not valid JSON ({exc})") from None
    return check(document)


def check(document: Any) -> dict[str, Any]:
    """A biliup cookies.json document has cookie_info.cookies [{name, value}…] and token_info."""
    shape = "not a biliup cookies.json document (expected cookie_info.cookies and token_info)"
    if not isinstance(document, dict) or not isinstance(
        document.get("cookie_info"), dict
    ):
        raise CredentialError(shape)
    cookies = document["cookie_info"].get("cookies")
    if not isinstance(cookies, list) or not isinstance(
        document.get("token_info"), dict
    ):
        raise CredentialError(shape)
    if not all(
        isinstance(c, dict)
        and isinstance(c.get("name"), str)
        and isinstance(c.get("value"), str)
        for c in cookies
    ):
        raise CredentialError(
            "not a biliup cookies.json document (each cookie needs a name and a value)"
        )
    if not any(c["name"] == "SESSDATA" for c in cookies) and not document[
        "token_info"
    ].get("access_token"):
        raise CredentialError(
            "a cookies.json document with neither SESSDATA nor an access token"
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


def read_named_file(name: str) -> dict[str, Any] | None:
    """The document a biliup template names as its user_cookie ("cookies.json",
    "data/12345.json"), read from the data folder; None if there is no such file. The name
    may hold folders but may not leave the data folder, by '..' or by a link."""
    root = settings.DATA_DIR
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        return None
    path = root.joinpath(*parts)
    if not path.is_file():
        return None
    if any(p.is_symlink() for p in [path, *path.parents] if root in p.parents):
        raise CredentialError("the file is a link out of the data folder")
    if not path.resolve().is_relative_to(root):
        raise CredentialError("the file is outside the data folder")
    if path.stat().st_size > 1024 * 1024:
        raise CredentialError("the file is larger than 1 MB")
    return parse(path.read_text(encoding="utf-8", errors="replace"))
