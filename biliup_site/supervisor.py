"""Keep the site's processes running: what `manage.py serve` becomes once the site is ready.

serve migrates, gathers static files and greets in a Django process, then replaces itself
(exec, same pid) with this module, which imports nothing of Django: the supervisor of a box
that records all day should not hold ~80 MB for a loop that restarts children.

Children that die are restarted with a back-off; SIGINT/SIGTERM stop them all cleanly, so the
recorder can close its segments.

    python biliup_site/supervisor.py '<JSON: [{"name": ..., "argv": [...], "env": {...}}, ...]>'
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("biliup_site.supervisor")
STOP_SECONDS = 30


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0

    def start(self) -> None:
        # A session (process group) of its own: qcluster forks workers, and stopping the group
        # stops them too, even when their parent died without cleaning up.
        self.process = subprocess.Popen(
            self.argv, env={**os.environ, **self.env}, start_new_session=True
        )
        logger.info("Started %s (pid %s)", self.name, self.process.pid)

    def signal_group(self, signum: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)


class Supervisor:
    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self.shutdown = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        for child in self.children:
            child.start()
        while not self.shutdown:
            self.restart_dead()
            time.sleep(0.5)
        self.stop_all()

    def on_signal(self, signum: int, frame: Any) -> None:
        self.shutdown = True

    def restart_dead(self) -> bool:
        """Restart children that exited. Returns True if any was restarted."""
        restarted = False
        now = time.monotonic()
        for child in self.children:
            if child.process is None or child.process.poll() is None:
                continue
            if child.next_start == 0.0:
                delay = min(2**child.restarts, 60)
                child.next_start = now + delay
                logger.warning(
                    "%s exited with %s; restarting in %s s",
                    child.name,
                    child.process.returncode,
                    delay,
                )
            elif now >= child.next_start:
                child.signal_group(signal.SIGKILL)  # orphaned workers of the dead child
                child.restarts += 1
                child.next_start = 0.0
                child.start()
                restarted = True
        return restarted

    def stop_all(self) -> None:
        # SIGTERM to each leader only: a qcluster stops its own workers in order, and signalling
        # the whole group would make them die under it and stall its shutdown. The recorder
        # closes its recordings' segments (recorder/pool.py).
        for child in self.children:
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", child.name)
            # Whatever is left of the group (workers of a cluster that died) goes too.
            child.signal_group(signal.SIGKILL)


def main(argv: list[str]) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    children = [Child(**spec) for spec in json.loads(argv[1])]
    Supervisor(children).run()


if __name__ == "__main__":
    main(sys.argv)
