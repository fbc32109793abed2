"""Rate limits: comment posts per client and per article, and cost points per client.

Comment posts are admitted, counted and stored as one step, so concurrent posts
cannot all pass the check: in the database, the count and the insert run in one
transaction serialised per client and per article (every process); in Redis, one
script checks every counter and increments them all or none. What counts is a post
that was stored (spam included); a post refused for any reason (a mistake, a
duplicate, the limit itself) is not counted.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from service import db
from service.pages import now


@dataclass(frozen=True)
class Rule:
    kind: str  # "client" (a hashed address) or "article" (an id)
    key: str | int
    limit: int
    window: int  # seconds


class Limited(Exception):
    """Over a limit: `wait` whole seconds until a post would be admitted."""

    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


class DatabaseLimiter:
    """Counts the comments stored in the window: what a client actually managed to post."""

    @asynccontextmanager
    async def admit(self, rules: Sequence[Rule]) -> AsyncIterator[None]:
        """A transaction in which every rule had room; store the post inside it. Raises Limited."""
        # A client already over its limit is told at once, without queueing for the lock
        # (and holding a pooled connection while it waits); the check under the lock decides.
        await self._check(rules)
        async with db.serialised(*(f"comment-rate:{rule.kind}:{rule.key}" for rule in rules)):
            await self._check(rules)
            yield

    async def _check(self, rules: Sequence[Rule]) -> None:
        for rule in rules:
            wait = await self._wait(rule)
            if wait is not None:
                raise Limited(wait)

    async def _wait(self, rule: Rule) -> int | None:
        column = {"client": "ip_hash", "article": "article_id"}[rule.kind]
        rows = await db.fetch(
            f"SELECT COUNT(*) AS n, MIN(created_at) AS first FROM comment WHERE {column} = $1 AND created_at > $2",
            rule.key,
            now() - timedelta(seconds=rule.window),
        )
        if rows[0]["n"] < rule.limit:
            return None
        first = rows[0]["first"]
        first = datetime.fromisoformat(first) if isinstance(first, str) else first
        return max(1, int((first + timedelta(seconds=rule.window) - now()).total_seconds()) + 1)


# Every counter below its limit: increment them all (0), else touch none (the refusing rule's number).
_ADMIT = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i * 2 - 1]) then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[i * 2])
end
return 0
"""
_RELEASE = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


class RedisLimiter:
    """Counts admitted posts in fixed windows, shared by every service process."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url)
        self._admit = self.redis.register_script(_ADMIT)
        self._release = self.redis.register_script(_RELEASE)

    def _key(self, rule: Rule) -> tuple[str, int]:
        stamp = int(time.time())
        slot = stamp // rule.window
        return f"masthead:rate:{rule.kind}:{rule.key}:{slot}", (slot + 1) * rule.window - stamp

    @asynccontextmanager
    async def admit(self, rules: Sequence[Rule]) -> AsyncIterator[None]:
        """Take a place under every rule at once, then a transaction to store the post in.

        Raises Limited. A post that fails after its place was taken gives the place back.
        """
        keys, args, waits = [], [], []
        for rule in rules:
            name, remaining = self._key(rule)
            keys.append(name)
            args += [rule.limit, rule.window + 1]
            waits.append(max(1, remaining))
        refused = int(await self._admit(keys=keys, args=args))
        if refused:
            raise Limited(waits[refused - 1])
        try:
            async with db.serialised():
                yield
        except BaseException:
            await self._release(keys=keys)
            raise


_limiters: dict[str | None, object] = {}


def limiter(redis_url: str | None) -> DatabaseLimiter | RedisLimiter:
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
