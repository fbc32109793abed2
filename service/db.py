"""Database configuration and the few raw-SQL helpers the read path needs."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from tortoise import connections
from tortoise.exceptions import DBConnectionError
from tortoise.transactions import in_transaction

from service.settings import Settings

APP_LABEL = "masthead"
MODELS_MODULE = "service.models"
MENU_MODELS_MODULE = "service.menu_models"  # the named menus' models, one app with the others
REFERENCE_MODELS_MODULE = "service.reference_models"  # the reference index (links and image uses)
PURGE_MODELS_MODULE = "service.purge_models"  # the purge log and retry queue
MIGRATIONS_MODULE = "service.migrations"


def tortoise_config(settings: Settings) -> dict[str, Any]:
    from tortoise.backends.base.config_generator import expand_db_url

    url = settings.database_url
    if url.startswith("sqlite") and "busy_timeout" not in url:
        # Writers wait for the lock instead of failing with "database is locked".
        url += ("&" if "?" in url else "?") + "busy_timeout=10000"
    connection: Any = expand_db_url(url)
    if url.startswith("sqlite"):
        # Statements run on the event loop, lock waits are asyncio sleeps (service/runtime/sqliteclient.py).
        connection["engine"] = "service.runtime.sqliteclient"
    else:
        if connection["engine"] == "tortoise.backends.asyncpg":
            # Tortoise's client, hardened against connections the server closed (service/runtime/pgclient.py).
            connection["engine"] = "service.runtime.pgclient"
        if settings.statement_timeout > 0:
            # A runaway statement is stopped by PostgreSQL itself, whichever code sent it.
            connection["credentials"]["server_settings"] = {"statement_timeout": str(int(settings.statement_timeout * 1000))}
        # Fail fast while the database is down (asyncpg waits 60 s to connect by default).
        connection["credentials"]["timeout"] = 3
    _STATEMENT_SECONDS[0] = settings.statement_timeout
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": [MODELS_MODULE, MENU_MODELS_MODULE, REFERENCE_MODELS_MODULE, PURGE_MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def connection():
    return connections.get("default")


def statement_seconds() -> float:
    """How long one statement may run in this process (MASTHEAD_STATEMENT_TIMEOUT; 0: no limit)."""
    return _STATEMENT_SECONDS[0]


@contextmanager
def statement_timeout(seconds: float) -> Iterator[None]:
    """Statements run within `seconds` (0: no limit) inside the block; the process's own after it."""
    kept, _STATEMENT_SECONDS[0] = _STATEMENT_SECONDS[0], seconds
    try:
        yield
    finally:
        _STATEMENT_SECONDS[0] = kept


def dialect() -> str:
    return connection().capabilities.dialect


_PLACEHOLDER = re.compile(r"\$(\d+)")


def _adapt(value: Any, sqlite: bool) -> Any:
    if sqlite and isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(sep=" ")
    return value


_SQLITE_TEXT: dict[str, str] = {}  # $1-style text -> ?1-style, for the few hundred texts the code writes


def _prepare(conn, sql: str, params: tuple) -> tuple[str, list]:
    """$1-style SQL and values in the form the connection's dialect takes."""
    if conn.capabilities.dialect != "sqlite":
        return sql, list(params)
    text = _SQLITE_TEXT.get(sql)
    if text is None:
        text = _PLACEHOLDER.sub(r"?\1", sql)
        if len(_SQLITE_TEXT) >= 2048:  # texts vary with the length of IN lists; past this many, start again
            _SQLITE_TEXT.clear()
        _SQLITE_TEXT[sql] = text
    return text, [_adapt(p, True) for p in params]


async def fetch(sql: str, *params: Any) -> list[dict]:
    """Run a SELECT written with $1-style placeholders on either dialect."""
    conn = connection()
    return await conn.execute_query_dict(*_prepare(conn, sql, params))


_STATEMENT_SECONDS = [5.0]
# Statements are logged where Tortoise logs its own, so one handler sees them all.
_log = logging.getLogger("tortoise.db_client")


class _Reader:
    """A read-only connection to the same SQLite file, with its own statement deadline.

    WAL lets it see every committed write. One is queried inline on the event loop (read:
    a query takes tens of microseconds, less than a hand-off to a thread), another from a
    worker thread, one statement at a time (read_heavy).
    """

    def __init__(self, path: str) -> None:
        # A URI of its own: a path with `?`, `#` or `%`, or one written `//tmp/x`, stays the same file.
        uri = "file:" + quote("/" + os.path.abspath(path).lstrip("/")) + "?mode=ro"
        self.connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        self.connection.execute("PRAGMA query_only = ON")
        self.deadline = math.inf
        self.connection.set_progress_handler(self._past_deadline, 10_000)  # non-zero interrupts the statement
        self.lock = asyncio.Lock()  # read_heavy's: one statement at a time from the threads

    def _past_deadline(self) -> int:
        return 1 if time.monotonic() > self.deadline else 0

    def rows(self, sql: str, params: list, seconds: float) -> list[dict]:
        self.deadline = time.monotonic() + seconds if seconds > 0 else math.inf
        try:
            cursor = self.connection.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT:
                raise StatementTimeout(f"A read took longer than {seconds:g} s and was stopped.") from None
            raise
        finally:
            self.deadline = math.inf


_readers: dict[tuple[str, bool], _Reader] = {}  # (file, inline) -> reader


def _reader(conn, inline: bool) -> _Reader:
    reader = _readers.get((conn.filename, inline))
    if reader is None:
        reader = _readers[conn.filename, inline] = _Reader(conn.filename)
    return reader


