"""Sliding-window rate limits: counted in the database, or in Redis when configured.

The database counts stored comments (what a client actually managed to post); Redis
counts accepted attempts in fixed windows, shared by every service process.
"""

from __future__ import annotations

import itertools
import logging
import time
from datetime import datetime, timedelta

from service import db
from service.pages import now

log = logging.getLogger("masthead.limits")


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
DEBT_MINUTES = 1  # work already done is charged even past empty, down to a minute's budget below zero


class PointBuckets:
    """Cost points per client per minute, in this process: a token bucket per client.

    Each client's bucket holds a minute's budget and refills continuously. `take`
    takes a request's points or refuses with the seconds until they would fit;
    `charge` takes points for work already done, even past empty (a debt the
    refill pays back first). Buckets left alone are forgotten, least recent
    first, so memory follows active clients.
    """

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, client: str, points: float) -> int:
        """0 when the points were taken, else the whole seconds to wait (at least 1)."""
        return self._update(client, points, force=False, now=time.monotonic())

    async def charge(self, client: str, points: float) -> None:
        """Take points for work already done, whether or not the bucket holds them."""
        if points > 0:
            self._update(client, points, force=True, now=time.monotonic())

    def _update(self, client: str, points: float, *, force: bool, now: float) -> int:
        if self.capacity <= 0:
            return 0
        tokens, stamp = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
        wait = 0
        if force:
            tokens = max(-DEBT_MINUTES * self.capacity, tokens - points)
        elif points > self.capacity:
            wait = 60
        elif tokens < points:
            wait = max(1, int((points - tokens) / self.rate + 0.999))
        else:
            tokens -= points
        self._buckets[client] = (tokens, now)  # re-inserted: the dict stays in least-recent order
        if len(self._buckets) > MAX_BUCKETS:
            self._forget()
        return wait

    async def aclose(self) -> None:
        """Nothing to release: the buckets live in this process."""

    def _forget(self) -> None:
        """Drop the least recently seen tenth: bounded memory, amortised constant time per take."""
        for client in list(itertools.islice(self._buckets, MAX_BUCKETS // 10)):
            del self._buckets[client]


# One atomic step of a client's bucket in Redis: refill by the time passed (Redis's
# clock, the same for every process), then take, refuse, or (force) charge into debt.
_BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local points = tonumber(ARGV[3])
local force = ARGV[4] == '1'
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if force then
  tokens = math.max(-tonumber(ARGV[5]) * capacity, tokens - points)
elseif points > capacity then
  wait = 60
elseif tokens < points then
  wait = math.max(1, math.ceil((points - tokens) / rate))
else
  tokens = tokens - points
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity * (1 + tonumber(ARGV[5])) / rate) + 1)
return wait
"""


class RedisBuckets:
    """The same buckets kept in Redis, so every serving process spends one budget per client.

    When Redis cannot be reached the request goes ahead (logged): the budget
    protects the service, and an outage of Redis should not become one of ours.
    """

    def __init__(self, url: str, per_minute: int, prefix: str = "masthead:points:") -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url)
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.prefix = prefix
        self._script = self.redis.register_script(_BUCKET_SCRIPT)
        self._warned = 0.0

    async def _run(self, client: str, points: float, force: bool) -> int:
        if self.capacity <= 0:
            return 0
        try:
            return int(await self._script(keys=[self.prefix + client],
                                          args=[self.capacity, self.rate, points, int(force), DEBT_MINUTES]))
        except Exception as error:  # noqa: BLE001 - any Redis failure: serve, and say so now and then
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                log.warning("cost budget: Redis is unavailable (%s); requests are not being limited", error)
            return 0

    async def take(self, client: str, points: float) -> int:
        """0 when the points were taken, else the whole seconds to wait (at least 1)."""
        return await self._run(client, points, False)

    async def aclose(self) -> None:
        await self.redis.aclose()

    async def charge(self, client: str, points: float) -> None:
        """Take points for work already done, whether or not the bucket holds them."""
        if points > 0:
            await self._run(client, points, True)


def budget_for(per_minute: int, redis_url: str | None):
    """Cost buckets shared by every process through Redis when configured, else this process's own."""
    return RedisBuckets(redis_url, per_minute) if redis_url and per_minute > 0 else PointBuckets(per_minute)
