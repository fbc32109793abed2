"""Purges: which surrogate keys a change invalidates, and sending them everywhere after it commits.

The keys are those the GraphQL view tags responses with (README, "Caching"). A
change to pages purges each page whose content or visibility changed (`p:<id>`),
the lists they may appear in (`articles`, `articles:s:<section>` of every section
above them, before and after a move, `tr:<translation key>` (its translations' lists), `tag:<id>`, `author:<id>`, `search`), `pages`
(responses that showed too many pages to list them), `sitemap` (the sitemaps,
service/sitemaps.py) and `sections` when a section changed. A comment purges its
article's thread (`c:<id>`, `p:<id>`, `pages`); site settings purge `site`;
redirects `redirects`; a named menu `menu:<name>` (service/menus.py: its page items
are keyed `p:<id>`, so a change to one of those pages reaches it through page_keys).

`purge(keys)` runs after the change's transaction committed: this process's
response cache and every other process's (service/events.py), the shared Redis
cache when configured, a `cache.purge` webhook event for the endpoints that take it
(service/webhooks.py: a CDN we cannot reach), and each Varnish in
MASTHEAD_VARNISH_URLS (`PURGE /` with `xkey-purge`, in the background: a slow or
missing Varnish never slows an editor; what it does not take is queued in the
database and retried, service/varnish.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from service import db, events, models, varnish, webhooks

log = logging.getLogger("masthead.purges")
PAGE_LISTS = ("pages", "articles", "search", "sitemap")
SITE_WIDE = (*PAGE_LISTS, "sections", "site", "redirects")  # after a bulk load (seeding)

_varnish_urls: tuple[str, ...] = ()
_attempts = 12  # MASTHEAD_PURGE_ATTEMPTS
_shared = None  # the Redis response cache, when configured
_background = False
_pending: set[asyncio.Task] = set()


def configure(settings, *, background: bool = False) -> None:
    """Where purges go for these settings; `background`: Varnish requests do not hold up the caller (serving)."""
    global _varnish_urls, _attempts, _shared, _background
    from service.cache_stores import RedisStore

    _varnish_urls, _attempts = tuple(settings.varnish_urls), settings.purge_attempts
    _shared = RedisStore(settings.redis_url) if settings.redis_url and settings.response_cache_bytes > 0 else None
    _background = background


async def close() -> None:
    """Wait for Varnish requests in flight, and release the Redis client."""
    global _shared
    if _pending:
        await asyncio.gather(*_pending, return_exceptions=True)
    if _shared is not None:
        await _shared.aclose()
        _shared = None


async def page_keys(page_ids: Iterable[int]) -> set[str]:
    """The keys a change to these pages purges (call before and after a move: both places); one statement."""
    ids = sorted(set(page_ids))
    keys = set(PAGE_LISTS)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
        rows = await db.fetch(
            f"SELECT 'p' AS what, id, path, kind, translation_key FROM page WHERE id IN ({marks}) "
            f"UNION ALL SELECT 'tag', tag_id, NULL, NULL, NULL FROM article_tag WHERE article_id IN ({marks}) "
            f"UNION ALL SELECT 'author', author_id, NULL, NULL, NULL FROM article_author WHERE article_id IN ({marks})",
            *chunk)
        for row in rows:
            if row["what"] != "p":
                keys.add(f"{row['what']}:{row['id']}")
                continue
            keys.add(f"p:{row['id']}")
            keys.add(f"tr:{row['translation_key']}")  # the pages listing it among their `translations`
            keys.update(f"articles:s:{part}" for part in row["path"].strip("/").split("/") if part)
            if row["kind"] == models.PageKind.SECTION.value:
                keys.add("sections")
    return keys


def comment_keys(article_id: int) -> set[str]:
    """An article's comment thread changed (approved or removed): its thread and its count."""
    return {f"c:{article_id}", f"p:{article_id}", "pages"}


async def purge(keys: Iterable[str]) -> None:
    """Send the keys everywhere; call after the change committed."""
    keys = sorted(set(keys))
    if not keys:
        return
    await events.purge(keys)
    if _shared is not None:
        try:
            await _shared.purge(keys)
        except Exception as error:  # noqa: BLE001 - entries still expire with their s-maxage
            log.warning("could not purge the shared response cache: %s", error)
    await webhooks.announce_purge(keys)
    if _varnish_urls:
        if _background:
            task = asyncio.get_running_loop().create_task(varnish.purge(keys, _varnish_urls, _attempts))
            _pending.add(task)
            task.add_done_callback(_pending.discard)
        else:
            await varnish.purge(keys, _varnish_urls, _attempts)


async def pages_changed(page_ids: Iterable[int], earlier: Iterable[str] = (), *, redirects: bool = False) -> None:
    """Purge what a committed change to these pages invalidates, with `earlier` keys (their old places)."""
    keys = await page_keys(page_ids) | set(earlier)
    if redirects:
        keys.add("redirects")  # a moved public page left redirects behind
    await purge(keys)
