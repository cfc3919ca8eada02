"""The recordings folder: listing its media files and resolving names that clients send.

Everything here keeps to the folder: names with '..', links that lead out and paths elsewhere
are refused, so the API can never be made to read or upload another file on the machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MEDIA_SUFFIXES = (".flv", ".mp4", ".ts", ".mkv", ".webm", ".3gp", ".m4v", ".mov")
# The live chat beside a segment (recorder/danmaku.py): served and downloaded, never uploaded.
DANMAKU_SUFFIXES = (".xml", ".ass")


class PathRefused(ValueError):
    pass


@dataclass(frozen=True)
class Video:
    name: str  # relative to the recordings folder, with '/' separators
    size: int
    mtime: int


def media_files(root: Path) -> list[Video]:
    """Media files below root, newest first. Links are not followed; .part files are skipped."""
    found: list[Video] = []
    if not root.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in filenames:
            if not filename.lower().endswith(MEDIA_SUFFIXES):
                continue
            path = Path(dirpath, filename)
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue  # closed and moved while we walked
            if path.is_symlink():
                continue
            found.append(
                Video(
                    path.relative_to(root).as_posix(), stat.st_size, int(stat.st_mtime)
                )
            )
    found.sort(key=lambda v: (-v.mtime, v.name))
    return found


def resolve(root: Path, name: str, suffixes: tuple[str, ...] = MEDIA_SUFFIXES) -> Path:
    """The file `name` (relative, or absolute inside root) as a real path inside root, with
    one of `suffixes` (media files unless told otherwise)."""
    if not name or "\x00" in name:
        raise PathRefused("empty file name")
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        raise PathRefused(f"{name}: '..' is not allowed")
    root = root.resolve()
    candidate = Path(name) if os.path.isabs(name) else root / name
    real = candidate.resolve()
    if not real.is_relative_to(root):
        raise PathRefused(
            f"{name}: only files inside the recordings folder can be used"
        )
    if not real.is_file():
        raise PathRefused(f"{name}: no such file in the recordings folder")
    if not real.name.lower().endswith(suffixes):
        what = "a media file" if suffixes == MEDIA_SUFFIXES else "an accepted file"
        raise PathRefused(f"{name}: not {what} ({', '.join(suffixes)})")
    return real
