"""Where the response cache keeps entries: this process's memory, or Redis for every process.

Both stores follow one rule against races (service/response_cache.py): `get` returns,
with the entry, the purge epoch at the request's start; a purge bumps the epoch and
records it on each key it purges; `put` stores nothing when any of the entry's keys
was purged since that epoch. In-process stores hear every process's purges through
service/events.py; the Redis store is one cache, purged once by the process that
made the change (service/purges.py).
"""

from __future__ import annotations

import logging
import secrets
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import orjson

from service import events
from service.limits import BUCKET_LUA, RedisBuckets

log = logging.getLogger("masthead.response_cache")
clock = time.monotonic  # expiry times in this process (tests move it)
MAX_VERSIONS = 10_000  # purged keys remembered (a process forgets them all; Redis, the oldest) before older requests store nothing

@dataclass(slots=True)
class Entry:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored_at: float  # wall clock (shared between processes through Redis)
    tags: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + sum(map(len, self.tags)) + 200

    def dumps(self) -> bytes:
        meta = orjson.dumps({"h": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in self.headers],
                             "t": self.stored_at, "k": self.tags})
        return meta + b"\n" + self.body

    @classmethod
    def loads(cls, blob: bytes) -> Entry:
        meta, _, body = blob.partition(b"\n")
        known = _loaded.get(meta)  # every hit on an entry reads the same headers: decode them once
        if known is None:
            data = orjson.loads(meta)
            known = ([(k.encode("latin-1"), v.encode("latin-1")) for k, v in data["h"]], data["t"], tuple(data["k"]))
            if len(_loaded) >= LOADED_KEPT:
                _loaded.clear()
            _loaded[meta] = known
        return cls(known[0], body, known[1], known[2])

    @classmethod
    def read(cls, blob: bytes | None) -> Entry | None:
        """`loads`, or None (a miss the answer then replaces) for nothing or what this version cannot read
        (an entry another version of the service wrote in the shared Redis)."""
        if not blob:
            return None
        try:
            return cls.loads(blob)
        except (ValueError, KeyError, TypeError, IndexError):
            log.warning("response cache: an entry in Redis could not be read; treated as a miss")
            return None


LOADED_KEPT = 4096  # decoded headers of Redis entries one process remembers (by their serialised form)
_loaded: dict[bytes, tuple[list, float, tuple]] = {}


class MemoryStore:
    """Entries in this process, bounded in bytes; the least recently used make room."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[str, tuple[Entry, float]] = OrderedDict()  # key -> (entry, expires, monotonic)
        self.tagged: dict[str, set[str]] = {}
        self.epoch = 0
        self.floor = 0  # requests started before this epoch store nothing (versions were forgotten)
        self.versions: dict[str, int] = {}
        stores.add(self)

    async def get(self, key: str) -> tuple[Entry | None, int]:
        """The live entry for key (or None) and the epoch to pass to `put`."""
        return self.live(key), self.epoch

    async def take_and_get(self, budget, client: str, points: int, key: str) -> tuple[int, Entry | None]:
        """The budget's `take` of a request's points, then (when taken) the live entry for key."""
        wait = await budget.take(client, points)
        return (wait, None) if wait else (0, self.live(key))

    def live(self, key: str) -> Entry | None:
        found = self.entries.get(key)
        if found is not None:
            if found[1] > clock():
                self.entries.move_to_end(key)
                return found[0]
            self.drop(key)
        return None

    async def put(self, key: str, entry: Entry, ttl: int, since: int) -> bool:
        if since < self.floor or any(self.versions.get(tag, 0) > since for tag in entry.tags):
            return False  # a purge of what this response shows happened while it was being made
        if entry.size > self.max_bytes:
            return False
        self.drop(key)
        self.entries[key] = (entry, clock() + ttl)
        self.bytes += entry.size
        for tag in entry.tags:
            self.tagged.setdefault(tag, set()).add(key)
        while self.bytes > self.max_bytes:
            self.drop(next(iter(self.entries)))
        return True

    def drop(self, key: str) -> None:
        found = self.entries.pop(key, None)
        if found is None:
            return
        self.bytes -= found[0].size
        for tag in found[0].tags:
            keys = self.tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.tagged[tag]

    def purge(self, tags) -> int:
        """Remove every entry tagged with any of `tags`; responses in flight that show them are not stored."""
        self.epoch += 1
        if len(self.versions) > MAX_VERSIONS:
            self.versions.clear()
            self.floor = self.epoch
        removed = 0
        for tag in tags:
            self.versions[tag] = self.epoch
            for key in list(self.tagged.get(tag, ())):
                self.drop(key)
                removed += 1
        return removed

    def clear(self) -> None:
        """Forget every entry; requests in flight store nothing."""
        self.purge(list(self.tagged))
        self.entries.clear()
        self.tagged.clear()
        self.bytes = 0
        self.floor = self.epoch

    async def aclose(self) -> None:
        """Nothing to release."""


stores: weakref.WeakSet[MemoryStore] = weakref.WeakSet()


def purge_here(tags) -> None:
    """Purge this process's in-memory stores (every process hears purges through service/events.py)."""
    for store in list(stores):
        store.purge(tags)


