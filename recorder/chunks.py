"""A file-like view of an HTTP body that arrives in chunks."""

from __future__ import annotations

import time
from collections.abc import Iterator


class ChunkStream:
    """read(n) over the chunks of a response as they arrive.

    At the live edge a stream trickles in a frame or so at a time, and waking up for each one
    (a trip through urllib3's chunked decoding, then the FLV work) cost as much CPU as ffmpeg
    -c copy spends on the whole stream (bench/record.py). So after a read that had to wait for
    the network, the next read first sleeps PAUSE_SECONDS: meanwhile the chunks pile up in the
    socket buffer, to be taken in one go. A stream that is behind (the burst a CDN sends at
    connect, a slow disk) never waits, so it is read at full speed.

    The cost is that the recording runs up to PAUSE_SECONDS behind the stream (and a shutdown
    waits as long), with as much of it waiting in the socket buffer. Stalls are still caught:
    the socket's read timeout runs while a read waits.
    """

    PAUSE_SECONDS = 0.5  # 0.25 s costs about a third more CPU; 1 s saves a tenth
    WAITED_SECONDS = 0.005  # a chunk that took longer than this had not arrived yet

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.rest = b""  # what the last read left of its chunk
        self.waited = False

    def read(self, n: int) -> bytes:
        """Up to n bytes: the rest of the current chunk, else of the next one; b"" at the end."""
        if not self.rest:
            if self.waited:
                time.sleep(self.PAUSE_SECONDS)
            start = time.monotonic()
            for chunk in self.chunks:
                if chunk:
                    break
            else:
                return b""
            self.waited = time.monotonic() - start > self.WAITED_SECONDS
            self.rest = chunk
        data, self.rest = self.rest[:n], self.rest[n:]
        return data
