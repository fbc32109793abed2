"""HTTP caching of public reads, whatever serves them (GraphQL, feeds, sitemaps).

One policy for every anonymous answer that may be shared:

    Cache-Control: public, max-age=30, s-maxage=3600, stale-while-revalidate=30, stale-if-error=86400
    ETag: "<strong validator>"          (If-None-Match that matches: 304, no body)
    Surrogate-Key: articles p:40 site   (Varnish xkey, Fastly)
    Cache-Tag: articles,p:40,site       (Cloudflare)

max-age and s-maxage never reach past the next scheduled go-live or expiry of any
page (service.visibility.next_change), nor past a moment the caller knows its
answer changes; a change due now makes the answer private. The GraphQL view
(schema/caching.py) records its keys while resolvers run; feeds and sitemaps
(service/syndication.py) know theirs up front.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from service import visibility
from service.clock import now
from service.settings import Settings

PRIVATE = "private, no-store"


async def cache_control(settings: Settings, version: int | None = None, until: datetime | None = None) -> str | None:
    """The public Cache-Control for an answer read now at content `version`, or None: it must stay private.

    Both lifetimes stop at the next scheduled go-live or expiry, and at `until`
    (a moment the caller knows its answer changes by itself)."""
    max_age, shared_max_age = settings.cache_max_age, settings.cache_shared_max_age
    at = now()
    ends = [moment for moment in (await visibility.next_change(at, version), until) if moment is not None]
    if ends:
        seconds = int((min(ends) - at).total_seconds())
        if seconds <= 0:
            return None
        max_age, shared_max_age = min(max_age, seconds), min(shared_max_age, seconds)
    return (
        f"public, max-age={max_age}, s-maxage={shared_max_age}, "
        f"stale-while-revalidate={settings.cache_stale_while_revalidate}, stale-if-error={settings.cache_stale_if_error}"
    )


def etag(media_type: str, body: bytes) -> str:
    """A strong validator for a body: the same bytes in the same media type."""
    digest = hashlib.blake2b(media_type.encode(), digest_size=16)
    digest.update(body)
    return f'"{digest.hexdigest()}"'


def etag_of(*parts: object) -> str:
    """A strong validator for a body not built yet (a stream): a hash of everything that decides its bytes."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(str(part).encode() + b"\x00")
    return f'"{digest.hexdigest()}"'


def matches(if_none_match: str, tag: str) -> bool:
    """If-None-Match against our tag (RFC 9110 13.1.2: `*`, lists, weak comparison)."""
    value = if_none_match.strip()
    if value == "*":
        return True
    for candidate in value.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == tag:
            return True
    return False


def public_headers(control: str, tag: str, keys: Iterable[str], vary: str) -> dict[str, str]:
    """The headers of a shared answer: its Cache-Control, validator, Vary and surrogate keys (sorted)."""
    headers = {"Cache-Control": control, "ETag": tag, "Vary": vary}
    keys = sorted(set(keys))
    if keys:
        headers["Surrogate-Key"] = " ".join(keys)
        headers["Cache-Tag"] = ",".join(keys)
    return headers