def forget_all() -> None:
    """Empty this process's in-memory stores (the tests' clean database between tests)."""
    for store in list(stores):
        store.clear()


events.on_purge(purge_here)

# Redis evicts keys under its maxmemory policy (compose: volatile-lru, which takes only
# keys with a TTL), and no eviction may serve stale content. Entries (e:), tag sets (t:)
# and generations (g:) have TTLs and may go at any time: an entry records its keys'
# generations and counts only while each still exists unchanged, so a purge (which
# deletes the generations) invalidates every entry of its keys even when a tag set
# holding them was evicted. The race rule's state has no TTL and stays small: the purge
# epoch, `purged` (each key's last purge epoch, the newest MAX_VERSIONS) and `floor`
# (the highest epoch trimmed from it: requests older than that store nothing).

# An entry (its first line "key generation ...") or '' when missing or when any key's generation
# changed or went (the entry is then deleted).
_LIVE = r"""
local function live(entry, generations)
  local blob = redis.call('GET', entry)
  if not blob then return '' end
  local newline = string.find(blob, '\n', 1, true)
  if not newline then return '' end
  for tag, generation in string.gmatch(string.sub(blob, 1, newline - 1), '(%S+) (%S+)') do
    if redis.call('GET', generations .. tag) ~= generation then
      redis.call('DEL', entry)
      return ''
    end
  end
  return blob
end
"""
# KEYS: entry, epoch. ARGV: the generations' prefix.
_GET = _LIVE + """
return {live(KEYS[1], ARGV[1]), redis.call('GET', KEYS[2]) or '0'}
"""
# A cached GET's door fee and its live entry in one round trip. KEYS: the client's bucket, the entry.
# ARGV: the bucket's capacity, rate, points and debt, the generations' prefix.
_TAKE_AND_GET = BUCKET_LUA + _LIVE + """
local wait = bucket(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), false, tonumber(ARGV[4]))
if wait > 0 then return {wait} end
return {0, live(KEYS[2], ARGV[5])}
"""
# Store only when no key of the entry was purged since the request began; generations
# and tag sets live at least as long as the entries naming them.
# KEYS: entry, floor, purged. ARGV: since, ttl, body, new generation, prefixes of generations and tag sets, keys...
_PUT = r"""
local since = tonumber(ARGV[1])
if since < tonumber(redis.call('GET', KEYS[2]) or '0') then return 0 end
for i = 7, #ARGV do
  local purged = redis.call('ZSCORE', KEYS[3], ARGV[i])
  if purged and tonumber(purged) > since then return 0 end
end
local ttl = tonumber(ARGV[2])
local head = {}
for i = 7, #ARGV do
  local tag = ARGV[i]
  local key = ARGV[5] .. tag
  local generation = redis.call('GET', key)
  if not generation then
    generation = ARGV[4]
    redis.call('SET', key, generation, 'EX', ttl)
  elseif redis.call('TTL', key) < ttl then
    redis.call('EXPIRE', key, ttl)
  end
  head[#head + 1] = tag .. ' ' .. generation
  local set = ARGV[6] .. tag
  redis.call('SADD', set, KEYS[1])
  if redis.call('TTL', set) < ttl then redis.call('EXPIRE', set, ttl) end
end
redis.call('SET', KEYS[1], table.concat(head, ' ') .. '\n' .. ARGV[3], 'EX', ttl)
return 1
"""
# KEYS: epoch, floor, purged. ARGV: MAX_VERSIONS, prefixes of generations and tag sets, keys...
_PURGE = """
local epoch = redis.call('INCR', KEYS[1])
local removed = 0
for i = 4, #ARGV do
  local tag = ARGV[i]
  redis.call('ZADD', KEYS[3], epoch, tag)
  redis.call('DEL', ARGV[2] .. tag)
  local set = ARGV[3] .. tag
  for _, key in ipairs(redis.call('SMEMBERS', set)) do
    removed = removed + redis.call('DEL', key)
  end
  redis.call('DEL', set)
end
local extra = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[1])
if extra > 0 then
  local last = redis.call('ZRANGE', KEYS[3], extra - 1, extra - 1, 'WITHSCORES')
  redis.call('SET', KEYS[2], last[2])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, extra - 1)
end
return removed
"""


