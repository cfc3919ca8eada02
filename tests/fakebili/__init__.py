"""A fake Bilibili that answers over real HTTP: see server.py, and `python -m tests.fakebili`."""

from __future__ import annotations
