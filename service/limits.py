"""Rate limits: comment posts per client and per article, and cost points per client.

Comment posts are admitted, counted and stored as one step, so concurrent posts
cannot all pass the check: in the database, the count and the insert run in one
transaction serialised per client and per article (every process); in Redis, one
script checks every sliding window (a sorted set of admitted posts) and adds the
post to them all or none. What counts is a post that was stored (spam included);
a post refused for any reason (a mistake, a duplicate, the limit itself) is not
counted.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from service import db
from service.clock import now

log = logging.getLogger("masthead.limits")


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


# A sliding window per rule: a sorted set of admitted posts scored by time (Redis's clock,
# the same for every process). Every rule below its limit: add the post to them all
# ({0, 0}); else touch none ({the refusing rule's number, seconds until a place frees}).
_ADMIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i * 2])
  local window = tonumber(ARGV[i * 2 + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.6f', now - window))
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if oldest[2] == nil then return {i, window} end
    return {i, math.ceil(tonumber(oldest[2]) + window - now)}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, string.format('%.6f', now), ARGV[1])
  redis.call('EXPIRE', key, tonumber(ARGV[i * 2 + 1]) + 1)
end
return {0, 0}
"""
_RELEASE = """
for _, key in ipairs(KEYS) do
  redis.call('ZREM', key, ARGV[1])
end
return 0
"""


class RedisLimiter:
    """Counts admitted posts in sliding windows, shared by every service process."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url)
        self._admit = self.redis.register_script(_ADMIT)
        self._release = self.redis.register_script(_RELEASE)

    @asynccontextmanager
    async def admit(self, rules: Sequence[Rule]) -> AsyncIterator[None]:
        """Take a place under every rule at once, then a transaction to store the post in.

        Raises Limited. A post that fails after its place was taken gives the place back.
        """
        post = uuid.uuid4().hex
        keys = [f"masthead:rate:{rule.kind}:{rule.key}" for rule in rules]
        args: list = [post]
        for rule in rules:
            args += [rule.limit, rule.window]
        refused, wait = (int(value) for value in await self._admit(keys=keys, args=args))
        if refused:
            raise Limited(max(1, wait))
        try:
            async with db.serialised():
                yield
        except BaseException:
            await self._release(keys=keys, args=[post])
            raise


_limiters: dict[str | None, object] = {}


def limiter(redis_url: str | None) -> DatabaseLimiter | RedisLimiter:
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

    def __init__(self, per_minute: int, burst: float | None = None) -> None:
        self.capacity = float(per_minute if burst is None else min(per_minute, burst))
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
# A Lua function, so other scripts can take a request's points in their own round trip
# (service/cache_stores.py: a cached GET pays and is fetched in one).
BUCKET_LUA = """
local function bucket(key, capacity, rate, points, force, debt)
  if capacity <= 0 then return 0 end
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
  local state = redis.call('HMGET', key, 'tokens', 'stamp')
  local tokens = tonumber(state[1]) or capacity
  local stamp = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
  local wait = 0
  if force then
    tokens = math.max(-debt * capacity, tokens - points)
  elseif points > capacity then
    wait = 60
  elseif tokens < points then
    wait = math.max(1, math.ceil((points - tokens) / rate))
  else
    tokens = tokens - points
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'stamp', tostring(now))
  redis.call('EXPIRE', key, math.ceil(capacity * (1 + debt) / rate) + 1)
  return wait
end
"""
_BUCKET_SCRIPT = BUCKET_LUA + """
return bucket(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1', tonumber(ARGV[5]))
"""


class RedisBuckets:
    """The same buckets kept in Redis, so every serving process spends one budget per client.

    When Redis cannot be reached the request goes ahead (logged): the budget
    protects the service, and an outage of Redis should not become one of ours.
    """

    def __init__(self, url: str, per_minute: int, burst: float | None = None, prefix: str = "masthead:points:") -> None:
        import redis.asyncio as redis

        self.url = url
        self.redis = redis.from_url(url)
        self.capacity = float(per_minute if burst is None else min(per_minute, burst))
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
            self.unavailable(error)
            return 0

    async def take(self, client: str, points: float) -> int:
        """0 when the points were taken, else the whole seconds to wait (at least 1)."""
        return await self._run(client, points, False)

    def taking(self, client: str, points: float) -> tuple[str, list]:
        """The key and arguments of BUCKET_LUA's `bucket` that take (as `take`) in another script."""
        return self.prefix + client, [self.capacity, self.rate, points, DEBT_MINUTES]

    def unavailable(self, error: Exception) -> None:
        """Say now and then that Redis is away (requests are then not limited)."""
        if time.monotonic() - self._warned > 60:
            self._warned = time.monotonic()
            log.warning("cost budget: Redis is unavailable (%s); requests are not being limited", error)

    async def aclose(self) -> None:
        await self.redis.aclose()

    async def charge(self, client: str, points: float) -> None:
        """Take points for work already done, whether or not the bucket holds them."""
        if points > 0:
            await self._run(client, points, True)


def budget_for(per_minute: int, redis_url: str | None, burst: float | None = None, prefix: str = "masthead:points:"):
    """Buckets shared by every process through Redis when configured, else this process's own.

    `burst`: what a full bucket holds (a minute's budget when None); the refill is per_minute / 60 a second.
    `prefix` names the budget in Redis (cost points, media renders)."""
    if redis_url and per_minute > 0:
        return RedisBuckets(redis_url, per_minute, burst, prefix)
    return PointBuckets(per_minute, burst)