class RedisStore:
    """One cache for every process, in Redis (its memory bounded by Redis's maxmemory and eviction policy).

    When Redis cannot be reached requests run uncached (logged now and then).
    """

    def __init__(self, url: str, prefix: str = "masthead:cache:") -> None:
        import redis.asyncio as redis

        self.url = url
        self.redis = redis.from_url(url)
        self.prefix = prefix
        self._get = self.redis.register_script(_GET)
        self._take_and_get = self.redis.register_script(_TAKE_AND_GET)
        self._put = self.redis.register_script(_PUT)
        self._purge = self.redis.register_script(_PURGE)
        self._warned = 0.0

    def _warn(self, error: Exception) -> None:
        if time.monotonic() - self._warned > 60:
            self._warned = time.monotonic()
            log.warning("response cache: Redis is unavailable (%s); serving uncached", error)

    async def get(self, key: str) -> tuple[Entry | None, int]:
        try:
            blob, epoch = await self._get(keys=[self.prefix + "e:" + key, self.prefix + "epoch"], args=[self.prefix + "g:"])
        except Exception as error:  # noqa: BLE001 - serve uncached
            self._warn(error)
            return None, -1
        return Entry.read(blob.partition(b"\n")[2]), int(epoch or 0)

    async def take_and_get(self, budget, client: str, points: int, key: str) -> tuple[int, Entry | None]:
        """The budget's `take` of a request's points, then (when taken) the entry for key: one round
        trip when the budget lives in the same Redis. While Redis cannot be reached: not limited, not cached."""
        if not (isinstance(budget, RedisBuckets) and budget.url == self.url and budget.capacity > 0):
            wait = await budget.take(client, points)
            return (wait, None) if wait else (0, (await self.get(key))[0])
        bucket, args = budget.taking(client, points)
        try:
            found = await self._take_and_get(keys=[bucket, self.prefix + "e:" + key], args=[*args, self.prefix + "g:"])
        except Exception as error:  # noqa: BLE001 - serve, unlimited and uncached
            budget.unavailable(error)
            self._warn(error)
            return 0, None
        if found[0]:
            return int(found[0]), None
        return 0, Entry.read(found[1].partition(b"\n")[2])

    async def put(self, key: str, entry: Entry, ttl: int, since: int) -> bool:
        if since < 0:
            return False
        keys = [self.prefix + "e:" + key, self.prefix + "floor", self.prefix + "purged"]
        args = [since, ttl, entry.dumps(), secrets.token_hex(8), self.prefix + "g:", self.prefix + "t:", *entry.tags]
        try:
            return bool(await self._put(keys=keys, args=args))
        except Exception as error:  # noqa: BLE001
            self._warn(error)
            return False

    async def purge(self, tags) -> int:
        keys = [self.prefix + "epoch", self.prefix + "floor", self.prefix + "purged"]
        args = [MAX_VERSIONS, self.prefix + "g:", self.prefix + "t:", *sorted(set(tags))]
        return int(await self._purge(keys=keys, args=args))

    async def aclose(self) -> None:
        await self.redis.aclose()


def store_for(settings) -> MemoryStore | RedisStore | None:
    """The store these settings ask for: Redis when configured, else in-process; None when turned off."""
    if settings.response_cache_bytes <= 0:
        return None
    return RedisStore(settings.redis_url) if settings.redis_url else MemoryStore(settings.response_cache_bytes)
