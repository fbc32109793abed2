"""Purges between processes on SQLite without Redis: a log table every process polls.

PostgreSQL carries purges by NOTIFY and Redis by pub/sub (service/events.py); SQLite
has neither, so `masthead serve --workers 2` on it needs this: `publish(keys)` appends
a row to purge_log (after the change committed) and each serving process's `Relay`
reads the rows newer than the last it saw every 100 ms, purging its own caches of
the keys other processes wrote. A reader of another worker sees a change within
about two polls. Rows older than a minute are deleted by the process that wrote
the newest one, at most every few seconds. Failures are logged and retried; none
reaches a request (other processes' entries still expire with their s-maxage).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from service import clock, db, purge_models

INTERVAL = 0.1  # seconds between polls
RETRY = 1.0  # seconds after a failed poll
KEEP = timedelta(seconds=60)  # rows older than this are deleted...
CLEANUP_EVERY = 5.0  # ...at most this often, by the process that wrote the newest row
log = logging.getLogger("masthead.purge_relay")

_origin: tuple[int, str] = (0, "")


def origin() -> str:
    """This process's random id (a forked worker gets its own)."""
    global _origin
    if _origin[0] != os.getpid():
        _origin = (os.getpid(), secrets.token_hex(8))
    return _origin[1]


def wanted() -> bool:
    """Whether purges go through the log: a SQLite file other processes may open."""
    conn = db.connection()
    return conn.capabilities.dialect == "sqlite" and getattr(conn, "filename", "") != ":memory:"


async def publish(keys: list[str]) -> None:
    """Tell the other processes on this SQLite file to purge `keys` (this one purged them already)."""
    await purge_models.PurgeLog.create(keys=" ".join(keys), origin=origin())


class Relay:
    """Polls purge_log and hands other processes' keys to `on_keys`; same start/stop as events.Listener."""

    def __init__(self, on_keys: Callable[[list[str]], None], interval: float = INTERVAL) -> None:
        self.on_keys = on_keys
        self.interval = interval
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._last: int | None = None
        self._newest_is_mine = False
        self._cleaned = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def poll(self) -> None:
        """Purge the keys of the rows written since the last poll (the first one only notes where the log ends)."""
        if self._last is None:
            self._last = (await db.read("SELECT coalesce(max(id), 0) AS last FROM purge_log"))[0]["last"]
            self.ready.set()
            return
        rows = await db.read("SELECT id, keys, origin FROM purge_log WHERE id > $1 ORDER BY id", self._last)
        mine = origin()
        for row in rows:
            if row["origin"] != mine:
                self.on_keys(row["keys"].split())
            self._last = row["id"]
            self._newest_is_mine = row["origin"] == mine
        if self._newest_is_mine and time.monotonic() - self._cleaned >= CLEANUP_EVERY:
            self._cleaned = time.monotonic()
            await purge_models.PurgeLog.filter(created_at__lt=clock.now() - KEEP).delete()

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
                delay = self.interval
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - database busy or gone: the next poll catches up
                log.warning("could not read the purge log: %s", error)
                delay = RETRY
            await asyncio.sleep(delay)
