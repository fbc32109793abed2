"""Batched editorial reads: revisions, their pages and history, redirect targets.

Each function answers a whole batch (a DataLoader's keys) with one statement, so a
list of N revisions or redirects costs the same as one. Pages here are read in any
state (drafts included): these reads serve editors, not readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from service import db, models, paging
from service.errors import ErrorCode, UserError


async def revisions_by_ids(ids: Sequence[int]) -> dict[int, models.PageRevision]:
    """Revisions by id."""
    return {row.id: row for row in await models.PageRevision.filter(id__in=list(ids))}


async def pages_by_ids(ids: Sequence[int]) -> dict[int, models.Page]:
    """Pages by id, live or not (a revision's page, a redirect's target)."""
    return {row.id: row for row in await models.Page.filter(id__in=list(ids))}


def _content(value) -> dict:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


async def previous_contents(revision_ids: Sequence[int]) -> dict[int, dict]:
    """The content of the revision saved before each one on its page; {} for a page's first."""
    if not revision_ids:
        return {}
    placeholders = ", ".join(f"${i + 1}" for i in range(len(revision_ids)))
    rows = await db.fetch(
        f"""
        SELECT r.id AS id, p.content AS content FROM page_revision r
        LEFT JOIN page_revision p ON p.page_id = r.page_id AND p.number = (
            SELECT MAX(x.number) FROM page_revision x WHERE x.page_id = r.page_id AND x.number < r.number
        )
        WHERE r.id IN ({placeholders})
        """,
        *revision_ids,
    )
    return {row["id"]: _content(row["content"]) if row["content"] is not None else {} for row in rows}


@dataclass
class RevisionPage:
    """A page of a page's revisions, newest first, with what each is compared with."""

    items: list[models.PageRevision]
    cursors: list[str]
    has_next: bool
    total: int
    previous: dict[int, dict]  # revision id -> content of the revision before it (known ones only)


async def page_revisions(page_id: int, first: int, after: str | None) -> RevisionPage:
    """Revisions of a page, newest first, after a cursor; UserError for a bad cursor."""
    number = paging.number_cursor(after, "r") if after is not None else None
    query = models.PageRevision.filter(page_id=page_id)
    total = await query.count()
    if number is not None:
        query = query.filter(number__lt=number)
    # One more than the page holds tells hasNextPage, one more again is the last one's
    # predecessor: every revision's `changes` come without further reads.
    rows = await query.order_by("-number").limit(first + 2)
    previous = {}
    for newer, older in zip(rows, rows[1:] + [None]):
        if older is not None or len(rows) < first + 2:
            previous[newer.id] = older.content if older is not None else {}
    items = rows[:first]
    return RevisionPage(
        items=items,
        cursors=[paging.encode_cursor("r", r.number) for r in items],
        has_next=len(rows) > first,
        total=total,
        previous=previous,
    )


async def redirect_targets(page_ids: Sequence[int]) -> dict[int, str]:
    """The current URL path of each page redirects point at, live or not."""
    return dict(await models.Page.filter(id__in=list(page_ids)).values_list("id", "url_path"))


async def revision_of_page(page_id: int, revision_id: int) -> models.PageRevision | None:
    """One revision, only when it belongs to the page."""
    return await models.PageRevision.get_or_none(id=revision_id, page_id=page_id)


async def require_revision_of_page(page_id: int, revision_id: int, field: str) -> models.PageRevision:
    """The revision, or a NOT_FOUND UserError when it is not one of the page's."""
    revision = await revision_of_page(page_id, revision_id)
    if revision is None:
        raise UserError("That revision does not belong to this page.", ErrorCode.NOT_FOUND, field=field)
    return revision
