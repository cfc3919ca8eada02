"""Segment files on disk: written as `<name>.part`, renamed when closed, never overwriting;
and what a closed one is (Segment), whichever format wrote it."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

PART = ".part"


@dataclass(frozen=True)
class Segment:
    path: Path
    size: int  # bytes
    duration: float  # seconds of media (FLV: as written into onMetaData)
    first_timestamp: int  # ms where it starts on the recording's repaired timeline
    reason: str  # why it closed: split_time, split_size, codec_change, closed, error, recovered
    jumps: int = 0  # timestamp jumps and rebounds repaired inside it


def candidates(path: Path) -> Iterator[Path]:
    """path, then `<stem>-1<suffix>`, `<stem>-2<suffix>`, ..."""
    yield path
    for n in itertools.count(1):
        yield path.with_name(f"{path.stem}-{n}{path.suffix}")


def part_of(path: Path) -> Path:
    return path.with_name(path.name + PART)


def create_part(path: Path, buffering: int = -1) -> tuple[Path, Path, BinaryIO]:
    """Create `<name>.part` for the first name that is free as both a file and a part."""
    for candidate in candidates(path):
        if candidate.exists():
            continue
        part = part_of(candidate)
        try:
            # "x": fails if another recorder created the same part a moment ago.
            return candidate, part, open(part, "xb", buffering=buffering)  # noqa: SIM115 (the caller closes it)
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def claim(part: Path, target: Path) -> Path:
    """Rename part to target, or to the first free `<stem>-N<suffix>`: never replace a file."""
    for candidate in candidates(target):
        try:
            os.link(part, candidate)  # unlike rename(), fails if candidate exists
        except FileExistsError:
            continue
        except OSError:
            # No hard links on this filesystem (some network and FUSE mounts): check, then
            # rename, accepting the small race.
            if candidate.exists():
                continue
            part.rename(candidate)
            return candidate
        part.unlink()
        return candidate
    raise AssertionError("unreachable")
