"""biliup 0.4.102's own uploader as the third tool of bench/upload.py.

biliup is no dependency of the project: the harness makes a venv of its own for it on demand
(VENV, outside the repository) with `pip install biliup==0.4.102` from the package registry,
and runs this file with that venv's Python, one process per upload. So this module imports
nothing from the repository, and the harness imports only the standard library from it.

What runs is biliup's code path for a web-cookie upload, unchanged: BiliBili.login_by_cookies
(nav), then BiliBili.upload_file(path, lines="bda2", tasks=threads): preupload on the member
host, init on the UPOS line, the chunks read with file.read(chunk_size) and PUT by `threads`
asyncio tasks over one aiohttp session, then complete. (lines="bda2" skips its probe, as ours
is set to bda2.) Only the transport is redirected: requests.Session.request and
aiohttp.ClientSession._request are wrapped to send https://*.bilibili.com/<path> to the fake's
base URL and https://<upos host>.bilivideo.com/<path> to <fake>/<upos host>/<path>, as
BILIUP_BILIBILI_*_URL does for ours (the UPOS hosts to another base if the harness names one:
its WAN mode's emulated link). The chunk window is BiliBili._upload (every chunk read, PUT
and acknowledged; timed by wrapping the static method, as ours wraps chunks.send_parts); "whole"
is upload_file, preupload to complete (biliup's submit is not run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VERSION = "0.4.102"
VENV = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "biliup-site-bench"
    / f"biliup-{VERSION}"
)
LINE = "bda2"


# --- The harness side (the project's Python) ----------------------------------------------


def python() -> Path:
    """The venv's Python with biliup==VERSION installed: made here the first time (pip from the
    package registry; it takes a minute or two)."""
    exe = VENV / "bin" / "python"
    check = "import importlib.metadata as m; print(m.version('biliup'))"
    if exe.exists():
        got = subprocess.run([exe, "-c", check], capture_output=True, text=True)
        if got.returncode == 0 and got.stdout.strip() == VERSION:
            return exe
    print(f"installing biliup=={VERSION} into {VENV} …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", VENV], check=True)
    subprocess.run(
        [VENV / "bin" / "pip", "install", "-q", f"biliup=={VERSION}"],
        check=True,
        timeout=1800,
    )
    return exe


# --- The worker side (the biliup venv's Python) -------------------------------------------


def redirect(url: str, fake_url: str, upos_url: str | None = None) -> str:
    """Where the fake serves a real Bilibili URL (any other URL is left alone); the UPOS hosts
    under `upos_url` if given."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if host.endswith(".bilivideo.com"):
        base = f"{upos_url or fake_url}/{host}"
    elif host == "bilibili.com" or host.endswith(".bilibili.com"):
        base = fake_url
    else:
        return url
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


def upload(
    path: Path,
    threads: int,
    credential: Path,
    fake_url: str,
    upos_url: str | None = None,
) -> dict[str, Any]:
    """Upload `path` with biliup's BiliBili, logged in with the fake's cookies; the timings.
    `threads` 0 leaves upload_file's own default."""
    import inspect

    import aiohttp
    import requests
    from biliup.plugins.bili_webup import BiliBili, Data

    # Only where the calls go changes: biliup builds its URLs from literal hosts, with no setting
    # to point it elsewhere, so the two HTTP clients it uses are wrapped at their one entry point.
    request = requests.Session.request

    def sync_request(
        self: Any, method: str, url: str, *args: Any, **kwargs: Any
    ) -> Any:
        return request(self, method, redirect(url, fake_url, upos_url), *args, **kwargs)

    requests.Session.request = sync_request
    async_request = aiohttp.ClientSession._request

    async def redirected(
        self: Any, method: str, url: Any, *args: Any, **kwargs: Any
    ) -> Any:
        url = redirect(str(url), fake_url, upos_url)
        return await async_request(self, method, url, *args, **kwargs)

    aiohttp.ClientSession._request = redirected

    window: dict[str, Any] = {}
    upload_chunks = BiliBili._upload

    async def timed(
        params: dict, file: Any, chunk_size: int, *args: Any, **kwargs: Any
    ) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        await upload_chunks(params, file, chunk_size, *args, **kwargs)
        window["seconds"] = time.perf_counter() - started
        window["cpu"] = time.process_time() - cpu
        window["chunks"], window["chunk_size"] = params["chunks"], chunk_size

    BiliBili._upload = staticmethod(timed)

    bili = BiliBili(Data())
    bili.login_by_cookies(json.loads(credential.read_text()))
    started = time.perf_counter()
    if not threads:
        threads = inspect.signature(bili.upload_file).parameters["tasks"].default
    video = bili.upload_file(str(path), lines=LINE, tasks=threads)
    whole = time.perf_counter() - started
    if not video:
        raise SystemExit("biliup's upload_file returned nothing: complete was refused")
    return {
        "window": window["seconds"],
        "window_cpu": window["cpu"],
        "whole": whole,
        "filename": video["filename"],
        "chunks": window["chunks"],
        "chunk_size": window["chunk_size"],
        "threads": threads,
    }


def main() -> None:
    path, threads, credential, fake_url, *upos_url = sys.argv[1:]
    # biliup prints its progress ("\r… MB/s => 40%") to stdout: it goes to stderr here, and
    # stdout carries only the report line the harness reads.
    stdout, sys.stdout = sys.stdout, sys.stderr
    report = upload(Path(path), int(threads), Path(credential), fake_url, *upos_url)
    stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
