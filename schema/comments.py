"""Comments as readers see them: approved only, never the author's email."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry

from schema.context import Info
from schema.loaders import load_now
from schema.node import Connection, Node
from service import models


_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def comment_html(text: str) -> str:
    """Plain text to display HTML: nothing the reader typed can run."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out = []
    for paragraph in paragraphs:
        pieces, last = [], 0
        for match in _URL.finditer(paragraph):
            url = match.group(0).rstrip(".,;:!?)")
            end = match.start() + len(url)
            pieces.append(html.escape(paragraph[last : match.start()]))
            safe = html.escape(url, quote=True)
            pieces.append(f'<a href="{safe}" rel="nofollow ugc noopener" target="_blank">{safe}</a>')
            last = end
        pieces.append(html.escape(paragraph[last:]))
        out.append("<p>" + "".join(pieces).replace("\n", "<br>") + "</p>")
    return "".join(out)


@strawberry.type(description="An approved reader comment. Authors' emails are never exposed.")
class Comment(Node):
    author_name: str = strawberry.field(description="Name the reader gave.")
    body: str = strawberry.field(description="The comment as plain text; render it as text, not HTML.")
    created_at: datetime = strawberry.field(description="When the comment was posted.")

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, models.Comment)

    @strawberry.field(
        description="The body as safe HTML: text escaped, blank lines as paragraphs, http(s) links made clickable."
    )
    def body_html(self) -> str:
        return comment_html(self.body)

    @strawberry.field(description="Approved direct replies, oldest first.")
    def replies(self, info: Info) -> list[Comment]:
        return load_now(info.context.loaders.replies_by_comment_id, self.id)

    @strawberry.field(description="The comment this one replies to, if any (null for a top-level comment).")
    def parent(self, info: Info) -> Comment | None:
        if self.parent_id is None:
            return None
        return load_now(info.context.loaders.comment_by_id, self.parent_id)


@strawberry.type(description="A page of top-level comments, oldest first.")
class CommentConnection(Connection[Comment]):
    count: strawberry.Private[Callable[[], Awaitable[int]] | int]

    @strawberry.field(description="Approved top-level comments (threads) of the article, across every page of this "
                      "connection; replies are not counted. Equal to `ArticlePage.commentThreadCount`; "
                      "`ArticlePage.commentCount` counts replies too.")
    def total_count(self) -> int:
        return self.count if isinstance(self.count, int) else self.count()
