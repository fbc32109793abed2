"""The response cache for /graphql (and feeds and sitemaps): anonymous reads answered before they run.

An ASGI middleware (inside the Door, which still charges each request its point)
keys a request by what decides its answer, the same for GET and POST: the
document (its sha256: sent as text, as an automatic persisted query's hash or as a
`documentId`), the canonical JSON of its variables, its operation name, other
extensions, and the media type asked for (Accept). The Door (service/http.py)
answers /graphql GET hits itself through `Hits`: the point and the entry in one step (one
Redis round trip when both live there), and no layer inside it runs. A hit sends
the stored body and headers (ETag, Cache-Control, Vary, Surrogate-Key ...) plus
`Age` and the request's own X-Request-Id, or a 304 when `If-None-Match` names its
ETag: no parsing, no validation, no SQL.

Only what the view marks `Cache-Control: public` with status 200 is stored, for its
`s-maxage`, tagged with its `Surrogate-Key`s; requests with credentials
(Authorization, Cookie) pass untouched. `X-Cache` says HIT, MISS (stored now) or
BYPASS (not cacheable). Feeds and sitemaps (the `documents` paths) are plain GETs:
keyed by their path alone, kept the same way when at most MAX_DOCUMENT_BYTES, and
answered here (the Door charges only /graphql).

Races: a request notes the purge epoch when it starts; a purge bumps the epoch and
records it on each purged key, and a response is not stored when any of its keys
was purged since its request started (its data may predate the change). A purge
that arrives later deletes it. In-process stores (bounded in bytes, least recently
used first) hear purges from every process through service/events.py; the Redis
store is one cache for every process, purged once by the process that changed.
"""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.cache_stores import Entry, MemoryStore, RedisStore, store_for
from service.http import STATE_KEY

