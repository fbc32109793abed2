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
passed, where SQLite itself would have waited: outside a transaction, as the
first statement after BEGIN, and for COMMIT (a refused COMMIT leaves the
transaction open). Once a transaction has read, SQLite does not wait (the
snapshot it read would be stale by the time the lock came: SQLITE_BUSY_SNAPSHOT),
and neither does this: the error is raised at once. Every statement stops at the
statement timeout (MASTHEAD_STATEMENT_TIMEOUT, a progress handler, as for the
read path) with StatementTimeout, since one inline statement holds up the whole
worker. Scripts (migrations, `masthead` maintenance) run in a worker thread with
the full busy timeout and no statement timeout, as before: they are long and
rare; a cancelled one is waited for before the connection is anyone else's.
Full-text ranking, the one costly public read, goes to a thread of its own
(db.read_heavy).

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
import math
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tortoise.backends.sqlite.client import SqliteClient

from service import db

T = TypeVar("T")

INTERRUPT = sqlite3.SQLITE_INTERRUPT
FIRST_PAUSE, LONGEST_PAUSE = 0.001, 0.05


class InlineConnection:
    """The part of aiosqlite's Connection that Tortoise's SQLite client uses, on the loop."""

    __slots__ = ("_conn", "busy_seconds", "_deadline", "_untouched")

    def __init__(self, conn: sqlite3.Connection, busy_seconds: float) -> None:
        self._conn = conn
        self.busy_seconds = busy_seconds
        self._deadline = math.inf
        self._untouched = False  # in a transaction nothing has run in yet: it holds no snapshot
        conn.set_progress_handler(self._past_deadline, 10_000)

    def _past_deadline(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes

    async def _run(self, work: Callable[..., T], *args: Any, retry: bool | None = None, timed: bool = True) -> T:
        """work(*args) within the statement timeout, retried while another process holds the
        write lock (up to the busy timeout) where SQLite's own busy handler would have waited."""
        if retry is None:
            retry = not self._conn.in_transaction or self._untouched
        deadline = 0.0
        pause = FIRST_PAUSE
        while True:
            seconds = db.statement_seconds() if timed else 0
            self._deadline = time.monotonic() + seconds if seconds > 0 else math.inf
            try:
                result = work(*args)
                self._untouched = False
                return result
            except sqlite3.OperationalError as error:
                if getattr(error, "sqlite_errorcode", None) == INTERRUPT:
                    raise db.StatementTimeout(f"A statement took longer than {seconds:g} s and was stopped.") from None
                if not (retry and db.waiting_helps(error)):
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.busy_seconds
                if now >= deadline:
                    raise
                await asyncio.sleep(min(pause, deadline - now))
                pause = min(pause * 2, LONGEST_PAUSE)
            finally:
                self._deadline = math.inf

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> sqlite3.Cursor:
        cursor = await self._run(self._conn.execute, sql, parameters or ())
        self._untouched = sql.lstrip()[:5].upper() == "BEGIN"
        return cursor

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> list[sqlite3.Row]:
        return await self._run(lambda: self._conn.execute(sql, parameters or ()).fetchall())

    async def execute_insert(self, sql: str, parameters: Iterable[Any] | None = None) -> tuple[int]:
        return await self._run(lambda: (self._conn.execute(sql, parameters or ()).lastrowid,))

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> sqlite3.Cursor:
        # Retried only as a transaction's first statement: in autocommit each row commits on its
        # own, and a retry after row k would insert rows 1..k-1 twice. Untimed: bulk loads
        # (the seeders, imports) send thousands of rows in one call.
        rows = list(rows)
        return await self._run(self._conn.executemany, sql, rows, retry=self._conn.in_transaction and self._untouched,
                               timed=False)

    async def executescript(self, script: str) -> None:
        # Cancelled, it is waited for: the client's lock must not pass on while the thread uses the connection.
        await db.in_thread(self._conn, self._script, script)

    def _script(self, script: str) -> None:
        previous = self._conn.execute("PRAGMA busy_timeout").fetchone()[0]
        self._conn.execute(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
        try:
            self._conn.executescript(script)
        finally:
            self._untouched = False
            self._conn.execute(f"PRAGMA busy_timeout = {int(previous)}")

    async def commit(self) -> None:
        await self._run(self._conn.commit, retry=True)  # a COMMIT refused as busy leaves the transaction open
        self._untouched = False

    async def rollback(self) -> None:
        self._untouched = False
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
        # timeout=0: no wait inside SQLite, on the loop (InlineConnection._run waits with asyncio).
        # check_same_thread=False: scripts run in a worker thread while the client's lock is held.
        conn = sqlite3.connect(self.filename, isolation_level=None, check_same_thread=False, timeout=0)
        conn.row_factory = sqlite3.Row
        inline = InlineConnection(conn, busy_seconds)
        for pragma, value in pragmas.items():
            await inline._run(conn.execute, f"PRAGMA {pragma}={value}")
        self._connection = inline  # type: ignore[assignment]
        await self._post_connect()
        self.log.debug("Created inline connection to %s with %s", self.filename, pragmas)


client_class = InlineSqliteClient


def get_client_class(db_info: dict) -> type[SqliteClient]:
    return InlineSqliteClient
