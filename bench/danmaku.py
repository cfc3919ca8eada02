"""What recording a room's live chat costs (issue 21), against a baseline in the same process.

    .venv/bin/python bench/danmaku.py [--messages 100000] [--batch 20]

Two halves of the chat path, each timed on the same messages:
- Decoding: brotli frames of --batch DANMU_MSG packets each (what a busy room sends), decoded
  by the client (biliup_site.bilibili.chat: decode_packets and to_message), against the bare
  brotli.decompress + json.loads of the same frames.
- Writing: recorder.danmaku.XmlWriter, which keeps the file a whole document after every message
  (one pwrite that puts the closing tag back each time), against the same lines written to a
  buffered file with the closing tag only at the end (what a writer that may be killed cannot
  do).
Printed: messages per second of each, the ratios, and the CPU a room of 50 messages/s (a very
busy one) costs, as a share of one core. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import brotli
import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biliup_site.settings")
os.environ.setdefault("BILIUP_DATA_DIR", tempfile.mkdtemp(prefix="bench-danmaku-"))
django.setup()

from biliup_site.bilibili import chat  # noqa: E402
from recorder import danmaku  # noqa: E402

BUSY_ROOM = 50  # messages per second
INFO = danmaku.RecordInfo(
    room_id=1, short_id=0, name="bench", title="bench", area_parent="", area_child=""
)


def danmu(n: int) -> dict:
    now = int(time.time() * 1000)
    return {
        "cmd": "DANMU_MSG",
        "info": [
            [0, 1, 25, 16777215, now, n, 0, "", 0, 0, 0, "", 0, "{}", "{}", {}],
            f'第{n}条弹幕 <测试> & "引号"',
            [100000 + n, f"观众{n}", 0, 0, 0, 10000, 1, ""],
            [],
        ],
    }


def frames(count: int, batch: int) -> list[bytes]:
    out = []
    for first in range(0, count, batch):
        inner = b"".join(
            chat.encode_packet(chat.OP_MESSAGE, danmu(n), protover=0)
            for n in range(first, min(first + batch, count))
        )
        out.append(chat.encode_packet(chat.OP_MESSAGE, inner, protover=3))
    return out


def cpu() -> float:
    return time.process_time()


def decode(all_frames: list[bytes]) -> tuple[float, list[chat.ChatMessage]]:
    messages = []
    start = cpu()
    for frame in all_frames:
        for packet in chat.decode_packets(frame):
            message = chat.to_message(json.loads(packet.body), time.time())
            if message is not None:
                messages.append(message)
    return cpu() - start, messages


def decode_baseline(all_frames: list[bytes]) -> float:
    start = cpu()
    for frame in all_frames:
        body = brotli.decompress(frame[16:])
        at = 0
        while at < len(body):
            length = int.from_bytes(body[at : at + 4], "big")
            json.loads(body[at + 16 : at + length])
            at += length
    return cpu() - start


def write(messages: list[chat.ChatMessage], folder: Path) -> tuple[float, float]:
    start = cpu()
    wall = time.perf_counter()
    writer = danmaku.XmlWriter(folder / "ours.xml", INFO)
    for n, message in enumerate(messages):
        writer.append(message, n / BUSY_ROOM)
    writer.close()
    return cpu() - start, time.perf_counter() - wall


def write_baseline(
    messages: list[chat.ChatMessage], folder: Path
) -> tuple[float, float]:
    start = cpu()
    wall = time.perf_counter()
    with open(folder / "plain.xml", "w", encoding="utf-8") as out:
        out.write(danmaku.header(INFO, danmaku.timezone.localtime()))
        for n, message in enumerate(messages):
            out.write(f"  {danmaku.element(message, n / BUSY_ROOM)}\n")
        out.write("</i>\n")
    return cpu() - start, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    count = args.messages
    print(f"{count} DANMU_MSG in brotli frames of {args.batch}; {os.cpu_count()} cores")

    all_frames = frames(count, args.batch)
    ours, messages = decode(all_frames)
    base = decode_baseline(all_frames)
    assert len(messages) == count
    print(
        f"decode  ours {count / ours:>10,.0f} msg/s   bare brotli+json "
        f"{count / base:>10,.0f} msg/s   ours/bare CPU {ours / base:.2f}x"
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        w_cpu, w_wall = write(messages, folder)
        b_cpu, b_wall = write_baseline(messages, folder)
        assert danmaku.read_counts(folder / "ours.xml")["danmaku"] == count
        size = (folder / "ours.xml").stat().st_size
    print(
        f"write   ours {count / w_wall:>10,.0f} msg/s   buffered file    "
        f"{count / b_wall:>10,.0f} msg/s   ours/buffered CPU {w_cpu / b_cpu:.2f}x "
        f"({size / count:.0f} B/msg)"
    )
    per_message = (ours + w_cpu) / count
    print(
        f"a room of {BUSY_ROOM} msg/s costs {per_message * BUSY_ROOM * 100:.2f}% of one core "
        f"({per_message * 1e6:.1f} µs CPU per message, decode + write)"
    )


if __name__ == "__main__":
    main()
