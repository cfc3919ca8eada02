"""Real media for tests: short H.264 + AAC clips made by ffmpeg, and ffprobe's view of a file.

Clips are made once per process and cached by their parameters (a few seconds of ffmpeg each).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_CACHE = Path(tempfile.gettempdir()) / "biliup-test-media"


def require_ffmpeg() -> None:
    if not (shutil.which("ffmpeg") and shutil.which("ffprobe")):
        raise RuntimeError(
            "ffmpeg and ffprobe are needed (Debian package ffmpeg; bin/test installs it)"
        )


@functools.cache
def clip(
    seconds: int = 10,
    fps: int = 25,
    gop: int = 25,
    size: str = "320x240",
    bitrate: str = "300k",
) -> Path:
    """An FLV clip: H.264 video (a keyframe every `gop` frames) and AAC audio, timestamps from 0."""
    require_ffmpeg()
    _CACHE.mkdir(exist_ok=True)
    path = _CACHE / f"clip-{seconds}s-{fps}fps-gop{gop}-{size}-{bitrate}.flv"
    if not path.exists():
        part = path.with_suffix(".part")
        subprocess.run(
            [
                "ffmpeg", "-v", "error", "-y",
                "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                "-t", str(seconds),
                "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
                "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-b:v", bitrate,
                "-c:a", "aac", "-b:a", "64k",
                "-f", "flv", str(part),
            ],
            check=True,
            timeout=120,
        )  # fmt: skip
        part.replace(path)
    return path


@dataclass(frozen=True)
class Probe:
    duration: float
    streams: list[str]  # codec names, e.g. ["h264", "aac"]
    decode_errors: (
        str  # what ffmpeg printed while decoding the whole file ("" if clean)
    )


def probe(path: Path, decode: bool = True) -> Probe:
    """ffprobe's duration and streams; with decode=True, also decode every frame and keep errors."""
    require_ffmpeg()
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    info = json.loads(out.stdout)
    errors = ""
    if decode:
        result = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        errors = result.stderr.strip() or (
            "" if result.returncode == 0 else f"exit {result.returncode}"
        )
    return Probe(
        duration=float(info["format"].get("duration", 0)),
        streams=[s["codec_name"] for s in info["streams"]],
        decode_errors=errors,
    )
