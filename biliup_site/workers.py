"""Who runs a job: the "host:pid" a recording or an upload records as its owner.

A worker killed with -9 is known dead at once on its own host (its pid is gone); on other hosts
only its stale heartbeat tells.
"""

from __future__ import annotations

import os
import socket


def this_worker() -> str:
    """ "host:pid" of this process (a forked worker has its own pid, so this is read per call)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(worker: str) -> bool:
    """False only when the worker is known dead: on this host, with its pid gone."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's worker: only its heartbeat tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
