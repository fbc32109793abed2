"""HTTP without GraphQL: who is asking, what a request carries along, and ASGI middleware for request hygiene."""

from __future__ import annotations

import ipaddress
import itertools
import os
from dataclasses import dataclass
from http import HTTPStatus

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


UNREAD_BODY_BYTES = 16_384  # larger bodies of refused requests are not drained: the connection closes
BODY_POINT_BYTES = 16_384  # a request body pays a budget point for each this many bytes
STATE_KEY = "masthead"  # where a request's RequestState sits in its ASGI scope


def client_address(request, trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address: the peer, or through trusted proxies the last address they did not add."""
    return scope_address(request.scope, trusted_proxies)


def scope_address(scope: Scope, trusted_proxies: tuple[str, ...]) -> str:
    """client_address from an ASGI scope (header names are lower case there)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if peer not in trusted_proxies:
        return peer
    lines = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
    forwarded = [part.strip() for part in ",".join(lines).split(",") if part.strip()]
    for address in reversed(forwarded):
        if address not in trusted_proxies:
            return address[:64]
    return peer


def budget_key(address: str) -> str:
    """Whom a budget belongs to: an IPv6 client by its /64 (one customer's whole block)."""
    if ":" in address:
        try:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        except ValueError:
            return address
    return address


def _draw_id_prefix() -> None:
    global _id_prefix, _id_counter
    _id_prefix, _id_counter = os.urandom(5).hex(), itertools.count(1)


_draw_id_prefix()
os.register_at_fork(after_in_child=_draw_id_prefix)  # a forked worker is another process: another prefix


def new_request_id() -> str:
    """A request id unique across processes: this process's random prefix and its count of requests
    (16 hex digits for the first 16 million; no system call, unlike uuid4)."""
    return f"{_id_prefix}{next(_id_counter):06x}"


@dataclass(slots=True)
class RequestState:
    """What one HTTP request carries from its door to its answer (the view, the guard, error logging).

    Made once, by the GraphQL view's door, and kept in the ASGI scope. `status` is
    the HTTP status the answer gets when execution decided it (a timeout, the
    database away); None leaves the view's own.
    """

    request_id: str
    client: str = ""  # the budget key of the caller's address (budget_key)
    prepaid: int = 0  # points paid at the door, not yet set against the operation's cost
    retry_after: int | None = None  # seconds, when the caller's budget refused it (a 429)
    status: HTTPStatus | None = None
    unavailable: bool = False  # the database could not be reached (a 503 that says when to retry)
    not_executed: bool = False  # refused before execution (syntax, validation, limits): a 400 in graphql-response+json
    batch: bool = False  # several operations: each carries its own errors, the batch answers 200
    allow: str | None = None  # the Allow header of a 405

    @classmethod
    def begin(cls, request) -> RequestState:
        """A fresh state for this request, its id taken from X-Request-Id or made up."""
        state = cls(request_id=request.headers.get("x-request-id", "")[:64] or new_request_id())
        scope = getattr(request, "scope", None)
        if scope is not None:
            scope[STATE_KEY] = state
        return state

    @classmethod
    def arriving(cls, scope: Scope, headers: dict[bytes, bytes], trusted_proxies: tuple[str, ...]) -> RequestState:
        """begin() from the ASGI scope and its headers (as a dict), with the client's budget key."""
        given = headers.get(b"x-request-id")
        state = cls(request_id=given.decode("latin-1")[:64] if given else new_request_id(),
                    client=budget_key(scope_address(scope, trusted_proxies)))
        scope[STATE_KEY] = state
        return state

    @staticmethod
    def of(request) -> RequestState | None:
        """The state the door made for this request; None for a WebSocket or a request it never saw."""
        scope = getattr(request, "scope", None)
        return scope.get(STATE_KEY) if scope is not None else None


def large_body(headers: dict[bytes, bytes]) -> bool:
    """Whether a request's declared body is too large to drain cheaply (or of unknown size)."""
    length = headers.get(b"content-length", b"")
    return b"chunked" in headers.get(b"transfer-encoding", b"").lower() or (
        length.isdigit() and (len(length) > 9 or int(length) > UNREAD_BODY_BYTES))


def door_fee(headers: dict[bytes, bytes]) -> int:
    """What a request pays at the door: a point, and one for each 16 KiB of body it declares
    (receiving and decoding a body is work too; BodyLimit caps it)."""
    length = headers.get(b"content-length", b"")
    size = int(length) if length.isdigit() and len(length) < 12 else 0
    return 1 + size // BODY_POINT_BYTES


class Door:
    """Charge each request to `path` its door fee before anything receives it; refuse it unread when over budget.

    It stands in front of BodyLimit, so a client over its budget costs a bucket
    lookup, not a 1 MiB body read into memory (uvicorn discards what is unread).
    The fee is keyed by address, whatever the Authorization header says:
    authenticating is a database lookup, and a flood of made-up tokens must cost
    no more than any other flood. `refuse(request, state)` answers a request over
    budget (the GraphQL view's 429).

    With `hits` (service.response_cache.Hits) a GET the response cache can answer
    is charged and looked up in one step (one Redis round trip when the budget and
    the cache both live there) and answered here: a hit pays its point, then
    skips every layer inside the Door.
    """

    def __init__(self, app: ASGIApp, budget, refuse, trusted_proxies: tuple[str, ...] = (), hits=None,
                 path: str = "/graphql") -> None:
        self.app, self.budget, self.refuse, self.path = app, budget, refuse, path
        self.trusted_proxies, self.hits = trusted_proxies, hits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        state = RequestState.arriving(scope, headers, self.trusted_proxies)
        key = self.hits.key(scope, headers) if self.hits is not None else None
        if key is None:
            wait, entry = await self.budget.take(state.client, door_fee(headers)), None
        else:
            wait, entry = await self.hits.take(self.budget, state.client, door_fee(headers), key)
        if wait:
            state.retry_after = wait
            refused = await self.refuse(Request(scope), state)
            if large_body(headers):
                # Draining it would cost what the refusal saves: close instead (the client reconnects).
                refused.headers["Connection"] = "close"
            await refused(scope, receive, send)
            return
        state.prepaid = 1
        if entry is not None:
            await self.hits.answer(entry, headers.get(b"if-none-match"), state.request_id, send)
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over a size with 413, before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int | None = None,
                 anonymous_bytes: int | None = None) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.upload_bytes = upload_bytes or max_bytes
        # Without an Authorization header nothing larger than the document and variables limits
        # can run: refuse it from its Content-Length instead of receiving it.
        self.anonymous_bytes = min(anonymous_bytes or max_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        # File uploads (GraphQL multipart requests, which need a token) may be larger than queries.
        upload = headers.get(b"content-type", b"").startswith(b"multipart/form-data") and b"authorization" in headers
        limit = self.upload_bytes if upload else self.max_bytes if b"authorization" in headers else self.anonymous_bytes
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        payload = orjson.dumps({"errors": [{"message": f"Request body is larger than {limit} bytes.",
                                            "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]})
        # The rest of the body is never read: the connection closes after this answer.
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close"), (b"cache-control", b"private, no-store")]})
        await send({"type": "http.response.body", "body": payload})


class SecurityHeaders:
    """Headers every response carries; pages that set their own CSP (GraphiQL) keep it."""

    def __init__(self, app: ASGIApp, production: bool = False) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"same-site"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if production:  # served behind TLS in production
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.headers.append((b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))
        self.names = frozenset(name for name, _ in self.headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                # ASGI header names are lower case (Starlette's responses, the response cache's entries).
                present = self.names.intersection([name for name, _ in headers])
                extra = [(k, v) for k, v in self.headers if k not in present] if present else self.headers
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
