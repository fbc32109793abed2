"""Sliding-window rate limits: counted in the database, or in Redis when configured.

The database counts stored comments (what a client actually managed to post); Redis
counts accepted attempts in fixed windows, shared by every service process.
"""

from __future__ import annotations

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
