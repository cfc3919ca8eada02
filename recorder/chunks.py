"""A file-like view of an HTTP body that arrives in chunks."""

from __future__ import annotations

from collections.abc import Iterator


class ChunkStream:
    """read(n) over the chunks of a response as they arrive.

    FlvReader asks for a tag header, then its body: two small reads per tag, each a trip through
    urllib3's chunked decoding, cost more CPU than the FLV work itself. Taking whole chunks and
    slicing them here is what brings recording down to ffmpeg's cost (bench/record.py).
    """

    COMPACT_AT = 1024 * 1024

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = bytearray()
        self.offset = 0

    def read(self, n: int) -> bytes:
        while len(self.buffer) - self.offset < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            if self.offset >= self.COMPACT_AT:
                del self.buffer[: self.offset]
                self.offset = 0
            self.buffer += chunk
        data = bytes(self.buffer[self.offset : self.offset + n])
        self.offset += len(data)
        return data
