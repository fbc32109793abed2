"""Live events: approved comments fanned out to subscribers, across processes.

On PostgreSQL every approval is a NOTIFY on one channel and each service process
LISTENs, so a subscriber on any process hears approvals made on any other. With
MASTHEAD_REDIS_URL set, Redis pub/sub carries them instead (any database). On
SQLite without Redis (one process) approvals are delivered in-process, and purges
reach the other processes through a table they poll (service/purge_relay.py).

The same transport carries wake-ups on a second channel: `wake("webhooks")` in
the transaction that queues a delivery wakes every process's delivery loop (a
NOTIFY is sent at commit), so idle loops can sleep instead of polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

from service.errors import is_number
from service import db, models, purge_relay

CHANNEL = "masthead_comment_approved"
WAKE_CHANNEL = "masthead_wake"
PURGE_CHANNEL = "masthead_purge"  # surrogate keys, space-separated: every process's response caches drop them
QUEUE_SIZE = 100
log = logging.getLogger("masthead.events")


class Broker:
    """Per-article queues of comment ids for this process's subscribers."""

    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue[int]]] = defaultdict(set)

    @contextlib.contextmanager
    def subscription(self, article_id: int):
        queue: asyncio.Queue[int] = asyncio.Queue(QUEUE_SIZE)
        self._queues[article_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[article_id].discard(queue)
            if not self._queues[article_id]:
                del self._queues[article_id]

    def deliver(self, article_id: int, comment_id: int) -> None:
        for queue in self._queues.get(article_id, ()):
            if queue.full():  # a subscriber that stopped reading loses the oldest
                queue.get_nowait()
            queue.put_nowait(comment_id)

    def subscribers(self, article_id: int) -> int:
        return len(self._queues.get(article_id, ()))


broker = Broker()
_wakers: dict[str, set[Callable[[], None]]] = defaultdict(set)


def on_wake(topic: str, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (on this event loop) whenever any process wakes `topic`; returns the undo."""
    _wakers[topic].add(callback)
    return lambda: _wakers[topic].discard(callback)


def _wake_here(topic: str | None = None) -> None:
    """Run this process's callbacks for a topic (None: every topic, e.g. after a reconnect lost some)."""
    for name in [topic] if topic is not None else list(_wakers):
        for callback in list(_wakers.get(name, ())):
            callback()


async def wake(topic: str) -> None:
    """Wake `topic`'s waiters in every process; inside a transaction, PostgreSQL sends it at commit."""
    _wake_here(topic)
    if _redis_url:
        try:
            await _redis_client().publish(WAKE_CHANNEL, topic)
        except Exception as error:  # noqa: BLE001 - the waiters' own timers still find the work
            log.warning("could not publish a wake-up: %s", error)
    elif db.dialect() != "sqlite":
        await db.execute("SELECT pg_notify($1, $2)", WAKE_CHANNEL, topic)


def wakes_every_process() -> bool:
    """Whether `wake` reaches the other processes (Redis or PostgreSQL; on SQLite alone it stays in this one)."""
    return bool(_redis_url) or db.dialect() != "sqlite"


_purgers: set[Callable[[list[str]], None]] = set()


def on_purge(callback: Callable[[list[str]], None]) -> Callable[[], None]:
    """Call `callback(keys)` whenever any process purges surrogate keys; returns the undo."""
    _purgers.add(callback)
    return lambda: _purgers.discard(callback)


def purge_here(keys: list[str]) -> None:
    for callback in list(_purgers):
        callback(keys)


def purge_heard(payload: str) -> None:
    """A purge from another process (NOTIFY or Redis): its keys, unless this process sent it."""
    keys = payload.split()
    if keys and keys[0].startswith("o:"):
        if keys[0] == f"o:{purge_relay.origin()}":
            return
        keys = keys[1:]
    purge_here(keys)


async def purge(keys: list[str]) -> None:
    """Purge keys in this process now and in every other one (after the change committed)."""
    purge_here(keys)
    for start in range(0, len(keys), 200):  # a NOTIFY payload must stay under 8000 bytes
        # "o:<origin>" first: each process skips its own echo (it purged above already).
        payload = " ".join([f"o:{purge_relay.origin()}", *keys[start:start + 200]])
        try:
            if _redis_url:
                await _redis_client().publish(PURGE_CHANNEL, payload)
            elif db.dialect() != "sqlite":
                await db.execute("SELECT pg_notify($1, $2)", PURGE_CHANNEL, payload)
            elif purge_relay.wanted():  # SQLite: the other processes poll the purge log
                await purge_relay.publish(keys[start:start + 200])
        except Exception as error:  # noqa: BLE001 - other processes' entries expire with their s-maxage
            log.warning("could not send a purge to other processes: %s", error)


_redis_url: str | None = None
_redis = None


def configure(redis_url: str | None) -> None:
    """Choose the transport: Redis pub/sub when a URL is given."""
    global _redis_url, _redis
    _redis_url, _redis = redis_url, None


def _redis_client():
    global _redis
    if _redis is None:
        import redis.asyncio as redis

        _redis = redis.from_url(_redis_url)
    return _redis


def _deliver_payload(payload: str) -> None:
    article, _, comment = payload.partition(":")
    if is_number(article) and is_number(comment):
        broker.deliver(int(article), int(comment))


async def comment_approved(comment: models.Comment) -> None:
    """Tell every process's subscribers that a comment is now public."""
    payload = f"{comment.article_id}:{comment.id}"
    if _redis_url:
        await _redis_client().publish(CHANNEL, payload)
    elif db.dialect() != "sqlite":
        await db.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
    else:
        broker.deliver(comment.article_id, comment.id)


async def subscribe(article_id: int) -> AsyncIterator[int]:
    """Ids of comments approved on an article from now on."""
    with broker.subscription(article_id) as queue:
        while True:
            yield await queue.get()


class Listener:
    """Holds a LISTEN connection to PostgreSQL and feeds the broker; reconnects."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_notify(self, connection, pid, channel, payload: str) -> None:
        if channel == WAKE_CHANNEL:
            _wake_here(payload)
        elif channel == PURGE_CHANNEL:
            purge_heard(payload)
        else:
            _deliver_payload(payload)

    async def _run(self) -> None:
        import asyncpg

        url = self.database_url.replace("postgres://", "postgresql://", 1)
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(url)
                await connection.add_listener(CHANNEL, self._on_notify)
                await connection.add_listener(WAKE_CHANNEL, self._on_notify)
                await connection.add_listener(PURGE_CHANNEL, self._on_notify)
                self.ready.set()
                _wake_here()  # wake-ups sent while this was disconnected were lost
                while not connection.is_closed():
                    await asyncio.sleep(1)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # database down: try again shortly
                log.warning("comment listener disconnected: %s", error)
            finally:
                self.ready.clear()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close()
            await asyncio.sleep(1)


class RedisListener(Listener):
    """Subscribes to the Redis channel and feeds the broker; reconnects."""

    async def _run(self) -> None:
        import redis.asyncio as redis

        while True:
            client = redis.from_url(self.database_url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL, WAKE_CHANNEL, PURGE_CHANNEL)
                    self.ready.set()
                    _wake_here()  # wake-ups sent while this was disconnected were lost
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            channel, data = (m.decode() if isinstance(m, bytes) else m
                                             for m in (message["channel"], message["data"]))
                            if channel == WAKE_CHANNEL:
                                _wake_here(data)
                            elif channel == PURGE_CHANNEL:
                                purge_heard(data)
                            else:
                                _deliver_payload(data)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis down: try again shortly
                log.warning("comment listener (redis) disconnected: %s", error)
            finally:
                self.ready.clear()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(1)


def listener_for(settings) -> Listener | purge_relay.Relay | None:
    """The cross-process listener these settings need, if any (SQLite: purges only, for a response cache)."""
    if settings.redis_url:
        return RedisListener(settings.redis_url)
    if not settings.is_sqlite:
        return Listener(settings.database_url)
    if settings.response_cache_bytes > 0:
        return purge_relay.Relay(purge_here)
    return None
