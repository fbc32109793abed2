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
    "MASTHEAD_MAX_DEPTH", "MASTHEAD_MAX_ALIASES", "MASTHEAD_MAX_TOKENS", "MASTHEAD_MAX_DIRECTIVES", "MASTHEAD_MAX_NODES",
    "MASTHEAD_MAX_VARIABLES_BYTES", "MASTHEAD_BATCH_MAX", "MASTHEAD_EXECUTION_TIMEOUT", "MASTHEAD_STATEMENT_TIMEOUT",
    "MASTHEAD_RATE_POINTS", "MASTHEAD_TRUSTED_PROXIES", "MASTHEAD_CORS_ORIGINS", "MASTHEAD_INTROSPECTION",
    "MASTHEAD_GRAPHIQL", "MASTHEAD_TRUSTED_DOCUMENTS", "MASTHEAD_MAX_DOCUMENT_BYTES", "MASTHEAD_MAX_DOCUMENT_BYTES_EDITOR",
    "MASTHEAD_MAX_FIELDS", "MASTHEAD_MAX_FIELD_PAIRS", "MASTHEAD_WORK_POINTS_PER_MS", "MASTHEAD_WS_TOKEN_RECHECK", "MASTHEAD_RATE_LIMIT_DELAY", "MASTHEAD_RATE_BURST_SECONDS",
    "MASTHEAD_MEDIA_RENDERS_PER_MINUTE", "MASTHEAD_MEDIA_MAX_AGE",
    "MASTHEAD_WEBHOOK_ALLOW_PRIVATE", "MASTHEAD_WEBHOOK_IDLE_SECONDS",
)
DEV_SECRET = "masthead-development-secret-change-me"
# MASTHEAD_ENV: every value but these two is production (stricter defaults, a real secret).
ENVIRONMENTS = ("development", "test", "staging", "production")
NON_PRODUCTION = ("development", "test")
MIN_SECRET_BYTES = 32


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
    # Webhook targets may be private addresses only when listed here (hosts, addresses, CIDRs).
    webhook_allow_private: tuple[str, ...] = ()
    # The longest the delivery loop sleeps when nothing wakes it (queuing a delivery does).
    webhook_idle_seconds: float = 30.0
    # Uploaded images and their renditions, served under /media/.
    media_dir: Path = Path("./data/media")
    # New renditions one client may have made per minute (stored ones are free); 0: no limit.
    media_renders_per_minute: int = 60
    # How long browsers and CDNs may keep a public image (seconds): the service stops
    # serving an unpublished image at once, caches after this.
    media_max_age: int = 600
    # What one document may ask (schema/guard.py), checked before execution.
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 1000  # the contract's largest operation has 188, the introspection query 163
    max_directives: int = 5
    max_nodes: int = 50_000
    # Refused before lexing: a document's size in bytes (anonymous callers; editors' own limit).
    max_document_bytes: int = 16_384
    max_document_bytes_editor: int = 131_072
    # Refused before validation: field selections with fragments expanded, and pairs of
    # same-named fields at one place (graphql-core's overlap check compares each pair).
    max_fields: int = 1_000
    max_field_pairs: int = 200
    max_variables_bytes: int = 65_536
    batch_max: int = 0  # array batching: off, or up to 10 operations per request
    execution_timeout: float = 10.0  # seconds per request
    statement_timeout: float = 5.0  # seconds per SQL statement (PostgreSQL; SQLite reads)
    # Cost points a client may spend per minute (1 + objects/100 a request); 0: no limit.
    rate_points: int = 6000
    # Reading a new document (lexing, parsing, validating) costs this many points per ms of CPU.
    work_points_per_ms: float = 10.0
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For is believed
    cors_origins: tuple[str, ...] = ()
    introspection: bool | None = None  # None: on in development, off in production (editors keep it)
    graphiql: bool | None = None  # None: on in development, off in production
    trusted_documents: str = "off"  # "off", or "only": anonymous clients may send registered operations only
    rate_burst_seconds: float = 10.0  # a client may spend this many seconds of its budget at once
    rate_limit_delay: float = 1.0  # seconds a client over its budget waits for its 429 (at most its Retry-After)
    ws_token_recheck: float = 15.0  # seconds between checks of an open WebSocket's token (closed 4403 once revoked)

    @property
    def anonymous_body_bytes(self) -> int:
        """The largest body an anonymous request can need: its documents and variables, and some JSON."""
        return (self.max_document_bytes + self.max_variables_bytes) * max(1, self.batch_max) + 16_384

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ValueError(f"MASTHEAD_ENV must be one of {', '.join(ENVIRONMENTS)}; got {self.env!r}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("MASTHEAD_DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("HOST") or "127.0.0.1",
            port=int(env.get("PORT") or 8000),
            env=_choice(env.get("MASTHEAD_ENV"), "MASTHEAD_ENV", ENVIRONMENTS),
            secret_key=env.get("MASTHEAD_SECRET_KEY") or DEV_SECRET,
            redis_url=env.get("MASTHEAD_REDIS_URL") or None,
            comment_rate_client=_rate(env.get("MASTHEAD_COMMENT_RATE_CLIENT"), (5, 60)),
            comment_rate_article=_rate(env.get("MASTHEAD_COMMENT_RATE_ARTICLE"), (60, 60)),
            comment_max_links=int(env.get("MASTHEAD_COMMENT_MAX_LINKS") or 2),
            comment_min_seconds=int(env.get("MASTHEAD_COMMENT_MIN_SECONDS") or 3),
            background_jobs=(env.get("MASTHEAD_BACKGROUND_JOBS") or "1").lower() not in ("0", "false", "no", "off"),
            webhook_allow_private=_list(env.get("MASTHEAD_WEBHOOK_ALLOW_PRIVATE")),
            webhook_idle_seconds=float(env.get("MASTHEAD_WEBHOOK_IDLE_SECONDS") or 30),
            media_dir=Path(env.get("MASTHEAD_MEDIA_DIR") or "./data/media"),
            media_renders_per_minute=int(env.get("MASTHEAD_MEDIA_RENDERS_PER_MINUTE") or 60),
            media_max_age=int(env.get("MASTHEAD_MEDIA_MAX_AGE") or 600),
            max_depth=int(env.get("MASTHEAD_MAX_DEPTH") or 12),
            max_aliases=int(env.get("MASTHEAD_MAX_ALIASES") or 30),
            max_tokens=int(env.get("MASTHEAD_MAX_TOKENS") or 1000),
            max_directives=int(env.get("MASTHEAD_MAX_DIRECTIVES") or 5),
            max_nodes=int(env.get("MASTHEAD_MAX_NODES") or 50_000),
            max_variables_bytes=int(env.get("MASTHEAD_MAX_VARIABLES_BYTES") or 65_536),
            batch_max=min(10, int(env.get("MASTHEAD_BATCH_MAX") or 0)),
            execution_timeout=float(env.get("MASTHEAD_EXECUTION_TIMEOUT") or 10),
            statement_timeout=float(env.get("MASTHEAD_STATEMENT_TIMEOUT") or 5),
            rate_points=int(env.get("MASTHEAD_RATE_POINTS") or 6000),
            work_points_per_ms=float(env.get("MASTHEAD_WORK_POINTS_PER_MS") or 10),
            max_document_bytes=int(env.get("MASTHEAD_MAX_DOCUMENT_BYTES") or 16_384),
            max_document_bytes_editor=int(env.get("MASTHEAD_MAX_DOCUMENT_BYTES_EDITOR") or 131_072),
            max_fields=int(env.get("MASTHEAD_MAX_FIELDS") or 1_000),
            max_field_pairs=int(env.get("MASTHEAD_MAX_FIELD_PAIRS") or 200),
            trusted_proxies=_list(env.get("MASTHEAD_TRUSTED_PROXIES")),
            cors_origins=_list(env.get("MASTHEAD_CORS_ORIGINS")),
            introspection=_flag(env.get("MASTHEAD_INTROSPECTION")),
            graphiql=_flag(env.get("MASTHEAD_GRAPHIQL")),
            trusted_documents=_choice(env.get("MASTHEAD_TRUSTED_DOCUMENTS"), "MASTHEAD_TRUSTED_DOCUMENTS", ("off", "only")),
            rate_limit_delay=float(env.get("MASTHEAD_RATE_LIMIT_DELAY") or 1),
            rate_burst_seconds=float(env.get("MASTHEAD_RATE_BURST_SECONDS") or 10),
            ws_token_recheck=float(env.get("MASTHEAD_WS_TOKEN_RECHECK") or 15),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def production(self) -> bool:
        return self.env not in NON_PRODUCTION

    def secret_problem(self) -> str | None:
        """Why the secret cannot serve in this environment, if it cannot."""
        if not self.production:
            return None
        if self.secret_key == DEV_SECRET:
            return f"MASTHEAD_SECRET_KEY must be set when MASTHEAD_ENV is {self.env} (a long random value)."
        if len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            return f"MASTHEAD_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes when MASTHEAD_ENV is {self.env}."
        return None

    @property
    def preview_secret(self) -> str | None:
        """The key that signs preview tokens; None (previews refused) for the development
        secret outside development: anyone who read this code could forge a token with it."""
        if self.secret_key == DEV_SECRET and self.env != "development":
            return None
        return self.secret_key

    @property
    def introspection_open(self) -> bool:
        return self.introspection if self.introspection is not None else not self.production

    @property
    def graphiql_open(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.production


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _choice(value: str | None, name: str, choices: tuple[str, ...]) -> str:
    value = (value or choices[0]).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.lower() not in ("0", "false", "no", "off")


def _rate(value: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """Parse "count/seconds", such as "5/60"."""
    if not value:
        return default
    count, _, seconds = value.partition("/")
    return int(count), int(seconds or 60)
