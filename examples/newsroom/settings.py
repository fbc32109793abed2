"""The example site's settings, from the environment (and nowhere else)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    api_url: str = "http://127.0.0.1:8000"  # where this server reaches the API
    public_api_url: str = ""  # where browsers reach it (images, the live-comments socket); api_url when empty
    page_size: int = 10  # articles per page of a section, tag, author or search list
    host: str = "127.0.0.1"
    port: int = 8001
    timeout: float = 5.0  # seconds to wait for the API before showing the 503 page

    @property
    def browser_api_url(self) -> str:
        return (self.public_api_url or self.api_url).rstrip("/")

    @property
    def websocket_url(self) -> str:
        base = self.browser_api_url
        return ("wss://" + base[8:] if base.startswith("https://") else "ws://" + base.removeprefix("http://")) + "/graphql"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        api_url = env.get("NEWSROOM_API_URL") or f"http://127.0.0.1:{env.get('PORT') or 8000}"
        return cls(
            api_url=api_url,
            public_api_url=env.get("NEWSROOM_PUBLIC_API_URL", ""),
            page_size=int(env.get("NEWSROOM_PAGE_SIZE") or 10),
            host=env.get("FRONTEND_HOST") or "127.0.0.1",
            port=int(env.get("FRONTEND_PORT") or 8001),
            timeout=float(env.get("NEWSROOM_API_TIMEOUT") or 5),
        )
