"""What feeds and sitemaps share: the publication they describe, XML text and dates, cached answers.

Feeds (service/feeds.py) and sitemaps (service/sitemaps.py) are served beside
/graphql from the same rows and the same visibility rules as the API, with whole
URLs on the public site (Site.baseUrl: the site settings' `base_url`, else
MASTHEAD_PUBLIC_BASE_URL). Their answers are cached like anonymous GraphQL reads
(service/http_cache.py): public, capped at the next scheduled change, an ETag
with 304s, and surrogate keys the existing purges send (service/purges.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from service import content, db, http_cache, site, visibility
from service.settings import Settings

log = logging.getLogger("masthead.syndication")
VARY = "Accept-Encoding"  # the same document whatever the client accepts
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
# Paths the response cache may keep (service/response_cache.py): every GET below them is a document.
PATHS = ("/feeds/", "/sitemap.xml", "/sitemaps/")
# Characters XML 1.0 cannot carry at all, escaped or not (control characters, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Publication:
    """The site a document describes: its name, language, and where its public pages live."""

    name: str
    tagline: str
    locale: str
    base_url: str
    tag_path_prefix: str

    def url(self, path: str) -> str:
        """A public page's whole URL (its canonical URL) from its path."""
        return self.base_url + path

    def tag_uri(self, page_id: int, first_published: datetime | None) -> str:
        """A page's id that survives moves and renames (RFC 4151 tag URI): RSS guid, Atom id."""
        host = urlsplit(self.base_url).hostname or "localhost"
        day = utc(first_published).date().isoformat() if first_published else "2000-01-01"
        return f"tag:{host},{day}:page-{page_id}"


async def publication(settings: Settings) -> Publication:
    """The site settings as documents need them."""
    row = await content.site_settings()
    return Publication(
        name=row.name,
        tagline=row.tagline,
        locale=row.locale or "en",
        base_url=site.base_url(row, settings.public_base_url),
        tag_path_prefix=row.tag_path_prefix or "/tags/",
    )


async def content_version() -> int | None:
    """The content version now (service/migrations/0004): every change to what readers see bumps it."""
    rows = await db.read(content.CURRENT_VERSION)
    return rows[0]["value"] if rows else None


def text(value: str | None) -> str:
    """Text as XML 1.0 can carry it: characters it cannot hold at all are dropped (escaping is the writer's)."""
    if not value:
        return ""
    if value.isascii() and value.isprintable():  # the usual case, and every character of it is allowed
        return value
    return _NOT_XML.sub("", value)


def utc(value: datetime | str) -> datetime:
    """An aware UTC datetime from a stored one (SQLite gives text; a naive one is UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def w3c(value: datetime | str) -> str:
    """A W3C datetime (sitemaps, Atom, Google News): 2026-11-03T09:30:00+00:00."""
    return utc(value).replace(microsecond=0).isoformat()


def rfc822(value: datetime | str) -> str:
    """An RFC 822 date as RSS 2.0 wants it: Tue, 03 Nov 2026 09:30:00 GMT."""
    return format_datetime(utc(value).replace(microsecond=0), usegmt=True)


def not_found() -> Response:
    return PlainTextResponse("Not found.\n", status_code=404, headers={"Cache-Control": http_cache.PRIVATE})


def unavailable() -> Response:
    return PlainTextResponse("Temporarily unavailable; try again shortly.\n", status_code=503,
                             headers={"Retry-After": "1", "Cache-Control": http_cache.PRIVATE})


def endpoint(answer: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A document endpoint: the database away is a 503 saying when to retry, not a 500."""

    async def serve(request: Request) -> Response:
        try:
            return await answer(request)
        except Exception as error:
            if not db.database_unavailable(error):
                raise
            log.warning("database unavailable: %s", error)
            return unavailable()

    return serve


async def document(request: Request, settings: Settings, body: bytes, media_type: str, keys: Iterable[str],
                   version: int | None, until: datetime | None = None) -> Response:
    """A document built in memory, with public caching headers (or a 304)."""
    control = await http_cache.cache_control(settings, version, until)
    if control is None:
        return Response(body, media_type=media_type, headers={"Cache-Control": http_cache.PRIVATE})
    headers = http_cache.public_headers(control, http_cache.etag(media_type, body), keys, VARY)
    return _conditional(request, headers) or Response(
        b"" if request.method == "HEAD" else body, media_type=media_type, headers=headers)


async def stream(request: Request, settings: Settings, chunks: Callable[[], AsyncIterator[bytes]], media_type: str,
                 keys: Iterable[str], version: int | None, *validator: object) -> Response:
    """A document written while its rows are read; its ETag hashes what decides its bytes: the
    `validator` parts, the content version and the next scheduled change (what is visible)."""
    control = await http_cache.cache_control(settings, version)
    if control is None:
        headers = {"Cache-Control": http_cache.PRIVATE}
    else:
        change = await visibility.next_change(None, version)
        tag = http_cache.etag_of(media_type, version, change, settings.public_base_url, *validator)
        headers = http_cache.public_headers(control, tag, keys, VARY)
        not_modified = _conditional(request, headers)
        if not_modified is not None:
            return not_modified
    if request.method == "HEAD":
        return Response(b"", media_type=media_type, headers=headers)
    return StreamingResponse(chunks(), media_type=media_type, headers=headers)


def _conditional(request: Request, headers: dict[str, str]) -> Response | None:
    if request.method in ("GET", "HEAD") and http_cache.matches(request.headers.get("if-none-match", ""), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return None
