"""Batched editorial reads: revisions, their pages and history, redirect targets.

Each function answers a whole batch (a DataLoader's keys) with one statement, so a
list of N revisions or redirects costs the same as one. Pages here are read in any
state (drafts included): these reads serve editors, not readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from service import content, db, models, visibility


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
    number = content.number_cursor(after, "r") if after is not None else None
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
        cursors=[content.encode_cursor("r", r.number) for r in items],
        has_next=len(rows) > first,
        total=total,
        previous=previous,
    )


async def redirect_targets(page_ids: Sequence[int]) -> dict[int, str]:
    """The current URL path of each page redirects point at, live or not."""
    return dict(await models.Page.filter(id__in=list(page_ids)).values_list("id", "url_path"))


async def related_articles(articles: Sequence[models.Page], limit: int) -> dict[int, tuple[list[models.Page], list[models.Page]]]:
    """content.related_articles for many articles at once: two statements, however many.

    The same ranking (editor's picks in order, then most shared tags, then same section,
    newest first), each article's list cut by a window function instead of a LIMIT.
    Returns, per article id, the related articles and their parent pages.
    """
    if not articles or limit <= 0:
        return {article.id: ([], []) for article in articles}
    params: list = []
    values = []
    for article in articles:
        params += [article.id, article.parent_id]
        values.append(f"(CAST(${len(params) - 1} AS INTEGER), CAST(${len(params)} AS INTEGER))")
    params += [limit, True, visibility.now()]
    cut, live, at = (f"${len(params) - 2}", f"${len(params) - 1}", f"${len(params)}")
    tagged = visibility.visible("t2", live, at, "live")
    rows = await db.read(
        f"""
        WITH a(id, parent_id) AS (VALUES {", ".join(values)}),
        u AS (
            SELECT a.id AS src, r.related_id AS id, {content.MANUAL_RANK} - r.position AS score, 0 AS same, NULL AS at
                FROM a JOIN article_relation r ON r.article_id = a.id
            UNION ALL
            SELECT a.id, t2.article_id, COUNT(*), MAX(CASE WHEN t2.section_id = a.parent_id THEN 1 ELSE 0 END), MAX(t2.published_at)
                FROM a JOIN article_tag t1 ON t1.article_id = a.id JOIN article_tag t2 ON t2.tag_id = t1.tag_id AND {tagged}
                GROUP BY a.id, a.parent_id, t2.article_id
            UNION ALL
            SELECT a.id, recent.id, 0, 1, recent.published_at FROM a JOIN (
                SELECT p.id, p.parent_id, p.published_at,
                       ROW_NUMBER() OVER (PARTITION BY p.parent_id ORDER BY p.published_at DESC, p.id DESC) AS n
                FROM page p WHERE p.parent_id IN (SELECT parent_id FROM a) AND p.kind = 'article' AND {visibility.visible("p", live, at)}
            ) recent ON recent.parent_id = a.parent_id AND recent.n <= {cut} + 1
        ),
        top AS (SELECT src, id, MAX(score) AS score, MAX(same) AS same, MAX(at) AS at FROM u WHERE id <> src GROUP BY src, id),
        ranked AS (
            SELECT top.*, ROW_NUMBER() OVER (PARTITION BY top.src ORDER BY score DESC, same DESC, at DESC, id DESC) AS n,
                   (SELECT COUNT(*) FROM article_relation r WHERE r.article_id = top.src) AS picks
            FROM top
        )
        SELECT ranked.src AS src, p.id AS id, p.parent_id AS parent_id FROM ranked JOIN page p ON p.id = ranked.id
        WHERE ranked.n <= {cut} + ranked.picks AND p.kind = 'article' AND {visibility.visible("p", live, at)}
        ORDER BY ranked.src, ranked.score DESC, ranked.same DESC, ranked.at DESC, ranked.id DESC
        """,
        *params,
    )
    chosen: dict[int, list[tuple[int, int]]] = {article.id: [] for article in articles}
    for row in rows:
        if len(chosen[row["src"]]) < limit:
            chosen[row["src"]].append((row["id"], row["parent_id"]))
    wanted = sorted({pk for pairs in chosen.values() for pair in pairs for pk in pair})
    found = await content.pages_by_ids(wanted) if wanted else {}
    return {
        src: ([found[pk] for pk, _ in pairs if pk in found], [found[parent] for _, parent in pairs if parent in found])
        for src, pairs in chosen.items()
    }
