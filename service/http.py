"""HTTP without GraphQL: who is asking, what a request carries along, and ASGI middleware for request hygiene."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from http import HTTPStatus

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


UNREAD_BODY_BYTES = 16_384  # larger bodies of refused requests are not drained: the connection closes
BODY_POINT_BYTES = 16_384  # a request body pays a budget point for each this many bytes
STATE_KEY = "masthead"  # where a request's RequestState sits in its ASGI scope


def client_address(request, trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address: the peer, or through trusted proxies the last address they did not add."""
    peer = request.client.host if request.client else "unknown"
    if peer not in trusted_proxies:
        return peer
    lines = request.headers.getlist("x-forwarded-for") if hasattr(request.headers, "getlist") else [request.headers.get("x-forwarded-for", "")]
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
        state = cls(request_id=request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex[:16])
        scope = getattr(request, "scope", None)
        if scope is not None:
            scope[STATE_KEY] = state
        return state

    @staticmethod
    def of(request) -> RequestState | None:
        """The state the door made for this request; None for a WebSocket or a request it never saw."""
        scope = getattr(request, "scope", None)
        return scope.get(STATE_KEY) if scope is not None else None


def large_body(headers) -> bool:
    """Whether a request's declared body is too large to drain cheaply (or of unknown size)."""
    length = headers.get("content-length", "")
    return "chunked" in headers.get("transfer-encoding", "").lower() or (
        length.isdigit() and (len(length) > 9 or int(length) > UNREAD_BODY_BYTES))


class Door:
    """Ask `door(request)` before a request to `path` is received: a Response refuses it unread.

    It stands in front of BodyLimit, so a client over its budget costs a bucket
    lookup, not a 1 MiB body read into memory (uvicorn discards what is unread).
    """

    def __init__(self, app: ASGIApp, door, path: str = "/graphql") -> None:
        self.app, self.door, self.path = app, door, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path:
            from starlette.requests import Request

            request = Request(scope)
            refused = await self.door(request)
            if refused is not None:
                if large_body(request.headers):
                    # Draining it would cost what the refusal saves: close instead (the client reconnects).
                    refused.headers["Connection"] = "close"
                await refused(scope, receive, send)
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
