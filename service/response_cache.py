"""The response cache for /graphql: anonymous reads answered before GraphQL runs.

An ASGI middleware (inside the Door, which still charges each request its point)
keys a request by what decides its answer, the same for GET and POST: the
document (its sha256: sent as text, as an automatic persisted query's hash or as a
`documentId`), the canonical JSON of its variables, its operation name, other
extensions, and the media type asked for (Accept). A hit sends the stored body and
headers (ETag, Cache-Control, Vary, Surrogate-Key ...) plus `Age`, or a 304 when
`If-None-Match` names its ETag: no parsing, no validation, no SQL.

Only what the view marks `Cache-Control: public` with status 200 is stored, for its
`s-maxage`, tagged with its `Surrogate-Key`s; requests with credentials
(Authorization, Cookie) pass untouched. `X-Cache` says HIT, MISS (stored now) or
BYPASS (not cacheable).

Races: a request notes the purge epoch when it starts; a purge bumps the epoch and
records it on each purged key, and a response is not stored when any of its keys
was purged since its request started (its data may predate the change). A purge
that arrives later deletes it. In-process stores (bounded in bytes, least recently
used first) hear purges from every process through service/events.py; the Redis
store is one cache for every process, purged once by the process that changed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import events

log = logging.getLogger("masthead.response_cache")
MAX_POST_BYTES = 16_384  # larger JSON bodies pass uncached (anonymous documents are smaller)
MAX_ACCEPT = 256
FIELDS = {"query", "variables", "operationName", "extensions", "documentId"}
UNCACHEABLE = re.compile(r"\b(mutation|subscription)\b|previewToken")
DROPPED = {b"content-length", b"date", b"server", b"x-request-id", b"x-cache", b"age", b"connection"}
NOT_MODIFIED_HEADERS = {b"etag", b"cache-control", b"vary", b"surrogate-key", b"cache-tag", b"content-location"}
MAX_REQUEST_SECONDS = 60  # a response to an older request is not stored (purge versions live longer than this)
VERSION_SECONDS = 300  # how long a purged key's version is kept (in Redis)
MAX_VERSIONS = 10_000  # purged keys one process remembers before it forgets them all (and stores nothing older)


def request_key(fields: dict, accept: str) -> str | None:
    """The cache key of a GraphQL request's fields (GET parameters or a POST body), or None: not cacheable."""
    if not isinstance(fields, dict) or set(fields) - FIELDS:
        return None
    query, document_id = fields.get("query"), fields.get("documentId")
    extensions = fields.get("extensions") or {}
    variables = fields.get("variables") or {}
    name = fields.get("operationName") or ""
    if not isinstance(extensions, dict) or not isinstance(variables, dict) or not isinstance(name, str):
        return None
    extensions = dict(extensions)
    persisted = extensions.pop("persistedQuery", None)
    documents = set()
    if query is not None:
        if not isinstance(query, str) or UNCACHEABLE.search(query):
            return None
        documents.add(hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest())
    if persisted is not None:
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(digest, str):
            return None
        documents.add(digest.lower())
    if document_id is not None:
        if not isinstance(document_id, str) or not document_id.startswith("sha256:"):
            return None
        documents.add(document_id[7:].lower())
    if len(documents) != 1 or len(accept) > MAX_ACCEPT:
        return None  # no document, or a hash that is not its document's (the view refuses it)
    canonical = orjson.dumps([documents.pop(), name, variables, extensions, accept.strip().lower()],
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def get_fields(query_string: bytes) -> dict | None:
    """The GraphQL fields of a GET's query string (JSON ones decoded); None when malformed or repeated."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    fields: dict = {}
    for name, value in pairs:
        if name in fields:
            return None
        if name in ("variables", "extensions"):
            try:
                value = orjson.loads(value) if value else None
            except orjson.JSONDecodeError:
                return None
        fields[name] = value
    return fields


def directives(cache_control: str) -> dict[str, str]:
    out = {}
    for part in cache_control.lower().split(","):
        name, _, value = part.strip().partition("=")
        out[name] = value.strip('"')
    return out


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
        data = orjson.loads(meta)
        return cls([(k.encode("latin-1"), v.encode("latin-1")) for k, v in data["h"]], body, data["t"], tuple(data["k"]))


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
        found = self.entries.get(key)
        if found is not None:
            if found[1] > time.monotonic():
                self.entries.move_to_end(key)
                return found[0], self.epoch
            self.drop(key)
        return None, self.epoch

    async def put(self, key: str, entry: Entry, ttl: int, since: int) -> bool:
        if since < self.floor or any(self.versions.get(tag, 0) > since for tag in entry.tags):
            return False  # a purge of what this response shows happened while it was being made
        if entry.size > self.max_bytes:
            return False
        self.drop(key)
        self.entries[key] = (entry, time.monotonic() + ttl)
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

    async def aclose(self) -> None:
        """Nothing to release."""


stores: weakref.WeakSet[MemoryStore] = weakref.WeakSet()


def purge_here(tags) -> None:
    """Purge this process's in-memory stores (every process hears purges through service/events.py)."""
    for store in list(stores):
        store.purge(tags)


events.on_purge(purge_here)

# Store only when no key of the entry was purged since the request began; tag sets
# live as long as their longest entry. KEYS: entry, then each tag's version, then each tag's set.
_PUT = """
local n = tonumber(ARGV[4])
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[1 + i]) or '0') > tonumber(ARGV[1]) then return 0 end
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[3], 'EX', ttl)
for i = 1, n do
  local set = KEYS[1 + n + i]
  redis.call('SADD', set, KEYS[1])
  if redis.call('TTL', set) < ttl then redis.call('EXPIRE', set, ttl) end
end
return 1
"""
# KEYS: the epoch, then each tag's version, then each tag's set.
_PURGE = """
local n = tonumber(ARGV[1])
local epoch = redis.call('INCR', KEYS[1])
local removed = 0
for i = 1, n do
  redis.call('SET', KEYS[1 + i], epoch, 'EX', tonumber(ARGV[2]))
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[1 + n + i])) do
    removed = removed + redis.call('DEL', key)
  end
  redis.call('DEL', KEYS[1 + n + i])
end
return removed
"""


class RedisStore:
    """One cache for every process, in Redis (its memory bounded by Redis's own maxmemory policy).

    When Redis cannot be reached requests run uncached (logged now and then).
    """

    def __init__(self, url: str, prefix: str = "masthead:cache:") -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url)
        self.prefix = prefix
        self._put = self.redis.register_script(_PUT)
        self._purge = self.redis.register_script(_PURGE)
        self._warned = 0.0

    def _warn(self, error: Exception) -> None:
        if time.monotonic() - self._warned > 60:
            self._warned = time.monotonic()
            log.warning("response cache: Redis is unavailable (%s); serving uncached", error)

    async def get(self, key: str) -> tuple[Entry | None, int]:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                blob, epoch = await pipe.get(self.prefix + "e:" + key).get(self.prefix + "epoch").execute()
        except Exception as error:  # noqa: BLE001 - serve uncached
            self._warn(error)
            return None, -1
        return (Entry.loads(blob) if blob else None), int(epoch or 0)

    async def put(self, key: str, entry: Entry, ttl: int, since: int) -> bool:
        if since < 0:
            return False
        tags = list(entry.tags)
        keys = [self.prefix + "e:" + key, *(self.prefix + "v:" + t for t in tags), *(self.prefix + "t:" + t for t in tags)]
        try:
            return bool(await self._put(keys=keys, args=[since, ttl, entry.dumps(), len(tags)]))
        except Exception as error:  # noqa: BLE001
            self._warn(error)
            return False

    async def purge(self, tags) -> int:
        tags = sorted(set(tags))
        keys = [self.prefix + "epoch", *(self.prefix + "v:" + t for t in tags), *(self.prefix + "t:" + t for t in tags)]
        return int(await self._purge(keys=keys, args=[len(tags), VERSION_SECONDS]))

    async def aclose(self) -> None:
        await self.redis.aclose()


