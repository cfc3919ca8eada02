"""The WAN mode of bench/upload.py (--wan RTT_MS,CONN_MIBS,LINE_MIBS): ours, the raw chunked PUT
and biliup 0.4.102's own uploader send the same file to the fake's UPOS host through one
emulated link (bench/wan.py), each at its own default thread count and at an equal one.

First a calibration line, the raw PUT through the link: at 1 thread it should get the cap of a
connection, at N = ceil(line / cap) + 2 threads min(N x cap, line). Its files are smaller than
--size (4 chunks at 1 thread, 2N at N), so that it takes about half a minute.

Then, per tool and thread count: MB/s (the file over the tool's chunk window, as in the
loopback mode), x line (MB/s over the line's MiB/s), the connections used (every connection to
the UPOS host the proxy accepted during the upload, init's and complete's included), MB/s per
connection (of each connection that carried a chunk: its bytes over its first to last byte,
idle gaps included; averaged) and the idle time per chunk (on one connection, from a chunk PUT's
last byte to the next PUT's first, as the proxy reads them off the client: a round trip, the
fake's answer and the client's own pause; averaged). bench/upload.py's run() checks the MD5 on
the fake after every upload.

Only the UPOS host goes through the link; preupload, the login and the fake's controls go to
the fake directly. The harness hands in what it needs (upload, make_file), so this module
imports nothing from bench/upload.py.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bench.wan import HANDSHAKE_RTTS, LinkUse, MiB, WanProxy, summarize

if TYPE_CHECKING:
    from bench.upload import Result

LABELS = {"ours": "ours", "baseline": "raw", "biliup": "biliup"}


@dataclass(frozen=True)
class Figures:
    rtt_ms: float
    conn_mibs: float
    line_mibs: float

    @property
    def filling(self) -> int:
        """Enough connections to fill the line, with two to spare."""
        return math.ceil(self.line_mibs / self.conn_mibs) + 2

    def __str__(self) -> str:
        return (
            f"{self.rtt_ms:g} ms RTT, {self.conn_mibs:g} MiB/s per connection, "
            f"{self.line_mibs:g} MiB/s line"
        )


def parse_figures(text: str) -> Figures:
    try:
        rtt, conn, line = (float(x) for x in text.split(","))
    except ValueError:
        raise SystemExit(
            f"--wan takes RTT_MS,CONN_MIBS,LINE_MIBS (say 40,2,16), not {text!r}"
        ) from None
    if min(rtt, conn, line) <= 0:
        raise SystemExit(f"--wan: every figure must be above 0, not {text!r}")
    return Figures(rtt, conn, line)


class Upload(Protocol):
    """bench/upload.py's run() for one tool: its result, the file's MD5 checked on the fake."""

    def __call__(
        self, tool: str, path: Path, md5: str, threads: int, upos_url: str
    ) -> Result: ...


@dataclass
class Measured:
    setting: int  # threads asked for; 0: the tool's default
    result: Result
    link: LinkUse


def bench(
    figures: Figures,
    size: int,
    chunk_size: int,
    tools: list[str],
    counts: list[int],
    rounds: int,
    fake_url: str,
    workdir: Path,
    upload: Upload,
    make_file: Callable[[Path, int], str],
    cap_mibs: float | None = None,
) -> None:
    """Calibrate, then run every tool at its default and at each of `counts` threads (none
    given: figures.filling), `rounds` times, through one link; print the figures. With
    `cap_mibs` (ours' upload_rate_limit), ours' lines also say how its 10 s windows compare."""
    proxy = WanProxy(
        fake_url,
        rtt_ms=figures.rtt_ms,
        conn_mibs=figures.conn_mibs,
        line_mibs=figures.line_mibs,
    ).start()

    def measured(tool: str, path: Path, md5: str, threads: int) -> Measured:
        proxy.take()  # forget what came before
        result = upload(tool, path, md5, threads, proxy.url)
        return Measured(threads, result, summarize(proxy.take()))

    try:
        print(
            f"WAN link: {figures}; a new connection's first bytes wait {HANDSHAKE_RTTS} RTTs "
            "(handshakes); the fake in its own process, the link a proxy in the harness's"
        )
        calibrate(figures, size, chunk_size, workdir, measured, make_file)
        path = workdir / "upload.flv"
        md5 = make_file(path, size)
        results: list[Measured] = []
        for order, threads in enumerate([0, *(counts or [figures.filling])] * rounds):
            # Each tool goes first, second and last in turn.
            turn = tools[order % len(tools) :] + tools[: order % len(tools)]
            for tool in turn:
                m = measured(tool, path, md5, threads)
                results.append(m)
                cap = cap_mibs if tool == "ours" else None
                print(
                    f"  {_setting(m.setting)}, {LABELS[tool]}: {_line(m, figures, cap)}"
                )
        path.unlink()
        print_table(figures, size, tools, results)
    finally:
        proxy.stop()


def calibrate(
    figures: Figures,
    size: int,
    chunk_size: int,
    workdir: Path,
    measured: Callable[[str, Path, str, int], Measured],
    make_file: Callable[[Path, int], str],
) -> None:
    """The raw PUT at 1 thread and at figures.filling: one line, against what the link allows."""
    parts = []
    for threads, chunks in ((1, 4), (figures.filling, 2 * figures.filling)):
        path = workdir / f"calibration-{threads}.flv"
        md5 = make_file(path, min(size, chunks * chunk_size))
        m = measured("baseline", path, md5, threads)
        path.unlink()
        allowed = min(threads * figures.conn_mibs, figures.line_mibs)
        parts.append(
            f"{threads} thread{'s' if threads > 1 else ''} {m.result.mbps:.2f} MB/s = "
            f"{m.result.mbps / allowed:.2f}x min({threads} x {figures.conn_mibs:g}, "
            f"{figures.line_mibs:g}) ({m.link.connections} connections, "
            f"{m.result.size / MiB:.0f} MiB)"
        )
    print("calibration, raw PUT: " + "; ".join(parts), flush=True)


def _setting(threads: int) -> str:
    return f"{threads} threads" if threads else "default"


def _idle(link: LinkUse) -> str:
    return "-" if link.idle_per_chunk is None else f"{link.idle_per_chunk * 1000:.0f}"


def _line(m: Measured, figures: Figures, cap_mibs: float | None = None) -> str:
    line = (
        f"{m.result.mbps:.2f} MB/s ({m.result.mbps / figures.line_mibs:.2f}x line) at "
        f"{m.result.threads} threads, {m.link.connections} connections, "
        f"{m.link.per_connection:.2f} MB/s each, {_idle(m.link)} ms idle per chunk"
    )
    if cap_mibs and m.link.windows:
        low, high = min(m.link.windows), max(m.link.windows)
        line += (
            f"; capped at {cap_mibs:g}: {len(m.link.windows)} windows of 10 s,"
            f" {low:.3f}-{high:.3f} MB/s = {low / cap_mibs:.3f}-{high / cap_mibs:.3f}x cap"
        )
    return line


def print_table(
    figures: Figures, size: int, tools: list[str], results: list[Measured]
) -> None:
    first = results[0].result
    print(
        f"\n{size / MiB:.0f} MiB file, {first.chunks} chunks of {first.chunk_size / MiB:g} MiB, "
        f"through {figures}.\n"
        "MB/s = file bytes / chunk window (first chunk PUT to last acknowledged); x line = MB/s /\n"
        "the line; conns = connections to the UPOS host (init and complete included); MB/s/conn =\n"
        "of each connection that carried a chunk, its bytes over its first to last byte, gaps\n"
        "included, averaged; idle ms = per chunk, the gap on a connection from a PUT's last byte\n"
        "to the next PUT's first as the proxy reads them (a round trip of it), averaged. Medians\n"
        "of rounds; MB = 2^20 bytes. default: each tool's own thread count (raw: the same 3).\n"
    )
    print(
        f"{'threads':>10} {'tool':>7} {'n':>3} {'MB/s':>6} {'x line':>7} {'conns':>6} "
        f"{'MB/s/conn':>10} {'idle ms':>8}"
    )
    settings = list(dict.fromkeys(m.setting for m in results))
    for setting in settings:
        mbps: dict[str, float] = {}
        for tool in tools:
            row = [m for m in results if (m.setting, m.result.tool) == (setting, tool)]
            mbps[tool] = statistics.median(m.result.mbps for m in row)
            idle = [
                m.link.idle_per_chunk for m in row if m.link.idle_per_chunk is not None
            ]
            print(
                f"{_setting(setting):>10} {LABELS[tool]:>7} {row[0].result.threads:>3} "
                f"{mbps[tool]:6.2f} {mbps[tool] / figures.line_mibs:7.2f} "
                f"{statistics.median(m.link.connections for m in row):6.0f} "
                f"{statistics.median(m.link.per_connection for m in row):10.2f} "
                + (f"{statistics.median(idle) * 1000:8.0f}" if idle else f"{'-':>8}")
            )
        if "ours" in tools and len(tools) > 1:
            print(
                f"{'':>10} "
                + ", ".join(
                    f"ours/{LABELS[t]} {mbps['ours'] / mbps[t]:.2f}"
                    for t in tools
                    if t != "ours"
                )
            )
