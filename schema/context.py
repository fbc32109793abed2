"""The typed request context: settings and a fresh set of loaders per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from schema.loaders import Loaders
from service.settings import Settings


@dataclass
class Context:
    request: Any
    response: Any
    settings: Settings
    loaders: Loaders = field(default_factory=Loaders)


Info = _Info[Context, None]
