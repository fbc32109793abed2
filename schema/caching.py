"""HTTP caching of /graphql answers: what a response was built from, and the headers that say so.

Anonymous, successful queries (GET and POST) may be kept by browsers and shared
caches:

    Cache-Control: public, max-age=30, s-maxage=3600, stale-while-revalidate=30, stale-if-error=86400
    ETag: "<hash of the media type and body>"     (If-None-Match that matches: 304, no body)
    Vary: Accept, Accept-Encoding
    Surrogate-Key: p:40 p:3 c:40 tag:7            (Varnish xkey, Fastly)
    Cache-Tag: p:40,p:3,c:40,tag:7                (Cloudflare)

max-age and s-maxage never reach past the next scheduled go-live or expiry of
any page; a change due now makes the answer private (the policy, GraphQL aside,
is service/http_cache.py, which feeds and sitemaps share). Everything else (a
token, a preview, a mutation, an error, a batch, a refusal) is `private,
no-store`. GraphiQL's page keeps its own headers.

Keys are recorded while resolvers and loaders run (a `Surrogate` per request,
held by its loaders): `p:<id>` for each page shown, list keys (`articles`,
`articles:s:<section id>`, `tag:<id>`, `author:<id>`, `search`), `c:<article id>`
for a comment thread, `sections`, `site`, `menu:<name>` for a named menu; `pages` for a lookup that found no
page (a publish purges it). Beyond MAX_KEYS the page keys collapse into `pages`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graphql import OperationType
from starlette.responses import Response

from service import http_cache
from service.settings import Settings

MAX_KEYS = 64
PRIVATE = http_cache.PRIVATE
VARY = "Accept, Accept-Encoding"
SCOPE_KEY = "masthead.surrogate"  # where a request's Surrogate sits in its ASGI scope


class Surrogate:
    """What one response was built from: surrogate keys, the newest content version read, whether it may be shared."""

    __slots__ = ("keys", "version", "shared", "operation", "pending")

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.version: int | None = None
        self.shared = True  # False once something private (a preview) went into the answer
        self.operation: OperationType | None = None  # set by the executor: only queries are cacheable
        self.pending: list[Callable[[], Iterable[str]]] = []  # keys known once every resolver ran

    def add(self, *keys: str) -> None:
        self.keys.update(keys)

    def page(self, page: Any) -> None:
        """A page shown (None: asked for and not found, which a publish may change)."""
        if page is None:
            self.keys.add("pages")
            return
        self.keys.add(f"p:{page.id}")
        version = getattr(page, "content_version", None)
        if version is not None and (self.version is None or version > self.version):
            self.version = version

    def pages(self, pages: Iterable[Any]) -> None:
        for page in pages:
            self.page(page)

    def later(self, keys: Callable[[], Iterable[str]]) -> None:
        """Keys to work out after execution, from what the loaders hold by then (no SQL of their own)."""
        self.pending.append(keys)

    def private(self) -> None:
        self.shared = False

    def header_keys(self) -> list[str]:
        """The keys to send, sorted; page keys give way to `pages` beyond MAX_KEYS."""
        for pending in self.pending:
            self.keys.update(pending())
        self.pending.clear()
        keys = self.keys
        if len(keys) > MAX_KEYS:
            keys = {key for key in keys if not key.startswith("p:")} | {"pages"}
        return sorted(keys)


def held(loader: Any, key: Any) -> Any:
    """What a DataLoader already holds for `key` (None when it holds nothing, or not yet)."""
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception() is not None:
        return None
    return future.result()


def may_share(context: Any) -> bool:
    """Whether the answer being built could be cached (worth reading what only its keys need)."""
    request = getattr(context, "request", None)
    scope = getattr(request, "scope", None) or {}
    return scope.get("type") == "http" and "authorization" not in request.headers and context.surrogate.shared


def attach(request: Any, surrogate: Surrogate) -> None:
    scope = getattr(request, "scope", None)
    if scope is not None:
        scope[SCOPE_KEY] = surrogate


def of(request: Any) -> Surrogate | None:
    scope = getattr(request, "scope", None)
    return scope.get(SCOPE_KEY) if scope is not None else None


def private(response: Response) -> Response:
    """Mark an answer as for this caller only (GraphiQL's HTML page keeps its own headers)."""
    if not response.headers.get("content-type", "").startswith("text/html"):
        response.headers["Cache-Control"] = PRIVATE
    return response


def cacheable(request: Any, response: Response, state: Any) -> Surrogate | None:
    """The request's Surrogate when its answer may be shared: anonymous, a successful query, alone."""
    surrogate = of(request)
    if (
        surrogate is None
        or not surrogate.shared
        or surrogate.operation is not OperationType.QUERY
        or request.method not in ("GET", "POST")
        or "authorization" in request.headers
        or response.status_code != 200
        or state.batch
        or state.retry_after is not None
        or state.status is not None
        or not response.headers.get("content-type", "").startswith(("application/json", "application/graphql-response+json"))
    ):
        return None
    return surrogate


def etag(response: Response) -> str:
    """A strong validator: the same bytes in the same media type."""
    return http_cache.etag(response.headers.get("content-type", ""), response.body)


async def offer(request: Any, response: Response, state: Any, settings: Settings) -> Response:
    """Give a cacheable answer its public headers (or a 304); anything else stays private."""
    surrogate = cacheable(request, response, state)
    if surrogate is None:
        return private(response)
    control = await http_cache.cache_control(settings, surrogate.version)
    if control is None:
        return private(response)
    headers = http_cache.public_headers(control, etag(response), surrogate.header_keys(), VARY)
    # Conditional GETs only: a POST always runs (RFC 9110 would have it answer 412 instead of 304).
    if request.method == "GET" and http_cache.matches(request.headers.get("if-none-match", ""), headers["ETag"]):
        not_modified = Response(status_code=304, headers=headers)
        request_id = response.headers.get("X-Request-Id")
        if request_id is not None:
            not_modified.headers["X-Request-Id"] = request_id
        return not_modified
    response.headers.update(headers)
    return response
