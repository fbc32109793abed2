"""Settings: the one place that reads the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite://./data/masthead.sqlite3"


DEV_SECRET = "masthead-development-secret-change-me"
# MASTHEAD_ENV: every value but these two is production (stricter defaults, a real secret).
ENVIRONMENTS = ("development", "test", "staging", "production")
NON_PRODUCTION = ("development", "test")
MIN_SECRET_BYTES = 32
# Where the public site (a decoupled frontend) lives, when its settings name none: the
# example newsroom of `make frontend` serves here.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8001"
_NETLOC = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


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
    # An idle keep-alive connection stays open this long: past the 60 s for which proxies in
    # front (Varnish's backend_idle_timeout, load balancers) reuse theirs, so they never send
    # a request down a connection the service is closing (uvicorn's own default is 5 s).
    keep_alive_seconds: float = 65.0
    # Cost points a client may spend per minute (1 + objects/100 a request); 0: no limit.
    rate_points: int = 6000
    # Reading a new document (lexing, parsing, validating) costs this many points per ms of CPU.
    work_points_per_ms: float = 10.0
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For is believed
    cors_origins: tuple[str, ...] = ()
    introspection: bool | None = None  # None: on in development, off in production (editors keep it)
    graphiql: bool | None = None  # None: on in development, off in production
    trusted_documents: str = "off"  # "off", or "only": anonymous clients may send registered operations only
    apq_max_documents: int = 10_000  # documents clients may register (automatic persisted queries); 0: none
    rate_burst_seconds: float = 10.0  # a client may spend this many seconds of its budget at once
    rate_limit_delay: float = 1.0  # seconds a client over its budget waits for its 429 (at most its Retry-After)
    ws_token_recheck: float = 15.0  # seconds between checks of an open WebSocket's token (closed 4403 once revoked)
    # Anonymous successful queries (schema/caching.py): seconds browsers (max-age) and shared
    # caches (s-maxage) keep them, both capped at the next scheduled go-live or expiry.
    cache_max_age: int = 30
    cache_shared_max_age: int = 3600
    cache_stale_while_revalidate: int = 30
    cache_stale_if_error: int = 86400
    # The response cache for anonymous reads (service/response_cache.py): bytes in process (0: off);
    # in Redis instead when redis_url is set. Purges also go to each Varnish listed.
    response_cache_bytes: int = 64 * 1024 * 1024
    varnish_urls: tuple[str, ...] = ()
    # Attempts a Varnish purge gets (the first included) before its keys are dropped with a
    # logged error; the failed ones wait in the database between attempts (service/varnish.py).
    purge_attempts: int = 12
    # The public site's origin, for canonical URLs, when the site settings name none.
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    # URLs in one sitemap file (the protocol allows 50,000): a month with more is split in parts.
    sitemap_max_urls: int = 50_000

    @property
    def anonymous_body_bytes(self) -> int:
        """The largest body an anonymous request can need: its documents and variables, and some JSON."""
        return (self.max_document_bytes + self.max_variables_bytes) * max(1, self.batch_max) + 16_384

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ValueError(f"MASTHEAD_ENV must be one of {', '.join(ENVIRONMENTS)}; got {self.env!r}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from MASTHEAD_* variables; an unset or empty one keeps the default above."""
        env = os.environ if environ is None else environ
        values = {name: parse(env[variable]) for variable, name, parse in FROM_ENV if env.get(variable)}
        return cls(**values)

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


def origin(value: str) -> str:
    """An http(s) origin, normalised ("HTTPS://News.Example.com/" -> "https://news.example.com"),
    or ValueError: no path beyond "/", no query, fragment or credentials."""
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(f"{value!r} is not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL with a host")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError(f"{value!r} has a path, query or fragment: give the origin only, such as https://news.example.com")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{value!r} carries credentials")
    if not _NETLOC.fullmatch(parts.netloc) or len(parts.netloc) > 200:
        raise ValueError(f"{value!r} does not name a host (letters, digits, dots and hyphens, or [IPv6], and a port)")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = value.strip().lower()
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return value

    return parse


def _flag(value: str) -> bool | None:
    return _on(value) if value else None


def _on(value: str) -> bool:
    return value.lower() not in ("0", "false", "no", "off")


def _rate(value: str) -> tuple[int, int]:
    """Parse "count/seconds", such as "5/60"."""
    count, _, seconds = value.partition("/")
    return int(count), int(seconds or 60)


