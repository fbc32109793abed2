"""Settings: the one place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite://./data/masthead.sqlite3"


# Every variable Settings.from_env reads; deployment files are checked against it.
ENV_VARS = (
    "MASTHEAD_DATABASE_URL", "HOST", "PORT", "MASTHEAD_ENV", "MASTHEAD_SECRET_KEY", "MASTHEAD_REDIS_URL",
    "MASTHEAD_COMMENT_RATE_CLIENT", "MASTHEAD_COMMENT_RATE_ARTICLE", "MASTHEAD_COMMENT_MAX_LINKS",
    "MASTHEAD_COMMENT_MIN_SECONDS", "MASTHEAD_BACKGROUND_JOBS", "MASTHEAD_MEDIA_DIR",
)
DEV_SECRET = "masthead-development-secret-change-me"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    env: str = "development"
    max_page_size: int = 100
    max_body_bytes: int = 1_048_576
    debug_sql: bool = False
    static_dir: Path = field(default_factory=lambda: Path(__file__).parent / "static")
    # Signs form tokens and salts client IP hashes; set it in production.
    secret_key: str = DEV_SECRET
    redis_url: str | None = None
    # Comment defences: "count/seconds" per client (hashed IP) and per article.
    comment_rate_client: tuple[int, int] = (5, 60)
    comment_rate_article: tuple[int, int] = (60, 60)
    comment_max_links: int = 2
    comment_min_seconds: int = 3
    # Webhook deliveries and schedule transitions, run by every serving process
    # (off: run `masthead webhooks deliver` and `masthead publish-scheduled` instead).
    background_jobs: bool = True
    # Uploaded images and their renditions, served under /media/.
    media_dir: Path = Path("./data/media")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("MASTHEAD_DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("HOST") or "127.0.0.1",
            port=int(env.get("PORT") or 8000),
            env=env.get("MASTHEAD_ENV") or "development",
            secret_key=env.get("MASTHEAD_SECRET_KEY") or DEV_SECRET,
            redis_url=env.get("MASTHEAD_REDIS_URL") or None,
            comment_rate_client=_rate(env.get("MASTHEAD_COMMENT_RATE_CLIENT"), (5, 60)),
            comment_rate_article=_rate(env.get("MASTHEAD_COMMENT_RATE_ARTICLE"), (60, 60)),
            comment_max_links=int(env.get("MASTHEAD_COMMENT_MAX_LINKS") or 2),
            comment_min_seconds=int(env.get("MASTHEAD_COMMENT_MIN_SECONDS") or 3),
            background_jobs=(env.get("MASTHEAD_BACKGROUND_JOBS") or "1").lower() not in ("0", "false", "no", "off"),
            media_dir=Path(env.get("MASTHEAD_MEDIA_DIR") or "./data/media"),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def production(self) -> bool:
        return self.env == "production"


def _rate(value: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """Parse "count/seconds", such as "5/60"."""
    if not value:
        return default
    count, _, seconds = value.partition("/")
    return int(count), int(seconds or 60)
