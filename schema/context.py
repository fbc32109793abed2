"""The typed request context: settings, a fresh set of loaders, and the caller's token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from schema.loaders import Loaders
from service import auth, models
from service.settings import Settings

_UNSET = object()


@dataclass
class Context:
    request: Any
    response: Any
    settings: Settings
    loaders: Loaders = field(default_factory=Loaders)
    budget: Any = None  # the view's per-client cost budget (service.limits.PointBuckets)
    _token: Any = field(default=_UNSET, repr=False)

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
