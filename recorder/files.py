"""Segment files on disk: written as `<name>.part`, renamed when closed, never overwriting."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

PART = ".part"


def candidates(path: Path) -> Iterator[Path]:
    """path, then `<stem>-1<suffix>`, `<stem>-2<suffix>`, ..."""
    yield path
    for n in itertools.count(1):
        yield path.with_name(f"{path.stem}-{n}{path.suffix}")


def part_of(path: Path) -> Path:
    return path.with_name(path.name + PART)


def create_part(path: Path) -> tuple[Path, Path, BinaryIO]:
    """Create `<name>.part` for the first name that is free as both a file and a part."""
    for candidate in candidates(path):
        if candidate.exists():
            continue
        part = part_of(candidate)
        try:
            # "x": fails if another recorder created the same part a moment ago.
            return candidate, part, open(part, "xb")  # noqa: SIM115 (the caller closes it)
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
