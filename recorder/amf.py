"""AMF0 script data in FLV: reading a script tag (onMetaData), and writing one whose numbers can
be patched in place.

Reference: Adobe "Video File Format Specification" v10.1, annex E.4.4 (SCRIPTDATA) and the AMF0
specification (value markers).
"""

from __future__ import annotations

import struct

_U32 = struct.Struct(">I")
_DOUBLE = struct.Struct(">d")


class _AmfError(ValueError):
    pass


def parse_script(data: bytes) -> tuple[str, dict[str, object]]:
    """A script tag's name ("onMetaData") and properties, as far as they parse.

    Encoders disagree on details (missing end markers, odd types), so whatever parsed before
    the first problem is kept rather than dropping the whole tag.
    """
    name: object = ""
    props: dict[str, object] = {}
    try:
        name, pos = _amf_value(data, 0, 0)
        if data[pos] in (3, 8):  # object, or ECMA array (whose count we need not trust)
            _amf_properties(data, pos + (5 if data[pos] == 8 else 1), 1, props)
    except (_AmfError, IndexError, struct.error):
        pass
    return (name if isinstance(name, str) else ""), props


def _amf_value(buf: bytes, pos: int, depth: int) -> tuple[object, int]:
    if depth > 16:
        raise _AmfError("AMF0 nested too deep")
    marker = buf[pos]
    pos += 1
    if marker == 0:  # number
        return _DOUBLE.unpack_from(buf, pos)[0], pos + 8
    if marker == 1:  # boolean
        return buf[pos] != 0, pos + 1
    if marker in (2, 12):  # string, long string
        width = 2 if marker == 2 else 4
        end = pos + width + int.from_bytes(buf[pos : pos + width])
        return buf[pos + width : end].decode("utf-8", "replace"), end
    if marker in (3, 8):  # object, ECMA array (which has a count we need not trust)
        props: dict[str, object] = {}
        pos = _amf_properties(buf, pos + (4 if marker == 8 else 0), depth + 1, props)
        return props, pos
    if marker in (5, 6):  # null, undefined
        return None, pos
    if marker == 10:  # strict array
        count = _U32.unpack_from(buf, pos)[0]
        pos += 4
        items = []
        for _ in range(count):  # a bogus count runs out of bytes: IndexError
            item, pos = _amf_value(buf, pos, depth + 1)
            items.append(item)
        return items, pos
    if marker == 11:  # date: ms since the epoch and a time zone nobody uses
        return _DOUBLE.unpack_from(buf, pos)[0], pos + 10
    raise _AmfError(f"unsupported AMF0 type {marker}")


def _amf_properties(
    buf: bytes,
    pos: int,
    depth: int,
    props: dict[str, object],
    numbers: dict[str, int] | None = None,
) -> int:
    """Read key/value pairs into props up to the end marker; numbers gets value offsets."""
    while pos < len(buf):  # some encoders leave out the end marker
        n = int.from_bytes(buf[pos : pos + 2])
        if n == 0 and buf[pos + 2] == 9:
            return pos + 3
        key = buf[pos + 2 : pos + 2 + n].decode("utf-8", "replace")
        pos += 2 + n
        if numbers is not None and buf[pos] == 0:
            numbers[key] = pos + 1
        props[key], pos = _amf_value(buf, pos, depth)
    return pos


def metadata_offsets(data: bytes) -> dict[str, int]:
    """Offsets in an onMetaData tag's data of its top-level numbers (to patch in place)."""
    numbers: dict[str, int] = {}
    try:
        name, pos = _amf_value(data, 0, 0)
        if name == "onMetaData" and data[pos] in (3, 8):
            _amf_properties(data, pos + (5 if data[pos] == 8 else 1), 1, {}, numbers)
    except (_AmfError, IndexError, struct.error):
        pass
    return numbers


def metadata_tag(
    values: dict[str, float | bool | str],
) -> tuple[bytes, dict[str, int]]:
    """onMetaData as an ECMA array, and where each number's 8 bytes sit in it.

    AMF0 numbers are fixed-width doubles, so duration and filesize can be written as 0 now and
    overwritten in place at close without changing the tag's size.
    """
    out = bytearray(b"\x02\x00\x0aonMetaData\x08" + _U32.pack(len(values)))
    offsets: dict[str, int] = {}
    for key, value in values.items():
        name = key.encode()
        out += len(name).to_bytes(2) + name
        if isinstance(value, bool):
            out += b"\x01" + bytes([value])
        elif isinstance(value, int | float):
            offsets[key] = len(out) + 1
            out += b"\x00" + _DOUBLE.pack(value)
        else:
            text = value.encode()
            out += b"\x02" + len(text).to_bytes(2) + text
    out += b"\x00\x00\x09"
    return bytes(out), offsets
