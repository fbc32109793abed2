"""The typed request context: settings, a fresh set of loaders, and the caller's token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from schema.loaders import Loaders
from service import auth, media, models
from service.models import Role
from service.settings import Settings

_UNSET = object()


@dataclass
class Context:
    request: Any
    response: Any
    settings: Settings
    loaders: Loaders = field(default_factory=Loaders)
    budget: Any = None  # the view's per-client cost budget (service.limits.PointBuckets)
    preview_until: int | None = None  # set while resolving a preview: its images' URLs carry a grant
    _token: Any = field(default=_UNSET, repr=False)

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
            header = ""
            if self.request is not None:
                header = self.request.headers.get("authorization", "")
            scheme, _, raw = header.partition(" ")
            self._token = await auth.authenticate(raw.strip()) if scheme.lower() == "bearer" else None
        return self._token


Info = _Info[Context, None]
