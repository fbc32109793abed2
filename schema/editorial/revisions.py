"""Revisions, page workflow status, draft views and previews (editors)."""

from __future__ import annotations

from datetime import datetime

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from schema import ids
from schema.context import Info
from schema.errors import BadInput, camel, check_first
from schema.permissions import IsEditor
from schema.node import Connection
from schema.pages import Page
from schema.references import linked_from_field, references_field
from service import clock, content, drafts, models, pages, previews, redirects, revisions
from service import errors as service_errors
from service.ids import REVISION_TYPE_NAME
from service.models import PageKind

REVISION = REVISION_TYPE_NAME  # what clients see; old ids said "PageRevision"
# Revision ids were made as PageRevision:N before the type's name was used: still accepted.
REVISION_TYPES = {REVISION, "PageRevision"}
PAGE_TYPES = set(ids.PAGE_TYPE_NAMES.values())


def revision_pk(value: str | None, field: str) -> int | None:
    """The row id in a revision's global id (argument of a mutation), or a NOT_FOUND UserError."""
    return ids.global_pk(value, REVISION_TYPES, field, label=REVISION)


def argument_pk(value: str, kinds: set[str], field: str, label: str) -> int:
    """The row id in a query's global id argument; a malformed one is BAD_USER_INPUT naming the argument."""
    try:
        return ids.from_global_id(value, kinds)[1]
    except BadInput:
        raise BadInput(f"`{camel(field)}` is not the id of a {label}.", camel(field)) from None


def not_found(message: str, field: str) -> GraphQLError:
    """A query has no payload: what it names does not exist is a top-level NOT_FOUND."""
    return GraphQLError(message, extensions={"code": service_errors.ErrorCode.NOT_FOUND.value, "argument": camel(field)})


async def argument_page(value: str, field: str) -> models.Page:
    """The page a query's global id argument names: BAD_USER_INPUT when malformed, else NOT_FOUND when missing."""
    page = await pages.page_by_id(argument_pk(value, PAGE_TYPES, field, "page"))
    if page is None:
        raise not_found("There is no such page.", field)
    return page

# -- revisions --------------------------------------------------------------------------


@strawberry.type(description="One change between two revisions.")
class RevisionChange:
    field: str = strawberry.field(description="The content field (snake_case), or body.N for a block.")
    change: str = strawberry.field(description="changed, added, removed or reordered.")
    before: JSON | None = strawberry.field(description="The old value.")
    after: JSON | None = strawberry.field(description="The new value.")