def store_for(settings) -> MemoryStore | RedisStore | None:
    """The store these settings ask for: Redis when configured, else in-process; None when turned off."""
    if settings.response_cache_bytes <= 0:
        return None
    return RedisStore(settings.redis_url) if settings.redis_url else MemoryStore(settings.response_cache_bytes)


def with_header(message: Message, *extra: tuple[bytes, bytes]) -> Message:
    return {**message, "headers": [*message.get("headers", []), *extra]}


class ResponseCache:
    """ASGI middleware answering cacheable GraphQL reads on `path` from `store`."""

    def __init__(self, app: ASGIApp, store, path: str = "/graphql") -> None:
        self.app, self.store, self.path = app, store, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = None
        if b"authorization" not in headers and b"cookie" not in headers:
            accept = headers.get(b"accept", b"").decode("latin-1")
            if scope["method"] == "GET":
                key = request_key(get_fields(scope.get("query_string", b"")), accept)
            elif scope["method"] == "POST" and self.small_json(headers):
                body, receive = await self.read_body(receive)
                try:
                    key = request_key(orjson.loads(body), accept)
                except orjson.JSONDecodeError:
                    key = None
        if key is None:
            await self.app(scope, receive, self.marking(send, b"BYPASS"))
            return
        entry, since = await self.store.get(key)
        if entry is not None:
            await self.answer(entry, headers.get(b"if-none-match"), send)
            return
        await self.fill(key, since, scope, receive, send)

    @staticmethod
    def small_json(headers: dict) -> bool:
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        length = headers.get(b"content-length", b"")
        return kind == b"application/json" and length.isdigit() and int(length) <= MAX_POST_BYTES

    @staticmethod
    async def read_body(receive: Receive) -> tuple[bytes, Receive]:
        """The whole body, and a receive that hands it on downstream."""
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return body, replay

    @staticmethod
    def marking(send: Send, value: bytes) -> Send:
        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = with_header(message, (b"x-cache", value))
            await send(message)

        return marked

    async def answer(self, entry: Entry, if_none_match: bytes | None, send: Send) -> None:
        age = (b"age", str(max(0, int(time.time() - entry.stored_at))).encode())
        etag = next((v for k, v in entry.headers if k == b"etag"), None)
        if if_none_match is not None and etag is not None and (
                if_none_match.strip() == b"*" or etag in [t.strip() for t in if_none_match.split(b",")]):
            kept = [(k, v) for k, v in entry.headers if k in NOT_MODIFIED_HEADERS]
            await send({"type": "http.response.start", "status": 304, "headers": [*kept, age, (b"x-cache", b"HIT")]})
            await send({"type": "http.response.body", "body": b""})
            return
        length = (b"content-length", str(len(entry.body)).encode())
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*entry.headers, length, age, (b"x-cache", b"HIT")]})
        await send({"type": "http.response.body", "body": entry.body})

    async def fill(self, key: str, since: int, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; store its answer when the view marked it public."""
        began = time.monotonic()
        kept: dict = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept.update(self.cacheable(message))
                message = with_header(message, (b"x-cache", b"MISS" if kept else b"BYPASS"))
            elif message["type"] == "http.response.body" and kept:
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if kept and time.monotonic() - began < MAX_REQUEST_SECONDS:
            entry = Entry(kept["headers"], b"".join(chunks), time.time(), kept["tags"])
            await self.store.put(key, entry, kept["ttl"], since)

    @staticmethod
    def cacheable(message: Message) -> dict:
        """What to store of a response that may be stored (public, status 200, a shared lifetime), else {}."""
        headers = message.get("headers", [])
        named = {k.lower(): v for k, v in headers}
        if message["status"] != 200 or b"set-cookie" in named or b"content-encoding" in named:
            return {}
        rules = directives(named.get(b"cache-control", b"").decode("latin-1"))
        lifetime = rules.get("s-maxage") or rules.get("max-age") or ""
        if "public" not in rules or "no-store" in rules or "private" in rules or not lifetime.isdigit() or not int(lifetime):
            return {}
        tags = tuple(named.get(b"surrogate-key", b"").decode("latin-1").split())
        stored = [(k.lower(), v) for k, v in headers if k.lower() not in DROPPED]
        return {"headers": stored, "tags": tags, "ttl": int(lifetime)}
