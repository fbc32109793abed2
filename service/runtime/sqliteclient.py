"""Tortoise's SQLite client, run on the event loop instead of in aiosqlite's thread.

aiosqlite runs each statement in a thread of its own and hands the result back to
the event loop. A statement takes microseconds; the hand-back waits its turn among
everything else the loop has ready. Under read load that turn comes every few
milliseconds, and a write transaction pays it on every statement while holding
SQLite's single write lock: a 30-statement publish held it for a third of a second,
every writer of every worker queued behind it, and beside 20 comment approvals a
second a publish waited past the request timeout (make bench-cache, mixed run).

Here each statement runs inline, as the public read path already does
(service/db.py): a transaction runs from BEGIN to COMMIT without giving the loop
away, so it holds the write lock for its own CPU time only. The one wait that
must not block the loop is another process's write lock: the connection's
busy_timeout is 0 and a statement refused with SQLITE_BUSY is retried after an
asyncio sleep (1 ms, doubling to 50 ms) until the configured busy timeout has
passed. A deferred transaction that read before another process committed gets
SQLITE_BUSY_SNAPSHOT, which no wait cures: that is raised at once. Scripts
(migrations, `masthead` maintenance) run in a worker thread with the full busy
timeout, as before: they are long and rare.

A commit's fsync is inline too: about 0.2 ms on this machine's disk, less than one
hand-back under load; PostgreSQL remains the production database.

Engine "service.runtime.sqliteclient" in the tortoise config (service/db.py) selects it.

Relies on: tortoise loading an engine module's `client_class`/`get_client_class`;
`SqliteClient.create_connection` being the one place the connection is made
(`_connection`, `pragmas`, `_post_connect`), and the client and its transaction
wrapper calling only `execute`, `execute_fetchall`, `execute_insert`,
`executemany`, `executescript`, `commit`, `rollback`, `close` and `total_changes`
on it. tests/test_runtime_assumptions.py checks those calls are all there is.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tortoise.backends.sqlite.client import SqliteClient

T = TypeVar("T")

BUSY = sqlite3.SQLITE_BUSY
BUSY_SNAPSHOT = 517  # SQLITE_BUSY_SNAPSHOT: the transaction's snapshot is stale; only a new transaction helps
FIRST_PAUSE, LONGEST_PAUSE = 0.001, 0.05


class InlineConnection:
    """The part of aiosqlite's Connection that Tortoise's SQLite client uses, on the loop."""

    __slots__ = ("_conn", "busy_seconds")

    def __init__(self, conn: sqlite3.Connection, busy_seconds: float) -> None:
        self._conn = conn
        self.busy_seconds = busy_seconds

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        """work(*args), retried while another process holds the write lock, up to the busy timeout."""
        deadline = 0.0
        pause = FIRST_PAUSE
        while True:
            try:
                return work(*args)
            except sqlite3.OperationalError as error:
                if getattr(error, "sqlite_errorcode", None) != BUSY:  # BUSY_SNAPSHOT too: waiting cannot help
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.busy_seconds
                if now >= deadline:
                    raise
                await asyncio.sleep(min(pause, deadline - now))
                pause = min(pause * 2, LONGEST_PAUSE)

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> sqlite3.Cursor:
        return await self._run(self._conn.execute, sql, parameters or ())

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> list[sqlite3.Row]:
        return await self._run(lambda: self._conn.execute(sql, parameters or ()).fetchall())

    async def execute_insert(self, sql: str, parameters: Iterable[Any] | None = None) -> tuple[int]:
        return await self._run(lambda: (self._conn.execute(sql, parameters or ()).lastrowid,))

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> sqlite3.Cursor:
        rows = list(rows)  # a retry must see every row again
        return await self._run(self._conn.executemany, sql, rows)

    async def executescript(self, script: str) -> None:
        await asyncio.to_thread(self._script, script)

    def _script(self, script: str) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
        try:
            self._conn.executescript(script)
        finally:
            self._conn.execute("PRAGMA busy_timeout = 0")

    async def commit(self) -> None:
        await self._run(self._conn.commit)  # a COMMIT refused as busy leaves the transaction open to retry

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()


class InlineSqliteClient(SqliteClient):
    """SqliteClient whose connection runs statements on the event loop (module docstring)."""

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        pragmas = dict(self.pragmas)
        busy_seconds = int(pragmas.pop("busy_timeout", 5000)) / 1000
        # check_same_thread=False: scripts run in a worker thread while the client's lock is held.
        conn = sqlite3.connect(self.filename, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma, value in pragmas.items():
            conn.execute(f"PRAGMA {pragma}={value}")
        conn.execute("PRAGMA busy_timeout = 0")  # lock waits are asyncio sleeps (InlineConnection._run)
        self._connection = InlineConnection(conn, busy_seconds)  # type: ignore[assignment]
        await self._post_connect()
        self.log.debug("Created inline connection to %s with %s", self.filename, pragmas)


client_class = InlineSqliteClient


def get_client_class(db_info: dict) -> type[SqliteClient]:
    return InlineSqliteClient