@strawberry.type(description="A saved version of a page's content. Editors only.")
class Revision:
    number: int = strawberry.field(description="1 for the first save of the page, then 2, 3 ...")
    created_at: datetime = strawberry.field(description="When it was saved.")
    created_by: str = strawberry.field(description="Name of the token that saved it.")
    message: str = strawberry.field(description="What the save was (Created, Reverted to revision 2 ...).")

    @strawberry.field(description="Global id; pass it as baseRevisionId, revisionId or to compareRevisions.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.to_global_id(REVISION, self.id))

    @strawberry.field(description="The full content as saved (snake_case keys).")
    def content(self) -> JSON:
        return self.content

    @strawberry.field(description="Whether this is the page's newest revision.")
    async def is_latest(self, info: Info) -> bool:
        page = await info.context.loaders.editable_page_by_id.load(self.page_id)
        return page.latest_revision_id == self.id

    @strawberry.field(description="Whether readers see this revision now.")
    async def is_live(self, info: Info) -> bool:
        page = await info.context.loaders.editable_page_by_id.load(self.page_id)
        return page.live and page.live_revision_id == self.id

    @strawberry.field(description="What changed since the previous revision (everything for the first).")
    async def changes(self, info: Info) -> list[RevisionChange]:
        previous = await info.context.loaders.previous_content_by_revision_id.load(self.id)
        return [RevisionChange(**c) for c in drafts.compare(previous, self.content)]

    @strawberry.field(description="The page as this revision would show it (preview).")
    async def page(self, info: Info) -> Page:
        return await draft_view(info, await info.context.loaders.editable_page_by_id.load(self.page_id), self.content)


@strawberry.type(description="Revisions of a page, newest first.")
class RevisionConnection(Connection[Revision]):
    total_count: int = strawberry.field(description="All revisions of the page.")


@strawberry.type(description="Where a page stands in the workflow. Editors only.")
class PageStatus:
    live: bool = strawberry.field(description="Published (readers see it inside its schedule window).")
    has_unpublished_changes: bool = strawberry.field(description="A draft newer than the live version exists.")
    go_live_at: datetime | None = strawberry.field(description="Readers see the page from this time.")
    expire_at: datetime | None = strawberry.field(description="Readers stop seeing the page at this time.")
    url_path: str = strawberry.field(description="Current URL path.")

    @strawberry.field(
        description="Whether a reader would see the page right now: it and every ancestor published, and inside "
        "all their windows (an article in a section scheduled for tomorrow is live but not visible)."
    )
    def visible(self) -> bool:
        return content.is_public(self.__dict__, clock.now())

    @strawberry.field(description="The newest revision (the draft).")
    async def latest_revision(self, info: Info) -> Revision | None:
        return await info.context.loaders.revision_by_id.load(self.latest_revision_id) if self.latest_revision_id else None

    @strawberry.field(description="The revision readers see.")
    async def live_revision(self, info: Info) -> Revision | None:
        return await info.context.loaders.revision_by_id.load(self.live_revision_id) if self.live_revision_id else None

    @strawberry.field(description="Global id of the page.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.global_id(self))

    references = references_field()
    linked_from = linked_from_field()


async def draft_view(info: Info, row: models.Page, data: dict) -> models.Page:
    """The page with a revision's content, its tags and authors primed for this request."""
    page = await previews.page_with_content(row, data)
    if row.kind == PageKind.ARTICLE:
        loaders = info.context.loaders
        known = await pages.tags_by_slugs(data.get("tags", []))
        tags = [known.get(slug) or models.Tag(slug=slug, name=slug.replace("-", " ").title()) for slug in data.get("tags", [])]
        authors = await pages.authors_by_ids(data.get("author_ids", []))
        loaders.tags_by_article_id.prime(row.id, tags, force=True)
        loaders.authors_by_article_id.prime(row.id, [authors[i] for i in data.get("author_ids", []) if i in authors], force=True)
    return page


@strawberry.type
class RevisionQuery:
    @strawberry.field(description="Revisions of a page, newest first (editor).", permission_classes=[IsEditor])
    async def revisions(
        self,
        info: Info,
        page_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor of the revision to continue after.")] = None,
    ) -> RevisionConnection:
        page = await argument_page(page_id, "page_id")
        check_first(first, 100)
        try:
            found = await revisions.page_revisions(page.id, first, after)
        except service_errors.UserError as error:
            raise BadInput.from_user_error(error) from None
        loaders = info.context.loaders
        loaders.editable_page_by_id.prime(page.id, page)  # read above: isLatest, isLive need no more
        for revision_id, previous in found.previous.items():
            loaders.previous_content_by_revision_id.prime(revision_id, previous)
        return RevisionConnection.of(found.cursors, found.items, found.has_next, after is not None, total_count=found.total)

    @strawberry.field(
        description="What changed from one revision of a page to another (editor).",
        permission_classes=[IsEditor],
    )
    async def compare_revisions(
        self,
        info: Info,
        page_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
        from_revision_id: Annotated[strawberry.ID, strawberry.argument(description="The older revision's id.")],
        to_revision_id: Annotated[strawberry.ID, strawberry.argument(description="The newer revision's id.")],
    ) -> list[RevisionChange]:
        page = await argument_page(page_id, "page_id")
        found = {}
        for value, name in ((from_revision_id, "from_revision_id"), (to_revision_id, "to_revision_id")):
            pk = argument_pk(value, REVISION_TYPES, name, REVISION)
            revision = await revisions.revision_of_page(page.id, pk)
            if revision is None:
                raise not_found("That revision does not belong to this page.", name)
            found[name] = revision
        return [RevisionChange(**c) for c in drafts.compare(found["from_revision_id"].content, found["to_revision_id"].content)]

    @strawberry.field(description="A page's workflow state, live or not (editor).", permission_classes=[IsEditor])
    async def page_status(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
    ) -> PageStatus | None:
        return await pages.page_by_id(argument_pk(id, PAGE_TYPES, "id", "page"))


async def preview(info: Info, token: str, *, url_path: str | None = None, page_pk: int | None = None) -> models.Page:
    """The draft a preview token grants, checked against the page asked for."""
    try:
        grant = previews.read_preview_token(info.context.settings.preview_secret, token)
    except service_errors.UserError as error:
        if error.code == service_errors.ErrorCode.INVALID:  # malformed or forged: a bad argument
            raise BadInput(error.message, "previewToken") from None
        raise GraphQLError(error.message, extensions={"code": error.code.value, "argument": "previewToken"}) from None
    row = await pages.page_by_id(grant.page_id)
    if row is None:
        raise GraphQLError("The previewed page no longer exists.", extensions={"code": "NOT_FOUND", "argument": "previewToken"})
    revision = None
    if grant.revision_id is not None:
        revision = await revisions.revision_of_page(row.id, grant.revision_id)
    elif row.latest_revision_id is not None:
        revision = await revisions.revision_of_page(row.id, row.latest_revision_id)
    data = revision.content if revision else await drafts.snapshot(row)
    if url_path is not None:
        try:
            wanted = redirects.normalise(url_path) if url_path != "/" else "/"
        except service_errors.UserError as error:
            raise BadInput(error.message, "urlPath") from None
        parent_url = row.url_path[: -len(row.slug) - 1] if row.kind != PageKind.HOME else ""
        if wanted not in (row.url_path, f"{parent_url}{data.get('slug', row.slug)}/"):
            raise GraphQLError("This preview token is for another page.", extensions={"code": "PERMISSION_DENIED", "argument": "previewToken"})
    if page_pk is not None and page_pk != row.id:
        raise GraphQLError("This preview token is for another page.", extensions={"code": "PERMISSION_DENIED", "argument": "previewToken"})
    info.context.preview_until = grant.expires  # the draft's images: their URLs carry a grant for <img>
    return await draft_view(info, row, data)

