"""A real biliup-site in subprocesses, for tests/integration and bench/.

The site is started with the command a user runs, `manage.py serve` (it migrates every database
itself, then supervises daphne, the jobs qcluster and the recorder service), on a fresh data folder and a free loopback
port, and is driven over HTTP and WebSocket only. Its databases start as a copy of ones migrated
once per process (serve's own migrate then finds nothing to do): migrating from nothing is 2-3 s
of every start, the same work each time. reset() takes a running site back to new, for the
tests that share one. It follows this process's profile (BILIUP_DB,
BILIUP_REDIS_URL, from os.environ or the overrides) and keeps to itself on shared servers: on
PostgreSQL a database of its own, dropped after; on Redis its own django-q2 queue (BILIUP_QUEUE_NAME) and channels-redis prefix, whose keys are deleted after.

No pytest here: the benchmarks import this module too.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import logging
import os
import random
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from websockets.sync.client import ClientConnection, connect

from tests.polling import wait_for

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60
# serve gives its children 30 s to stop after SIGTERM.
STOP_SECONDS = 40
# After serve exits, how long a process it signalled may take to go.
LEFTOVER_SECONDS = 2
SEGMENT = b"FLV\x01" + bytes(1020)


class SiteError(RuntimeError):
    """The site did not start, did not answer as expected, or did not stop cleanly."""


@dataclass(frozen=True)
class Site:
    """A running site: its address, its folders, its environment and its log."""

    url: str
    data_dir: Path
    recordings_dir: Path
    env: dict[str, str]
    log: Path
    serve_pid: int = 0

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/ws/progress/"

    def log_tail(self, chars: int = 5000) -> str:
        """The end of the output of serve and its children, to explain a failure."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.log} ---\n{text[-chars:]}"


@contextlib.contextmanager
def running_site(
    data_dir: Path,
    *,
    label: str = "it",
    fresh_databases: bool = False,
    **env_overrides: str | None,
) -> Iterator[Site]:
    """Start `manage.py serve` with its data in data_dir; yield the site once it answers HTTP.

    env_overrides set variables of the site's environment (None removes one), which otherwise is
    this process's. label goes into the names of the run's database, queue and channel prefix
    (biliup_<label>_<id>), so that a leftover tells who made it. New databases are copies of
    migrated ones unless fresh_databases, when serve migrates them from nothing. On exit serve
    gets SIGTERM; SiteError is raised if it does not stop in time or leaves a process behind
    (killed first).
    """
    env = _site_env(data_dir, label, env_overrides)
    template = None if fresh_databases else _migrated_template(env)
    port = free_port()
    site = Site(
        url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        recordings_dir=Path(env["BILIUP_RECORDINGS_DIR"]),
        env=env,
        log=data_dir / "site.log",
    )
    site.recordings_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    if template is not None:
        _copy_sqlite_files(template.folder, data_dir)
    logger.info(
        "Starting a site on %s (database %s, queue %s, channel prefix %s)",
        site.url,
        env.get("BILIUP_DB_NAME", "SQLite"),
        env.get("BILIUP_QUEUE_NAME", "ORM"),
        env.get("BILIUP_REDIS_PREFIX", "-"),
    )
    with (
        _own_database(env, None if template is None else template.database),
        _own_redis_keys(env),
        site.log.open("ab") as out,
    ):
        serve = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "serve",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # A process group of its own: whatever is still in it once serve has exited was left
            # behind, grandchildren (qcluster's workers) included.
            start_new_session=True,
        )
        site = dataclasses.replace(site, serve_pid=serve.pid)
        try:
            _wait_until_serving(site, serve)
            yield site
        finally:
            _stop(serve, site)


