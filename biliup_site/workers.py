"""Who runs a job: the "host:pid" a recording or an upload records as its owner.

A worker killed with -9 is known dead at once on its own host (its pid is gone); on other hosts
only its stale heartbeat tells. The host is settings.HOSTNAME (BILIUP_HOSTNAME, else the
machine's name), so two machines must have different names.
"""

from __future__ import annotations

import os

from django.conf import settings


def this_worker() -> str:
    """ "host:pid" of this process (a forked worker has its own pid, so this is read per call)."""
    return f"{settings.HOSTNAME}:{os.getpid()}"


def worker_alive(worker: str) -> bool:
    """False only when the worker is known dead: on this host, with its pid gone."""
    host, _, pid = worker.rpartition(":")
    if host != settings.HOSTNAME or not pid.isdigit():
        return True  # another machine's worker: only its heartbeat tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
