"""The image host (i0.hdslb.com in real life): avatars, covers and the WBI key images.

Any /bfs/… path answers with a small valid image: PNG for a .png path, JPEG otherwise (Bilibili's
faces and covers are JPEG, and a size suffix like `@100w_100h.webp` gets the JPEG too).
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

from tests.fakebili.wire import Request, Response

if TYPE_CHECKING:
    from tests.fakebili.server import State


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    # Filter byte 0 before each row of 8-bit RGB pixels.
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _jpeg() -> bytes:
    """An 8x8 mid-grey baseline JPEG, written by hand (no imaging library here).

    One block whose pixels all equal 128: after the level shift every DCT coefficient is 0. The
    Huffman tables each hold one 1-bit code: DC category 0 and AC end-of-block. So the scan is
    the bits "0" (DC diff 0) and "0" (EOB), padded with 1s: one byte, 0x3F.
    """

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", marker, len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15)  # one code of length 1, none longer
    return b"".join(
        [
            b"\xff\xd8",  # SOI
            segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xFFDB, b"\x00" + bytes([1] * 64)),  # quantisation table 0
            # SOF0: 8-bit, 8x8, one component (id 1, no subsampling, table 0)
            segment(0xFFC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"),
            segment(0xFFC4, b"\x00" + one_code + b"\x00"),  # DC table 0: category 0
            segment(0xFFC4, b"\x10" + one_code + b"\x00"),  # AC table 0: EOB
            segment(0xFFDA, b"\x01\x01\x00\x00\x3f\x00"),  # SOS: one component
            b"\x3f",
            b"\xff\xd9",  # EOI
        ]
    )


PNG = _png(8, 8, (251, 114, 153))  # Bilibili pink
JPEG = _jpeg()


def serve(state: State, req: Request) -> Response:
    name = req.path.rsplit("/", 1)[-1].split("@", 1)[0].lower()
    if name.endswith(".png"):
        return Response(body=PNG, content_type="image/png")
    return Response(body=JPEG, content_type="image/jpeg")


PREFIX_ROUTES = [("GET", "/bfs/", serve)]