def free_port() -> int:
    """A TCP port free on 127.0.0.1, below the kernel's ephemeral range.

    A port from bind(0), closed again for the server to bind, can be taken meanwhile: every
    outgoing connection's local end and every other bind(0) draw from the ephemeral range, and a
    busy suite makes thousands. Below that range the kernel hands out nothing by itself.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randrange(10000, max(low, 10001))
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise SiteError(f"No free port between 10000 and {low}")


def _site_env(
    data_dir: Path, label: str, overrides: dict[str, str | None]
) -> dict[str, str]:
    env = {
        **os.environ,
        "BILIUP_DATA_DIR": str(data_dir),
        "BILIUP_RECORDINGS_DIR": str(data_dir / "recordings"),
        "BILIUP_ALLOWED_HOSTS": "127.0.0.1",
        "BILIUP_TASKS_SYNC": "False",
        "BILIUP_WORKERS": "2",
        "BILIUP_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    run_id = secrets.token_hex(4)
    if env.get("BILIUP_DB") == "postgres":
        env["BILIUP_DB_NAME"] = f"biliup_{label}_{run_id}"
    if env.get("BILIUP_REDIS_URL"):
        # django-q2 names its Redis keys after the queue, so a run gets a queue of its own.
        env["BILIUP_QUEUE_NAME"] = f"biliup-{label}-{run_id}"
        prefix = env.get("BILIUP_REDIS_PREFIX", "biliup")
        env["BILIUP_REDIS_PREFIX"] = f"{prefix}-{label}-{run_id}"
    return env


@contextlib.contextmanager
def _own_database(env: dict[str, str], template: str | None) -> Iterator[None]:
    """A Postgres database for this run only, a copy of `template` if given (nothing to do on
    SQLite: the data dir is fresh)."""
    if env.get("BILIUP_DB") != "postgres":
        yield
        return
    from psycopg import sql

    name = sql.Identifier(env["BILIUP_DB_NAME"])
    create = sql.SQL("CREATE DATABASE {}").format(name)
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with _admin_connection(env) as conn:
        conn.execute(create)
    try:
        yield
    finally:
        _drop_database(env, env["BILIUP_DB_NAME"])


def _admin_connection(env: dict[str, str]) -> Any:
    return _connection(env, "postgres")


def _drop_database(env: dict[str, str], name: str) -> None:
    from psycopg import sql

    with _admin_connection(env) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


@dataclass(frozen=True)
class _Template:
    """Databases migrated once: SQLite files in `folder`, and on PostgreSQL `database`; `filled`:
    the main database's tables that migrating put rows in (applied migrations, content types,
    permissions, the workers' schedules), which reset() fills again from here."""

    folder: Path
    database: str | None
    filled: frozenset[str]


# Per database profile: the same settings migrate the same way.
_templates: dict[tuple[str, ...], _Template] = {}
_templates_lock = threading.Lock()
# What serve does before it starts its children: migrate every database settings name.
_MIGRATE = """
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
for alias in settings.DATABASES:
    call_command("migrate", database=alias, interactive=False, verbosity=0)
"""


def _migrated_template(env: dict[str, str]) -> _Template:
    """Databases migrated for this process's sites with env's profile, made on first use and
    removed when the process exits."""
    key = tuple(
        env.get(name, "")
        for name in ("BILIUP_DB", "BILIUP_DB_HOST", "BILIUP_DB_PORT", "BILIUP_DB_USER")
    ) + (str(bool(env.get("BILIUP_REDIS_URL"))),)
    with _templates_lock:
        if key not in _templates:
            _templates[key] = _make_template(env)
        return _templates[key]


