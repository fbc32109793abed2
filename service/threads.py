"""Comment threads as readers see them: approved comments and their approved replies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from service import content, db, models
from service.paging import keyset_cursor, read_keyset_cursor
from service.models import CommentStatus


@dataclass
class CommentSlice:
    """One page of a comment thread: top-level comments, their cursors, what follows, and their replies."""

    items: list[models.Comment]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    replies: dict[int, list[models.Comment]]


async def comment_thread(article_id: int, first: int, after: str | None) -> CommentSlice:
    """A page of approved top-level comments, oldest first, with their approved replies.

    After ANALYZE, with statistics saying almost no comment has a parent, SQLite
    scanned every comment for replies (or built a Bloom filter over them, 20 ms):
    replies come from a partial index of replies only (migration 0008), and the
    page's own rows by primary key from its ids.
    """
    params: list = [article_id, CommentStatus.APPROVED.value]
    keyset = ""
    if after is not None:
        moment, row_id = read_keyset_cursor(after, "c")
        params.extend([moment, row_id])
        keyset = "AND (t.created_at > $3 OR (t.created_at = $3 AND t.id > $4))"
    params.append(first + 1)
    rows = await db.read(
        f"""
        WITH top AS (
            SELECT t.id FROM comment t
            WHERE t.article_id = $1 AND t.status = $2 AND t.parent_id IS NULL {keyset}
            ORDER BY t.created_at, t.id LIMIT ${len(params)}
        )
        SELECT {content.COMMENT_COLUMNS} FROM top CROSS JOIN comment c WHERE c.id = top.id
        UNION ALL
        SELECT {content.COMMENT_COLUMNS} FROM comment c WHERE c.parent_id IN (SELECT id FROM top) AND c.status = $2
        ORDER BY created_at, id
        """,
        *params,
    )
    top: list[models.Comment] = []
    replies: dict[int, list[models.Comment]] = defaultdict(list)
    for comment in content.comments_from_rows(rows):
        if comment.parent_id is None:
            top.append(comment)
        else:
            replies[comment.parent_id].append(comment)
    items = top[:first]
    page_replies = {c.id: replies.get(c.id, []) for c in items}
    cursors = [keyset_cursor("c", c.created_at, c.id) for c in items]
    return CommentSlice(items, cursors, len(top) > first, after is not None, page_replies)


async def replies_by_comment_ids(ids: Sequence[int]) -> dict[int, list[models.Comment]]:
    placeholders = ", ".join(f"${i + 2}" for i in range(len(ids)))
    rows = await db.read(
        f"SELECT {content.COMMENT_COLUMNS} FROM comment c WHERE c.status = $1 AND c.parent_id IN ({placeholders}) "
        f"ORDER BY c.created_at, c.id",
        CommentStatus.APPROVED.value,
        *ids,
    )
    grouped: dict[int, list[models.Comment]] = defaultdict(list)
    for comment in content.comments_from_rows(rows):
        grouped[comment.parent_id].append(comment)
    return grouped


async def comments_by_ids(ids: Sequence[int]) -> dict[int, models.Comment]:
    """Approved comments on live articles, by id."""
    placeholders = ", ".join(f"${i + 2}" for i in range(len(ids)))
    rows = await content.fetch(
        f"SELECT {content.COMMENT_COLUMNS} FROM comment c JOIN page p ON p.id = c.article_id "
        f"WHERE c.status = $1 AND p.live = $live AND c.id IN ({placeholders})",
        CommentStatus.APPROVED.value,
        *ids,
    )
    return {comment.id: comment for comment in content.comments_from_rows(rows)}
