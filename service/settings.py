"""Settings: the one place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite://./data/masthead.sqlite3"


# Every variable Settings.from_env reads; deployment files are checked against it.
ENV_VARS = ("MASTHEAD_DATABASE_URL", "HOST", "PORT", "MASTHEAD_ENV")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    env: str = "development"
    max_page_size: int = 100
    debug_sql: bool = False
    static_dir: Path = field(default_factory=lambda: Path(__file__).parent / "static")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("MASTHEAD_DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("HOST") or "127.0.0.1",
            port=int(env.get("PORT") or 8000),
            env=env.get("MASTHEAD_ENV") or "development",
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def production(self) -> bool:
        return self.env == "production"