def _make_template(env: dict[str, str]) -> _Template:
    folder = Path(tempfile.mkdtemp(prefix="biliup-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    database = None
    migrate_env = {
        **env,
        "BILIUP_DATA_DIR": str(folder),
        "BILIUP_RECORDINGS_DIR": str(folder / "recordings"),
        "DJANGO_SETTINGS_MODULE": "biliup_site.settings",
    }
    if env.get("BILIUP_DB") == "postgres":
        database = f"biliup_template_{secrets.token_hex(4)}"
        migrate_env["BILIUP_DB_NAME"] = database
        with _admin_connection(env) as conn:
            from psycopg import sql

            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        atexit.register(_drop_database, env, database)
    done = subprocess.run(
        [sys.executable, "-c", _MIGRATE],
        cwd=BASE_DIR,
        env=migrate_env,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    if done.returncode != 0:
        raise SiteError(
            f"Migrating the sites' databases failed:\n{done.stderr[-5000:]}"
        )
    if database is None:
        with contextlib.closing(_sqlite_connection(folder / MAIN_SQLITE)) as conn:
            filled = _filled_tables(conn, _sqlite_tables(conn))
    else:
        with _connection(env, database) as conn:
            filled = _filled_tables(conn, _postgres_tables(conn))
    return _Template(folder=folder, database=database, filled=filled)


def reset(site: Site) -> None:
    """Take a running site back to how its first start left it, without restarting it: its main
    database's rows as migrating left them (no users, sessions, rooms, templates, accounts, jobs,
    configuration or schedules of its own), and no Bilibili documents, partitions.json or
    recordings in its folders. Ids go on from where they were, so that a task or a cached entry
    left from before names nothing made after. Work still under way finds its rows gone."""
    template = _migrated_template(site.env)
    if site.env.get("BILIUP_DB") == "postgres":
        with (
            _connection(site.env, site.env["BILIUP_DB_NAME"]) as conn,
            conn.transaction(),
            _connection(site.env, str(template.database)) as source,
        ):
            # The foreign keys are checked at commit (Django makes them deferred), when every
            # table holds what it held after migrating.
            for table in _postgres_tables(conn):
                conn.execute(f"DELETE FROM {_quoted(table)}")
            for table in template.filled:
                with (
                    source.cursor().copy(f"COPY {_quoted(table)} TO STDOUT") as rows,
                    conn.cursor().copy(f"COPY {_quoted(table)} FROM STDIN") as into,
                ):
                    for data in rows:
                        into.write(data)
    else:
        with contextlib.closing(
            _sqlite_connection(site.data_dir / MAIN_SQLITE)
        ) as conn:
            conn.execute(
                "ATTACH DATABASE ? AS template", (str(template.folder / MAIN_SQLITE),)
            )
            conn.execute("BEGIN IMMEDIATE")
            for table in _sqlite_tables(conn):
                conn.execute(f"DELETE FROM {_quoted(table)}")
            for table in template.filled:
                conn.execute(
                    f"INSERT INTO {_quoted(table)} SELECT * FROM template.{_quoted(table)}"
                )
            conn.execute("COMMIT")
            conn.execute("DETACH DATABASE template")
    for document in site.data_dir.glob("*.json"):
        document.unlink()
    for entry in site.recordings_dir.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


# The main database's file on SQLite (settings.DATABASES["default"]); the channel layer's beside
# it is not the site's state.
MAIN_SQLITE = "biliup.sqlite3"


def _sqlite_connection(path: Path) -> Any:
    import sqlite3

    # Autocommit, and the site's own busy timeout: its processes may be writing.
    return sqlite3.connect(path, timeout=10, isolation_level=None)


def _sqlite_tables(conn: Any) -> set[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {name for (name,) in rows}


def _connection(env: dict[str, str], database: str) -> Any:
    import psycopg

    return psycopg.connect(
        host=env.get("BILIUP_DB_HOST", "127.0.0.1"),
        port=int(env.get("BILIUP_DB_PORT", "5432")),
        user=env.get("BILIUP_DB_USER", "postgres"),
        password=env.get("BILIUP_DB_PASSWORD", ""),
        dbname=database,
        autocommit=True,
    )


def _postgres_tables(conn: Any) -> set[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    )
    return {name for (name,) in rows}


def _quoted(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


def _filled_tables(conn: Any, tables: set[str]) -> frozenset[str]:
    return frozenset(
        table
        for table in tables
        if conn.execute(f"SELECT 1 FROM {_quoted(table)} LIMIT 1").fetchone()
    )


def _copy_sqlite_files(template: Path, data_dir: Path) -> None:
    """The template's SQLite databases into a data dir that has none yet (a site started again on
    its data dir keeps its own)."""
    files = list(template.glob("*.sqlite3"))
    if any((data_dir / f.name).exists() for f in files):
        return
    for f in files:
        shutil.copyfile(f, data_dir / f.name)


@contextlib.contextmanager
def _own_redis_keys(env: dict[str, str]) -> Iterator[None]:
    try:
        yield
    finally:
        if env.get("BILIUP_REDIS_URL"):
            _forget_redis_keys(env)


def _forget_redis_keys(env: dict[str, str]) -> None:
    """Drop this run's queue, cluster stats and channel keys; they would only expire slowly."""
    import redis

    client = redis.Redis.from_url(env["BILIUP_REDIS_URL"])
    try:
        keys = [
            # The queue, the recorder's queue and the clusters' stats.
            *client.scan_iter(match=f"django_q:{env['BILIUP_QUEUE_NAME']}*"),
            *client.scan_iter(match=f"{env['BILIUP_REDIS_PREFIX']}*"),
        ]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _wait_until_serving(site: Site, serve: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            requests.get(f"{site.url}/api/v1/users/biliup", timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):
            pass
        # Waiting on serve paces the polling and notices at once that it exited (a failed
        # migration, a bad setting); a child that dies is restarted by serve, so it shows as the
        # deadline passing.
        with contextlib.suppress(subprocess.TimeoutExpired):
            serve.wait(timeout=0.1)
            raise SiteError(
                f"manage.py serve exited with {serve.returncode} at start:\n{site.log_tail()}"
            )
    raise SiteError(
        f"The site did not answer within {STARTUP_SECONDS} s:\n{site.log_tail()}"
    )


def _stop(serve: subprocess.Popen[bytes], site: Site) -> None:
    """SIGTERM serve, as a service manager would, and check that it took all its processes along.

    serve puts each child in a session of its own, so "its processes" are its descendants, found
    before the stop, not a process group.
    """
    problems = []
    processes = descendants(serve.pid)
    serve.terminate()
    try:
        serve.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        serve.kill()
        serve.wait()
        problems.append(f"serve did not stop within {STOP_SECONDS} s of SIGTERM")
    # A child that serve killed at its deadline may not be gone yet.
    _wait_gone(list(processes), LEFTOVER_SECONDS)
    if left := {pid: cmd for pid, cmd in processes.items() if _alive(pid)}:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        problems.append(f"serve left these running (now killed): {left}")
    if problems:
        raise SiteError("; ".join(problems) + f"\n{site.log_tail()}")


def _proc_table() -> dict[int, tuple[int, str]]:
    """Every live (not zombie) process: pid -> (parent pid, command line)."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # After "pid (comm)": state, ppid, ... (proc(5)); comm may hold spaces.
            state, ppid = stat.read_text().rpartition(")")[2].split()[:2]
            if state == "Z":
                continue
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # it exited meanwhile
        table[int(stat.parent.name)] = (
            int(ppid),
            cmdline.replace(b"\0", b" ").decode().strip(),
        )
    return table


def descendants(pid: int) -> dict[int, str]:
    """The live processes below pid (children, their workers, ...), with their command lines."""
    table = _proc_table()
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, cmdline) in table.items():
            if ppid == parent and child not in found:
                found[child] = cmdline
                frontier.append(child)
    return found


def holder_of(path: Path, site: Site) -> int | None:
    """The process of the site (a worker, say) that has `path` open, if one has."""
    for pid in descendants(site.serve_pid):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue  # it exited meanwhile
        for fd in fds:
            try:
                if fd.readlink() == path:
                    return pid
            except OSError:
                continue
    return None


def sized(paths: Iterable[Path]) -> Iterator[tuple[Path, int]]:
    """Each path with its size, skipping one gone between the listing and the stat: a recorder
    closes (renames) or repairs its segments while a test looks, and a soak run failed on it."""
    for path in paths:
        try:
            yield path, path.stat().st_size
        except FileNotFoundError:
            continue


def part_bytes(folder: Path) -> int:
    """The bytes of the segments being written in the folder."""
    return sum(size for _, size in sized(folder.glob("*.part")))


def segment_being_written(
    site: Site, folder: Path, at_least: int, seconds: float
) -> tuple[Path, int]:
    """Wait until the folder's one `.part` segment has `at_least` bytes; it, and the site's
    process that writes it."""
    wait_for(
        lambda: part_bytes(folder) > at_least,
        seconds,
        f"no segment grew past {at_least} bytes in {folder}",
    )
    [part] = folder.glob("*.part")
    writer = holder_of(part, site)
    if writer is None:
        raise SiteError(f"no process of the site writes {part}")
    return part, writer


def _alive(pid: int) -> bool:
    entry = _proc_table().get(pid)
    return entry is not None


def _wait_gone(pids: list[int], seconds: float) -> None:
    """Wait until these processes (not our children, so no waitpid) exit, up to `seconds`."""
    deadline = time.monotonic() + seconds
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        finally:
            os.close(fd)


# --- Driving the site, as a browser would ----------------------------------------------------


def _expect_ok(response: requests.Response) -> requests.Response:
    if response.status_code != 200:
        raise SiteError(
            f"{response.request.method} {response.url} answered {response.status_code}: {response.text}"
        )
    return response


def register_admin(
    site: Site, username: str = "alice", password: str = "alice-password-1"
) -> requests.Session:
    """Register the site's first user, its admin; return the logged-in session."""
    session = requests.Session()
    _expect_ok(
        session.post(
            f"{site.url}/api/v1/users/register",
            json={"username": username, "password": password},
            timeout=10,
        )
    )
    return session


def configure(session: requests.Session, site: Site, **values: Any) -> None:
    """Change the site's configuration over the API (PUT /api/v1/configuration)."""
    _expect_ok(session.put(f"{site.url}/api/v1/configuration", json=values, timeout=10))


def add_account(session: requests.Session, site: Site, name: str) -> None:
    """Add a Bilibili account to upload with (`name`: its cookie file)."""
    _expect_ok(
        session.post(
            f"{site.url}/api/v1/users",
            json={"key": "bilibili-cookies", "value": name},
            timeout=10,
        )
    )


def upload_segment(
    session: requests.Session, site: Site, name: str, title: str, account: str
) -> Path:
    """Write a small FLV segment into the recordings folder and ask for its upload."""
    path = site.recordings_dir / name
    path.write_bytes(SEGMENT)
    _expect_ok(
        session.post(
            f"{site.url}/api/v1/uploads",
            json={
                "files": [name],
                "params": {"user_cookie": account, "title": title, "tag": "录播"},
            },
            timeout=10,
        )
    )
    return path


def open_progress_socket(
    site: Site, session: requests.Session | None, path: str = "/ws/progress/"
) -> ClientConnection:
    """Connect to /ws/progress/ (or the pages' /ws/pages/) with the session's cookies (None:
    anonymously)."""
    headers = {}
    if session is not None:
        headers["Cookie"] = "; ".join(
            f"{name}={value}" for name, value in session.cookies.items()
        )
    url = site.url.replace("http://", "ws://", 1) + path
    # No cap on the frames not read yet: a log's tail comes a frame a line, and a capped client
    # stops reading, pongs included, until the test reads them.
    return connect(
        url,
        origin=site.url,
        additional_headers=headers,
        open_timeout=10,
        max_queue=None,
    )


def collect_messages(socket: ClientConnection) -> list[dict[str, Any]]:
    """Read the socket's JSON messages into the returned list, on a thread, until it closes
    (the last entry then says why: {"type": "closed", "error": …})."""
    messages: list[dict[str, Any]] = []

    def read() -> None:
        try:
            for raw in socket:
                messages.append(json.loads(raw))
        except Exception as exc:  # noqa: BLE001 (closed by the test, or broken: say which)
            messages.append({"type": "closed", "error": repr(exc)})

    threading.Thread(target=read, daemon=True).start()
    return messages
