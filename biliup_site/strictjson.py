"""The one JSON reader for what clients send: API bodies, JSON text in form fields, cookies.json.

json.loads recurses once per nesting level, so 100 000 '[' end in a RecursionError; the depth is
measured first, without recursion. And valid JSON may hold what no database column can: a lone
UTF-16 surrogate ("\\ud800", which SQLite and PostgreSQL refuse to encode) or a NUL (which
PostgreSQL's text and jsonb refuse). Both are refused here, before anything is stored.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64

# A JSON string, its closing quote optional so that an unterminated one is consumed once rather
# than retried from every quote inside it (which would be quadratic).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_UNSTORABLE = re.compile(r"[\ud800-\udfff\x00]")


class JsonError(ValueError):
    """The text is not JSON this site accepts; the message says why."""


def depth(text: str) -> int:
    """How deeply the text's arrays and objects nest (brackets inside strings don't count)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(data: str | bytes) -> Any:
    """Parse JSON text (bytes are UTF-8); raise JsonError naming the problem."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"not UTF-8 ({exc})") from None
    if depth(data) > MAX_DEPTH:
        raise JsonError(f"nested more than {MAX_DEPTH} levels deep")
    try:
        value = json.loads(data)
    except json.JSONDecodeError as exc:
        raise JsonError(str(exc)) from None
    _check_storable(value)
    return value


def _check_storable(value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and (bad := _UNSTORABLE.search(item)):
            char = bad.group()
            what = "a NUL character" if char == "\x00" else "a lone surrogate"
            raise JsonError(f"{what} (\\u{ord(char):04x}) in {json.dumps(item[:40])}")


class StrictDecoder(json.JSONDecoder):
    """loads() for Django's forms.JSONField, which parses JSON text with `cls=decoder` and turns
    a JSONDecodeError into a form error."""

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return loads(s)
        except JsonError as exc:
            raise json.JSONDecodeError(str(exc), s, 0) from None
