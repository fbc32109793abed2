"""Comment storage and the approved-comment counts kept on each article."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from service import db, models
from service.models import CommentStatus
from service.pages import now


async def refresh_counts(article_ids: Sequence[int]) -> None:
    """Recount approved comments (all, and top-level) on the given articles."""
    for article_id in article_ids:
        await db.execute(
            "UPDATE page SET "
            "comment_count = (SELECT COUNT(*) FROM comment WHERE article_id = $1 AND status = $2), "
            "thread_count = (SELECT COUNT(*) FROM comment WHERE article_id = $1 AND status = $2 AND parent_id IS NULL) "
            "WHERE id = $1",
            article_id,
            CommentStatus.APPROVED.value,
        )


async def store_comment(
    *,
    article: models.Page,
    author_name: str,
    author_email: str,
    body: str,
    parent: models.Comment | None = None,
    status: CommentStatus = CommentStatus.PENDING,
    created_at: datetime | None = None,
) -> models.Comment:
    """Store a comment as given (no moderation rules) and keep the counts right."""
    comment = await models.Comment.create(
        article_id=article.id,
        parent_id=parent.id if parent else None,
        author_name=author_name,
        author_email=author_email,
        body=body,
        status=status,
        created_at=created_at or now(),
    )
    if status == CommentStatus.APPROVED:
        await refresh_counts([article.id])
    return comment
