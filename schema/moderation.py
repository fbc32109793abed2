"""Posting comments, moderating them, and the live comment subscription."""

from __future__ import annotations


from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from graphql import GraphQLError

from schema import ids
from schema.comments import Comment
from schema.context import Info
from schema.errors import BadInput, check_first
from schema.node import Connection
from schema.payloads import UserError, mutation
from schema.permissions import IsModerator
from service import comments, content, events, paging, threads
from service import errors as service_errors
from service.http import budget_key, client_address
from service.models import CommentStatus as Status


@strawberry.enum(description="Where a comment stands in moderation.")
class CommentStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="Awaiting a moderator's decision; shown to its author only.")
    APPROVED = strawberry.enum_value("approved", description="Public.")
    SPAM = strawberry.enum_value("spam", description="Kept as spam; never shown.")
    REMOVED = strawberry.enum_value("removed", description="Rejected or removed by a moderator; never shown.")


@strawberry.enum(description="A moderator's decision on a comment.")
class ModerationAction(Enum):
    APPROVE = strawberry.enum_value("approve", description="Publish the comment.")
    REJECT = strawberry.enum_value("reject", description="Refuse a pending comment (it becomes REMOVED).")
    SPAM = strawberry.enum_value("spam", description="Mark it as spam.")
    REMOVE = strawberry.enum_value("remove", description="Take a comment down, published or not.")


@strawberry.input(description="A reader's comment, or a reply with parentId.")
class AddCommentInput:
    article_id: strawberry.ID = strawberry.field(description="Global id of the article.")
    author_name: str = strawberry.field(description="Name shown with the comment, 1 to 80 characters.")
    author_email: str = strawberry.field(description="Email for the moderators only; never shown.")
    body: str = strawberry.field(description="The comment as plain text, 1 to 5,000 characters.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the approved comment this replies to.")
    author_url: str | None = strawberry.field(default=None, description="The author's website (http or https).")
    honeypot: str | None = strawberry.field(
        default=None, description="Bind to a form field hidden from people; browsers leave it empty, bots fill it."
    )
    form_token: str | None = strawberry.field(
        default=None,
        description="Required: the `commentFormToken` fetched when the form was shown. Without it the post is refused "
        "with REQUIRED; a forged one, or one sent sooner than the minimum time to submit, is kept as spam silently.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A unique key for this post (a UUID): retrying with it after a timeout returns the comment "
        "the first attempt stored instead of posting twice.",
    )
    commenter_token: str | None = strawberry.field(
        default=None,
        description="The `commenterToken` an earlier addComment returned for this email (keep it, e.g. in local "
        "storage). When the site auto-approves known commenters and a moderator approved the comment it was "
        "issued with, this comment is approved at once. The email alone never is.",
    )


@strawberry.type(description="The result of addComment.")
class AddCommentPayload:
    status: CommentStatus | None = strawberry.field(
        default=None, description="APPROVED (public now) or PENDING (awaiting moderation); null on errors."
    )
    comment: Comment | None = strawberry.field(default=None, description="The stored comment, shown to its author even while pending.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")
    commenter_token: str | None = strawberry.field(
        default=None,
        description="A secret for this commenter and email: store it and send it as AddCommentInput.commenterToken "
        "with later comments (replace the stored one with each answer). Null on errors.",
    )