# Every variable Settings.from_env reads: (variable, field, parser). The defaults are
# the dataclass's alone; deployment files are checked against ENV_VARS.
FROM_ENV: tuple[tuple[str, str, Callable[[str], object]], ...] = (
    ("MASTHEAD_DATABASE_URL", "database_url", str),
    ("HOST", "host", str),
    ("PORT", "port", int),
    ("MASTHEAD_ENV", "env", _choice("MASTHEAD_ENV", ENVIRONMENTS)),
    ("MASTHEAD_SECRET_KEY", "secret_key", str),
    ("MASTHEAD_REDIS_URL", "redis_url", str),
    ("MASTHEAD_COMMENT_RATE_CLIENT", "comment_rate_client", _rate),
    ("MASTHEAD_COMMENT_RATE_ARTICLE", "comment_rate_article", _rate),
    ("MASTHEAD_COMMENT_MAX_LINKS", "comment_max_links", int),
    ("MASTHEAD_COMMENT_MIN_SECONDS", "comment_min_seconds", int),
    ("MASTHEAD_BACKGROUND_JOBS", "background_jobs", _on),
    ("MASTHEAD_WEBHOOK_ALLOW_PRIVATE", "webhook_allow_private", _list),
    ("MASTHEAD_WEBHOOK_IDLE_SECONDS", "webhook_idle_seconds", float),
    ("MASTHEAD_MEDIA_DIR", "media_dir", Path),
    ("MASTHEAD_MEDIA_RENDERS_PER_MINUTE", "media_renders_per_minute", int),
    ("MASTHEAD_MEDIA_MAX_AGE", "media_max_age", int),
    ("MASTHEAD_MAX_DEPTH", "max_depth", int),
    ("MASTHEAD_MAX_ALIASES", "max_aliases", int),
    ("MASTHEAD_MAX_TOKENS", "max_tokens", int),
    ("MASTHEAD_MAX_DIRECTIVES", "max_directives", int),
    ("MASTHEAD_MAX_NODES", "max_nodes", int),
    ("MASTHEAD_MAX_VARIABLES_BYTES", "max_variables_bytes", int),
    ("MASTHEAD_BATCH_MAX", "batch_max", lambda value: min(10, int(value))),
    ("MASTHEAD_EXECUTION_TIMEOUT", "execution_timeout", float),
    ("MASTHEAD_STATEMENT_TIMEOUT", "statement_timeout", float),
    ("MASTHEAD_KEEP_ALIVE_SECONDS", "keep_alive_seconds", float),
    ("MASTHEAD_RATE_POINTS", "rate_points", int),
    ("MASTHEAD_WORK_POINTS_PER_MS", "work_points_per_ms", float),
    ("MASTHEAD_MAX_DOCUMENT_BYTES", "max_document_bytes", int),
    ("MASTHEAD_MAX_DOCUMENT_BYTES_EDITOR", "max_document_bytes_editor", int),
    ("MASTHEAD_MAX_FIELDS", "max_fields", int),
    ("MASTHEAD_MAX_FIELD_PAIRS", "max_field_pairs", int),
    ("MASTHEAD_TRUSTED_PROXIES", "trusted_proxies", _list),
    ("MASTHEAD_CORS_ORIGINS", "cors_origins", _list),
    ("MASTHEAD_INTROSPECTION", "introspection", _flag),
    ("MASTHEAD_GRAPHIQL", "graphiql", _flag),
    ("MASTHEAD_TRUSTED_DOCUMENTS", "trusted_documents", _choice("MASTHEAD_TRUSTED_DOCUMENTS", ("off", "only"))),
    ("MASTHEAD_APQ_MAX_DOCUMENTS", "apq_max_documents", int),
    ("MASTHEAD_RATE_LIMIT_DELAY", "rate_limit_delay", float),
    ("MASTHEAD_RATE_BURST_SECONDS", "rate_burst_seconds", float),
    ("MASTHEAD_WS_TOKEN_RECHECK", "ws_token_recheck", float),
    ("MASTHEAD_CACHE_MAX_AGE", "cache_max_age", int),
    ("MASTHEAD_CACHE_SHARED_MAX_AGE", "cache_shared_max_age", int),
    ("MASTHEAD_CACHE_STALE_WHILE_REVALIDATE", "cache_stale_while_revalidate", int),
    ("MASTHEAD_CACHE_STALE_IF_ERROR", "cache_stale_if_error", int),
    ("MASTHEAD_RESPONSE_CACHE_BYTES", "response_cache_bytes", int),
    ("MASTHEAD_VARNISH_URLS", "varnish_urls", _list),
    ("MASTHEAD_PURGE_ATTEMPTS", "purge_attempts", int),
    ("MASTHEAD_PUBLIC_BASE_URL", "public_base_url", origin),
    ("MASTHEAD_SITEMAP_MAX_URLS", "sitemap_max_urls", lambda value: max(1, min(50_000, int(value)))),
)
ENV_VARS = tuple(variable for variable, _, _ in FROM_ENV)
