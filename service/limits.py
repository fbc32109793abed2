"""Sliding-window rate limits: counted in the database, or in Redis when configured.

The database counts stored comments (what a client actually managed to post); Redis
counts accepted attempts in fixed windows, shared by every service process.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta

from service import db
from service.pages import now


class DatabaseLimiter:
    async def wait(self, kind: str, key: str | int, limit: int, window: int) -> int | None:
        """Seconds to wait before another post is allowed, or None."""
        column = {"client": "ip_hash", "article": "article_id"}[kind]
        rows = await db.fetch(
            f"SELECT COUNT(*) AS n, MIN(created_at) AS first FROM comment WHERE {column} = $1 AND created_at > $2",
            key,
            now() - timedelta(seconds=window),
        )
        if rows[0]["n"] < limit:
            return None
        first = rows[0]["first"]
        first = datetime.fromisoformat(first) if isinstance(first, str) else first
        return max(1, int((first + timedelta(seconds=window) - now()).total_seconds()) + 1)

    async def hit(self, kind: str, key: str | int, window: int) -> None:
        """Nothing to record: the stored comment is the record."""


class RedisLimiter:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url)

    def _key(self, kind: str, key: str | int, window: int) -> tuple[str, int]:
        slot = int(time.time()) // window
        return f"masthead:rate:{kind}:{key}:{slot}", (slot + 1) * window - int(time.time())

    async def wait(self, kind: str, key: str | int, limit: int, window: int) -> int | None:
        name, remaining = self._key(kind, key, window)
        count = int(await self.redis.get(name) or 0)
        return max(1, remaining) if count >= limit else None

    async def hit(self, kind: str, key: str | int, window: int) -> None:
        name, _ = self._key(kind, key, window)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.incr(name).expire(name, window + 1).execute()


_limiters: dict[str | None, object] = {}


def limiter(redis_url: str | None):
    """The limiter for these settings (one Redis client a process)."""
    if redis_url not in _limiters:
        _limiters[redis_url] = RedisLimiter(redis_url) if redis_url else DatabaseLimiter()
    return _limiters[redis_url]


MAX_BUCKETS = 100_000


class PointBuckets:
    """Cost points per client per minute, in this process: a token bucket per client.

    Each client's bucket holds a minute's budget and refills continuously; a request
    takes its cost's points or is refused with the seconds until it would fit.
    Buckets left full for a minute are forgotten, so memory follows active clients.
    """

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str, points: int, now: float | None = None) -> int:
        """0 when the points were taken, else the whole seconds to wait (at least 1)."""
        if self.capacity <= 0:
            return 0
        now = time.monotonic() if now is None else now
        tokens, stamp = self._buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
        if points > self.capacity:
            return 60
        if tokens < points:
            self._buckets.pop(client, None)
            self._buckets[client] = (tokens, now)
            return max(1, int((points - tokens) / self.rate + 0.999))
        self._buckets.pop(client, None)
        self._buckets[client] = (tokens - points, now)  # re-inserted: the dict stays in least-recent order
        if len(self._buckets) > MAX_BUCKETS:
            self._forget()
        return 0

    def _forget(self) -> None:
        """Drop the least recently seen tenth: bounded memory, amortised constant time per take."""
        for client in list(itertools.islice(self._buckets, MAX_BUCKETS // 10)):
            del self._buckets[client]