@strawberry.type(description="A comment as moderators see it, email included.")
class ModerationComment:
    author_name: str = strawberry.field(description="Name the reader gave.")
    author_email: str = strawberry.field(description="Email the reader gave.")
    author_url: str = strawberry.field(description="Website the reader gave; may be empty.")
    body: str = strawberry.field(description="The comment as plain text.")
    created_at: datetime = strawberry.field(description="When it was posted.")

    @strawberry.field(description="Global id (the same as the public Comment's).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.to_global_id("Comment", self.id))

    @strawberry.field(description="Moderation status.")
    def status(self) -> CommentStatus:
        return CommentStatus(self.status.value)

    @strawberry.field(description="Global id of the article.")
    def article_id(self) -> strawberry.ID:
        return strawberry.ID(ids.to_global_id("ArticlePage", self.article_id))

    @strawberry.field(description="Global id of the comment this replies to, if any.")
    def parent_id(self) -> strawberry.ID | None:
        return strawberry.ID(ids.to_global_id("Comment", self.parent_id)) if self.parent_id else None


@strawberry.type(description="A page of the moderation queue, oldest first.")
class ModerationCommentConnection(Connection[ModerationComment]):
    pass


@strawberry.type(description="The result of moderateComment.")
class ModerateCommentPayload:
    comment: ModerationComment | None = strawberry.field(default=None, description="The comment after the decision.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What went wrong; empty on success.")


def _client_ip(info: Info) -> str:
    request = info.context.request
    if request is None:
        return "unknown"
    # Keyed as the cost budget is: an IPv6 client by its /64, which it can walk at will.
    return budget_key(client_address(request, info.context.settings.trusted_proxies))


@strawberry.type
class ModerationMutation:
    @mutation(description="Post a reader's comment. Mistakes come back in `errors`; nothing is stored then.")
    async def add_comment(
        self,
        info: Info,
        input: Annotated[AddCommentInput, strawberry.argument(description="The comment.")],
    ) -> AddCommentPayload:
        posted = await comments.post_comment(
            info.context.settings,
            article_id=ids.global_pk(input.article_id, "ArticlePage", "article_id"),
            parent_id=ids.global_pk(input.parent_id, "Comment", "parent_id"),
            author_name=input.author_name,
            author_email=input.author_email,
            author_url=input.author_url,
            body=input.body,
            client_ip=_client_ip(info),
            honeypot=input.honeypot,
            form_token_value=input.form_token,
            idempotency_key=input.idempotency_key,
            commenter_token_value=input.commenter_token,
        )
        return AddCommentPayload(status=CommentStatus(posted.status.value), comment=posted.comment,
                                 commenter_token=posted.commenter_token)

    @mutation(
        permission_classes=[IsModerator],
        description="Approve, reject, mark as spam or remove a comment (moderator token required).",
    )
    async def moderate_comment(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the comment.")],
        action: Annotated[ModerationAction, strawberry.argument(description="The decision.")],
    ) -> ModerateCommentPayload:
        comment = await comments.moderate(ids.global_pk(id, "Comment", "id"), action.value)
        return ModerateCommentPayload(comment=comment)


@strawberry.type
class ModerationQuery:
    @strawberry.field(description="A signed stamp to send back as AddCommentInput.formToken (minimum time to submit).")
    def comment_form_token(
        self,
        info: Info,
        article_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the article the form is for.")],
    ) -> str:
        return comments.form_token(info.context.settings, ids.from_global_id(article_id, {"ArticlePage"})[1])

    @strawberry.field(
        description="Comments awaiting a decision (or with another status), oldest first. Moderators only.",
        permission_classes=[IsModerator],
    )
    async def comment_queue(
        self,
        info: Info,
        status: Annotated[CommentStatus, strawberry.argument(description="Which comments to list.")] = CommentStatus.PENDING,
        first: Annotated[int, strawberry.argument(description="Page size.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor of the comment to continue after.")] = None,
    ) -> ModerationCommentConnection:
        check_first(first, info.context.settings.max_page_size)
        after_id = None
        if after is not None:
            try:
                after_id = paging.number_cursor(after, "q")
            except service_errors.UserError as error:
                raise BadInput.from_user_error(error) from None
        rows, has_next = await comments.queue(Status(status.value), first, after_id)
        cursors = [paging.encode_cursor("q", row.id) for row in rows]
        return ModerationCommentConnection.of(cursors, rows, has_next, after is not None)


@strawberry.type(description="Live updates, over graphql-transport-ws on /graphql.")
class Subscription:
    @strawberry.subscription(
        description="Comments on one article as they are approved. NOT_FOUND when readers cannot see the "
        "article (a draft, or below an embargoed or expired section); nothing is delivered while they cannot."
    )
    async def comment_added(
        self,
        info: Info,
        article_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the article.")],
    ) -> AsyncGenerator[Comment, None]:
        _, pk = ids.from_global_id(article_id, {"ArticlePage"})
        if pk not in await content.pages_by_ids([pk]):
            raise GraphQLError("There is no such article.", extensions={"code": service_errors.ErrorCode.NOT_FOUND.value})
        async for comment_id in info.context.events(events.subscribe(pk)):
            found = await threads.comments_by_ids([comment_id])
            if comment_id in found:
                yield found[comment_id]


MODERATION_TYPES = [ModerationComment]
