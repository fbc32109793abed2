"""The typed request context: settings, a fresh set of loaders, and the caller's token.

One Context serves one HTTP request or one operation on a WebSocket (never a
whole socket): its loaders cache and its token check last that long.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.types import Info as _Info

from schema.caching import Surrogate
from schema.loaders import Loaders
from service import auth, media, models
from service.models import Role
from service.settings import Settings

_UNSET = object()
T = TypeVar("T")


@dataclass
class Context:
    request: Any
    response: Any
    settings: Settings
    loaders: Loaders = field(default_factory=Loaders)
    budget: Any = None  # the view's per-client cost budget (service.limits.PointBuckets)
    # graphql-transport-ws: the connection_init payload, which may carry "Authorization".
    connection_params: dict | None = None
    # A WebSocket operation's deadline (asyncio.Timeout); HTTP requests have theirs around execution.
    deadline: Any = None
    preview_until: int | None = None  # set while resolving a preview: its images' URLs carry a grant
    prepaid: int = 0  # a WebSocket operation's point paid at its door (schema.sockets)
    _token: Any = field(default=_UNSET, repr=False)

    @property
    def surrogate(self) -> Surrogate:
        """What this request's answer is built from (surrogate keys, schema/caching.py); its loaders record it."""
        return self.loaders.surrogate

    def bearer(self) -> str | None:
        """The token secret the caller presents (header, or a socket's connection_init payload), or None."""
        header = self.request.headers.get("authorization", "") if self.request is not None else ""
        if not header and isinstance(self.connection_params, dict):
            value = self.connection_params.get("Authorization", self.connection_params.get("authorization"))
            header = value if isinstance(value, str) else ""
        scheme, _, raw = header.partition(" ")
        return raw.strip() if scheme.lower() == "bearer" else None

    def media_grant(self) -> int | None:
        """Until when /media/ URLs given in this request also open unpublished images, or None.

        For previews and for editors: <img> sends no token. The guard has looked up the
        token before execution (on_validate); a context it never saw gets no grant."""
        if self.preview_until is not None:
            return min(self.preview_until, media.grant_expiry())
        token = self._token
        if token is not _UNSET and token is not None and auth.allows(token.role, Role.EDITOR):
            return media.grant_expiry()
        return None

    async def token(self) -> models.ApiToken | None:
        """The caller's live API token from `Authorization: Bearer ...`, or None (anonymous)."""
        if self._token is _UNSET:
            raw = self.bearer()
            self._token = await auth.authenticate(raw) if raw is not None else None
        return self._token

    async def events(self, source: AsyncIterator[T]) -> AsyncIterator[T]:
        """A subscription's events: waiting for one is not work, resolving it gets a fresh deadline."""
        deadline = self.deadline
        loop = asyncio.get_running_loop()
        try:
            while True:
                if deadline is not None:
                    when = deadline.when()
                    if when is not None and when <= loop.time():
                        await asyncio.sleep(0)  # the setup (or the last event) overran: let the deadline stop it
                    deadline.reschedule(None)
                try:
                    item = await anext(source)
                except StopAsyncIteration:
                    return
                if deadline is not None:
                    deadline.reschedule(loop.time() + self.settings.execution_timeout)
                yield item
        finally:
            close = getattr(source, "aclose", None)
            if close is not None:
                await close()


Info = _Info[Context, None]