__all__ = ["Entry", "Hits", "MemoryStore", "RedisStore", "ResponseCache", "answer", "request_key", "store_for"]
MAX_POST_BYTES = 16_384  # larger JSON bodies pass uncached (anonymous documents are smaller)
MAX_ACCEPT = 256
FIELDS = {"query", "variables", "operationName", "extensions", "documentId"}
UNCACHEABLE = re.compile(r"\b(mutation|subscription)\b|previewToken")
DROPPED = {b"content-length", b"date", b"server", b"x-request-id", b"x-cache", b"age", b"connection"}
NOT_MODIFIED_HEADERS = {b"etag", b"cache-control", b"vary", b"surrogate-key", b"cache-tag", b"content-location"}
MAX_REQUEST_SECONDS = 60  # a response to an older request is not stored (purge versions live longer than this)
MAX_DOCUMENT_BYTES = 1_048_576  # a feed or sitemap larger than this is not kept (a month of 50,000 URLs is ~6 MB)


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
    if len(documents) != 1 or (query is not None and persisted is not None) or len(accept) > MAX_ACCEPT:
        return None  # no document, a hash that is not its document's, or a registration (the view must see it)
    # A hash alone is another request than the document with it: only the view knows whether it is registered.
    sent = "text" if query is not None else "hash"
    canonical = orjson.dumps([sent, documents.pop(), name, variables, extensions, accept.strip().lower()],
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


_GET_KEYS: dict[tuple[bytes, bytes], str | None] = {}
GET_KEYS_KEPT = 4096


def get_key(query_string: bytes, accept: bytes) -> str | None:
    """request_key of a GET, remembered by its raw query string: a hit then costs a dict lookup,
    not a parse of the query string, its JSON and a hash (a third of a hit's time)."""
    memo = (query_string, accept)
    try:
        return _GET_KEYS[memo]
    except KeyError:
        pass
    key = request_key(get_fields(query_string), accept.decode("latin-1"))
    if len(_GET_KEYS) >= GET_KEYS_KEPT:
        _GET_KEYS.clear()
    if len(query_string) <= 4096:
        _GET_KEYS[memo] = key
    return key


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


def matches(if_none_match: bytes, etag: bytes) -> bool:
    """If-None-Match's weak comparison: `*`, or any listed tag equal to ours with W/ ignored."""
    if if_none_match.strip() == b"*":
        return True
    return etag.removeprefix(b"W/") in [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]


def with_header(message: Message, *extra: tuple[bytes, bytes]) -> Message:
    return {**message, "headers": [*message.get("headers", []), *extra]}


HIT = (b"x-cache", b"HIT")


async def answer(entry: Entry, if_none_match: bytes | None, request_id: str | None, send: Send) -> None:
    """Send a stored response (or a 304 when If-None-Match names its ETag), with Age, X-Cache: HIT
    and this request's id."""
    extra = [(b"age", b"%d" % max(0, int(time.time() - entry.stored_at))), HIT]
    if request_id:
        extra.append((b"x-request-id", request_id.encode("latin-1")))
    if if_none_match is not None:
        etag = next((v for k, v in entry.headers if k == b"etag"), None)
        if etag is not None and matches(if_none_match, etag):
            kept = [(k, v) for k, v in entry.headers if k in NOT_MODIFIED_HEADERS]
            await send({"type": "http.response.start", "status": 304, "headers": kept + extra})
            await send({"type": "http.response.body", "body": b""})
            return
    extra.append((b"content-length", b"%d" % len(entry.body)))
    await send({"type": "http.response.start", "status": 200, "headers": entry.headers + extra})
    await send({"type": "http.response.body", "body": entry.body})


class Hits:
    """The response cache as service.http.Door uses it: a GET's key (None when it may not be answered
    from the cache), its entry fetched with the door fee taken in the same step, and the answer."""

    answer = staticmethod(answer)

    def __init__(self, store) -> None:
        self.store = store

    @staticmethod
    def key(scope: Scope, headers: dict[bytes, bytes]) -> str | None:
        if scope["method"] != "GET" or b"authorization" in headers or b"cookie" in headers:
            return None
        if b"transfer-encoding" in headers or headers.get(b"content-length", b"0") != b"0":
            return None  # a GET with a body: BodyLimit sees it, and the cache behind it may answer
        return get_key(scope.get("query_string", b""), headers.get(b"accept", b""))

    async def take(self, budget, client: str, points: int, key: str) -> tuple[int, Entry | None]:
        return await self.store.take_and_get(budget, client, points, key)


class ResponseCache:
    """ASGI middleware answering cacheable GraphQL reads on `path` from `store`, and plain GETs of
    the documents below `documents` (feeds, sitemaps: keyed by their path, query string ignored)."""

    def __init__(self, app: ASGIApp, store, path: str = "/graphql", documents: tuple[str, ...] = ()) -> None:
        self.app, self.store, self.path, self.documents = app, store, path, documents

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] != self.path:
            if self.documents and scope["path"].startswith(self.documents):
                await self.document(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = None
        if b"authorization" not in headers and b"cookie" not in headers:
            if scope["method"] == "GET":
                key = get_key(scope.get("query_string", b""), headers.get(b"accept", b""))
            elif scope["method"] == "POST" and self.small_json(headers):
                body, receive = await self.read_body(receive)
                try:
                    key = request_key(orjson.loads(body), headers.get(b"accept", b"").decode("latin-1"))
                except orjson.JSONDecodeError:
                    key = None
        if key is None:
            await self.app(scope, receive, self.marking(send, b"BYPASS"))
            return
        entry, since = await self.store.get(key)
        if entry is not None:
            state = scope.get(STATE_KEY)  # made by the Door, when one stands outside
            await answer(entry, headers.get(b"if-none-match"), state.request_id if state else None, send)
            return
        await self.fill(key, since, scope, receive, send)

    async def document(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A GET of a document: the same bytes for everyone, whatever its query string or Accept."""
        headers = dict(scope["headers"])
        if scope["method"] != "GET" or b"authorization" in headers or b"cookie" in headers:
            await self.app(scope, receive, self.marking(send, b"BYPASS"))
            return
        key = hashlib.sha256(b"document\x00" + scope["path"].encode("utf-8", "surrogateescape")).hexdigest()
        entry, since = await self.store.get(key)
        if entry is not None:
            await answer(entry, headers.get(b"if-none-match"), None, send)  # documents carry no request id
            return
        await self.fill(key, since, scope, receive, send, MAX_DOCUMENT_BYTES)

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

    async def fill(self, key: str, since: int, scope: Scope, receive: Receive, send: Send,
                   max_bytes: int | None = None) -> None:
        """Run the request; store its answer when the view marked it public (and it is at most `max_bytes`)."""
        began = time.monotonic()
        kept: dict = {}
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                kept.update(self.cacheable(message))
                message = with_header(message, (b"x-cache", b"MISS" if kept else b"BYPASS"))
            elif message["type"] == "http.response.body" and kept:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if max_bytes is not None and size > max_bytes:
                    kept.clear()  # a large streamed document passes through unkept (Varnish may keep it)
                    chunks.clear()
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
