"""ASGI middleware for request hygiene."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


UNREAD_BODY_BYTES = 16_384  # larger bodies of refused requests are not drained: the connection closes


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
                                (b"connection", b"close")]})
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
