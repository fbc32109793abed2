"""Page webhooks that never publish what readers cannot see.

A payload names a page's URL path and title only while readers may see the page
(or, for `page.unpublished` and `page.deleted`, only when they could just before).
An event about a hidden page carries its global id and kind alone, with
`"public": false`. Pages that become visible because of a change elsewhere (their
section published, its embargo lifted or passed, a move out of a hidden section)
get their own `page.published` when it happens, naming the cause.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from service import ids, models, visibility, webhooks
from service.clock import now


def event(page: models.Page, *, public: bool, revision: models.PageRevision | None = None) -> dict:
    """A webhook payload's `data`: the page's global id (as the API gives it), and where it is when public."""
    data: dict = {"id": ids.global_id(page), "kind": page.kind.value, "public": public}
    if public:
        data |= {"urlPath": page.url_path, "title": page.title}
    if revision is not None:
        data["revision"] = {"id": ids.global_id(revision), "number": revision.number}
    return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def public_from(page: models.Page) -> str | None:
    """When a hidden page will appear by itself (an embargo), or null (it waits for an editor)."""
    start, end = page.public_from, page.public_until
    if not page.tree_live or start is None or start <= now() or (end is not None and end <= start):
        return None
    return _iso(start)


async def newly_public(path: str, before: set[int], extra: dict, skip: Iterable[int] = ()) -> set[int]:
    """Send page.published for each page at or below `path` readers see now but did not in `before`."""
    after = await visibility.public_ids(path)
    fresh = after - before - set(skip)
    if fresh:
        for page in await models.Page.filter(id__in=fresh).order_by("depth", "id"):
            await webhooks.enqueue("page.published", event(page, public=True) | extra)
    return after