async def in_thread(connection: sqlite3.Connection, work, *args: Any):
    """work(*args) in a worker thread. If the caller gives up, the statement running on
    `connection` is interrupted and the thread waited for: the connection is never used by
    two threads at once, nor handed on while a thread still uses it."""
    running = asyncio.ensure_future(asyncio.to_thread(work, *args))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        connection.interrupt()
        await asyncio.wait({running})
        raise


async def within(awaitable, seconds: float):
    """The awaitable's result, or TimeoutError after `seconds` without waiting for it to stop.

    asyncio.wait_for waits for the cancelled task to finish: a database driver stuck
    in a connect keeps it waiting, which defeats a deadline.
    """
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no "never retrieved" noise
    raise TimeoutError


class StatementTimeout(Exception):
    """A statement ran past the statement timeout."""


# The server is there but refuses this service: gone, restarting, full, its database dropped
# or its credentials changed. Each is the operator's to fix, never the client's request.
_UNAVAILABLE_ASYNCPG = frozenset((
    "InterfaceError", "CannotConnectNowError", "AdminShutdownError", "CrashShutdownError", "ConnectionFailureError",
    "InvalidCatalogNameError", "InvalidAuthorizationSpecificationError", "InvalidPasswordError", "TooManyConnectionsError",
))
SQLITE_BUSY_SNAPSHOT = 517  # sqlite3 names the primary codes only
_UNAVAILABLE = ("connection", "connect", "closed", "shutdown", "terminat", "recovery mode", "starting up")


def database_unavailable(error: BaseException) -> bool:
    """Whether an exception means the database cannot be reached (rather than a bad query)."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, (DBConnectionError, ConnectionError, OSError)):
            return True
        module, name = type(error).__module__, type(error).__name__
        if module.startswith("asyncpg") and (name in _UNAVAILABLE_ASYNCPG or "Connection" in name):
            return True
        if module.startswith("tortoise") and any(word in str(error).lower() for word in _UNAVAILABLE):
            return True
        if isinstance(error, sqlite3.OperationalError) and waiting_helps(error):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def waiting_helps(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY in any of its forms (RECOVERY, TIMEOUT ...) but a stale snapshot: another
    process holds the write lock, and waiting for it may let this statement through. Past the
    busy timeout, the database cannot take the write now (a 503 the client may retry), not a bad
    request. A stale snapshot (SQLITE_BUSY_SNAPSHOT: a transaction read, then wrote) is a bug."""
    code = getattr(error, "sqlite_errorcode", None) or 0
    return code & 0xFF == sqlite3.SQLITE_BUSY and code != SQLITE_BUSY_SNAPSHOT


def close_readers() -> None:
    while _readers:
        _readers.popitem()[1].connection.close()


async def read(sql: str, *params: Any) -> list[dict]:
    """Like fetch, for the public read path: inline on SQLite, pooled on PostgreSQL."""
    conn = connection()
    if conn.capabilities.dialect != "sqlite" or conn.filename == ":memory:":
        return await fetch(sql, *params)
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("%s: %s", sql, params)
    return _reader(conn, inline=True).rows(*_prepare(conn, sql, params), _STATEMENT_SECONDS[0])


async def read_heavy(sql: str, *params: Any) -> list[dict]:
    """Like read, for a costly public read (full-text ranking over many rows): on SQLite in a
    worker thread, so the worker keeps answering the others meanwhile; pooled on PostgreSQL."""
    conn = connection()
    if conn.capabilities.dialect != "sqlite" or conn.filename == ":memory:":
        return await fetch(sql, *params)
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("%s: %s", sql, params)
    reader = _reader(conn, inline=False)
    async with reader.lock:
        return await in_thread(reader.connection, reader.rows, *_prepare(conn, sql, params), _STATEMENT_SECONDS[0])


@asynccontextmanager
async def serialised(*keys: str) -> AsyncIterator[Any]:
    """A transaction that runs alone among the transactions naming any of its keys, in every process.

    Every write transaction of service/ opens with it (with no keys, where nothing is counted):
    on SQLite a deferred transaction that read before another process's commit fails with
    "database is locked" however long busy_timeout is.

    What it reads stays true until it commits: the way to check a count and then insert.
    PostgreSQL takes a transaction-scoped advisory lock per key, in sorted order so two
    such transactions never wait on each other. SQLite has one writer at a time: the
    transaction takes the write lock before its first read (a deferred transaction that
    reads, then writes, fails at once when another process wrote in between), waiting
    for it as long as busy_timeout allows.
    """
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "sqlite":
            await conn.execute_query("UPDATE site_settings SET id = id WHERE 0")
        else:
            for key in sorted(set(keys)):
                await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [lock_id(key)])
        yield conn


def lock_id(key: str) -> int:
    """A signed 64-bit advisory lock number for a key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


async def execute(sql: str, *params: Any) -> None:
    conn = connection()
    await conn.execute_query(*_prepare(conn, sql, params))


def sqlite_path(database_url: str) -> str:
    return database_url.split("://", 1)[1].split("?", 1)[0]


def ensure_sqlite_directory(database_url: str) -> None:
    from pathlib import Path

    path = sqlite_path(database_url)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


async def with_database(settings: Settings, work):
    """Run `work()` with the database open (commands outside the server), then close it."""
    from tortoise import Tortoise

    if settings.is_sqlite:
        ensure_sqlite_directory(settings.database_url)
    from service import purges

    await Tortoise.init(config=tortoise_config(settings))
    purges.configure(settings)  # changes made by commands purge the serving processes' caches too
    try:
        return await work()
    finally:
        await purges.close()
        await Tortoise.close_connections()
