"""Page mutations: drafts of articles and sections, publishing, schedules, moves, deletes, reverts, previews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from schema import ids
from schema.context import Info
from schema.editorial.inputs import (
    CreateArticleInput, CreateSectionInput, UpdateArticleInput, UpdateSectionInput, _actor, _article_changes, _errors,
    _page, _section_changes, _window_arguments,
)
from schema.editorial.revisions import REVISION, PageStatus, Revision, draft_view
from schema.moderation import UserError, _pk
from schema.pages import ArticlePage, Page, SectionPage
from service import editorial, models, pages
from service import errors as service_errors
from service.models import PageKind, Role

# -- payloads ---------------------------------------------------------------------------


@strawberry.type(description="The result of createArticle or updateArticle.")
class ArticlePayload:
    article: ArticlePage | None = strawberry.field(default=None, description="The article as the saved draft shows it.")
    revision: Revision | None = strawberry.field(default=None, description="The revision the save stored.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="The result of createSection or updateSection.")
class SectionPayload:
    section: SectionPage | None = strawberry.field(default=None, description="The section as the saved draft shows it.")
    revision: Revision | None = strawberry.field(default=None, description="The revision the save stored.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="The result of a page operation (publish, unpublish, schedule, move, delete).")
class PagePayload:
    page: Page | None = strawberry.field(default=None, description="The page afterwards (as editors see it).")
    status: PageStatus | None = strawberry.field(default=None, description="Its workflow state afterwards.")
    revision: Revision | None = strawberry.field(default=None, description="The revision involved, if any.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="The result of revertToRevision.")
class RevisionPayload:
    revision: Revision | None = strawberry.field(default=None, description="The new draft revision.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="The result of deletePage.")
class DeletePagePayload:
    page: Page | None = strawberry.field(default=None, description="The deleted page, as it was.")
    deleted_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Global ids of every page deleted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="A signed preview token and how to use it.")
class PreviewToken:
    token: str = strawberry.field(description="Pass as `previewToken` to page(urlPath:) or node(id:).")
    expires_at: datetime = strawberry.field(description="When it stops working.")
    url_path: str = strawberry.field(description="The page's URL path, to pass with the token.")


@strawberry.type(description="The result of createPreviewToken.")
class PreviewTokenPayload:
    token: PreviewToken | None = strawberry.field(default=None, description="The token.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


async def _save_draft(info: Info, id: str, kind: PageKind, changes_of, input: Any, base_revision_id: str | None):
    """updateArticle and updateSection: a new revision on top of `baseRevisionId` when given."""
    by = await _actor(info, Role.EDITOR)
    page = await _page(id)
    if page.kind != kind:
        noun = "an article" if kind == PageKind.ARTICLE else "a section"
        raise service_errors.UserError(f"That page is not {noun}.", service_errors.ErrorCode.INVALID, field="id")
    base = _pk(base_revision_id, {REVISION}, "base_revision_id")
    revision = await editorial.update_page(page, changes_of(input), by, base, check_base=base_revision_id is not None)
    return await draft_view(info, page, revision.content), revision


@strawberry.type
class PageMutation:
    @strawberry.mutation(description="Create an article as a draft (editor).")
    async def create_article(self, info: Info, input: CreateArticleInput) -> ArticlePayload:
        try:
            by = await _actor(info, Role.EDITOR)
            changes = _article_changes(input)
            changes.setdefault("comments_enabled", True)
            page, revision = await editorial.create_article(changes, by)
        except service_errors.UserError as error:
            return ArticlePayload(errors=_errors(error))
        return ArticlePayload(article=await draft_view(info, page, revision.content), revision=revision)

    @strawberry.mutation(
        description="Save a new draft of an article (editor). Pass the revision you edited as baseRevisionId: "
        "if someone saved since, nothing is stored and a CONFLICT error says so."
    )
    async def update_article(
        self, info: Info, id: strawberry.ID, input: UpdateArticleInput, base_revision_id: strawberry.ID | None = None
    ) -> ArticlePayload:
        try:
            article, revision = await _save_draft(info, id, PageKind.ARTICLE, _article_changes, input, base_revision_id)
        except service_errors.UserError as error:
            return ArticlePayload(errors=_errors(error))
        return ArticlePayload(article=article, revision=revision)

    @strawberry.mutation(description="Create a section as a draft (editor).")
    async def create_section(self, info: Info, input: CreateSectionInput) -> SectionPayload:
        try:
            by = await _actor(info, Role.EDITOR)
            page, revision = await editorial.create_section(_section_changes(input), by)
        except service_errors.UserError as error:
            return SectionPayload(errors=_errors(error))
        return SectionPayload(section=await draft_view(info, page, revision.content), revision=revision)

    @strawberry.mutation(description="Save a new draft of a section (editor); baseRevisionId as for updateArticle.")
    async def update_section(
        self, info: Info, id: strawberry.ID, input: UpdateSectionInput, base_revision_id: strawberry.ID | None = None
    ) -> SectionPayload:
        try:
            section, revision = await _save_draft(info, id, PageKind.SECTION, _section_changes, input, base_revision_id)
        except service_errors.UserError as error:
            return SectionPayload(errors=_errors(error))
        return SectionPayload(section=section, revision=revision)

    @strawberry.mutation(description="Move a page and its subtree below another page (publisher); old paths redirect.")
    async def move_page(self, info: Info, id: strawberry.ID, parent_id: strawberry.ID, position: int | None = None) -> PagePayload:
        try:
            by = await _actor(info, Role.PUBLISHER)
            page = await _page(id)
            parent = await _page(parent_id, "parent_id")
            if position is not None and not 0 <= position <= 10_000:
                raise service_errors.UserError("position must be between 0 and 10000.", service_errors.ErrorCode.INVALID, field="position")
            page = await editorial.move(page, parent, position, by)
        except service_errors.UserError as error:
            return PagePayload(errors=_errors(error))
        return PagePayload(page=page, status=page)

    @strawberry.mutation(description="Delete a page and everything below it (publisher).")
    async def delete_page(self, info: Info, id: strawberry.ID) -> DeletePagePayload:
        try:
            by = await _actor(info, Role.PUBLISHER)
            page = await _page(id)
            subtree = await pages.subtree_kinds(page)
            await editorial.delete(page, by)
        except service_errors.UserError as error:
            return DeletePagePayload(errors=_errors(error))
        return DeletePagePayload(page=page, deleted_ids=[strawberry.ID(ids.to_global_id(ids.PAGE_TYPE_NAMES[k], i)) for i, k in subtree])

    @strawberry.mutation(
        description="Publish a revision (the latest by default) of a page (publisher). The page keeps its "
        "go-live/expiry window unless `goLiveAt` or `expireAt` is passed (null clears that end). Below a "
        "section that is scheduled, expired or unpublished higher up, the page is published but readers see "
        "it only when, and while, every section above it is visible."
    )
    async def publish_page(
        self, info: Info, id: strawberry.ID, revision_id: strawberry.ID | None = None,
        go_live_at: Annotated[datetime | None, strawberry.argument(
            description="New start of the page's window; omit to keep it, null to clear it.")] = strawberry.UNSET,
        expire_at: Annotated[datetime | None, strawberry.argument(
            description="New end of the page's window (in the future); omit to keep it, null to clear it.")] = strawberry.UNSET,
    ) -> PagePayload:
        try:
            by = await _actor(info, Role.PUBLISHER)
            page = await _page(id)
            go, expire = _window_arguments(go_live_at, expire_at)
            revision = await editorial.publish(page, _pk(revision_id, {REVISION}, "revision_id"), by, go_live_at=go, expire_at=expire)
        except service_errors.UserError as error:
            return PagePayload(errors=_errors(error))
        page = await pages.page_by_id(page.id)
        return PagePayload(page=page, status=page, revision=revision)

    @strawberry.mutation(description="Take a page and its subtree off the site (publisher); drafts are kept.")
    async def unpublish_page(self, info: Info, id: strawberry.ID) -> PagePayload:
        try:
            by = await _actor(info, Role.PUBLISHER)
            page = await _page(id)
            await editorial.unpublish(page, by)
        except service_errors.UserError as error:
            return PagePayload(errors=_errors(error))
        page = await pages.page_by_id(page.id)
        return PagePayload(page=page, status=page)

    @strawberry.mutation(
        description="Show a page to readers only between goLiveAt and expireAt (publisher). An argument left out "
        "keeps that end of the page's window; an explicit null clears it (both null clears the schedule). A page "
        "not yet live publishes its latest revision for that window. A section's window sets the section's own "
        "schedule only: pages below it keep theirs, and readers see them only inside both."
    )
    async def schedule_page(
        self, info: Info, id: strawberry.ID,
        go_live_at: Annotated[datetime | None, strawberry.argument(
            description="Readers see the page from this time; omit to keep, null to clear.")] = strawberry.UNSET,
        expire_at: Annotated[datetime | None, strawberry.argument(
            description="Readers stop seeing the page at this time (in the future); omit to keep, null to clear.")] = strawberry.UNSET,
    ) -> PagePayload:
        try:
            by = await _actor(info, Role.PUBLISHER)
            go, expire = _window_arguments(go_live_at, expire_at)
            page = await editorial.schedule(await _page(id), go, expire, by)
        except service_errors.UserError as error:
            return PagePayload(errors=_errors(error))
        return PagePayload(page=page, status=page)

    @strawberry.mutation(description="Restore an earlier revision as the new draft (publisher); publish it to go live.")
    async def revert_to_revision(self, info: Info, id: strawberry.ID, revision_id: strawberry.ID) -> RevisionPayload:
        try:
            by = await _actor(info, Role.PUBLISHER)
            revision = await editorial.revert(await _page(id), _pk(revision_id, {REVISION}, "revision_id"), by)
        except service_errors.UserError as error:
            return RevisionPayload(errors=_errors(error))
        return RevisionPayload(revision=revision)

    @strawberry.mutation(description="A short-lived signed token to preview a page's draft (editor).")
    async def create_preview_token(
        self, info: Info, page_id: strawberry.ID, revision_id: strawberry.ID | None = None
    ) -> PreviewTokenPayload:
        try:
            await _actor(info, Role.EDITOR)
            page = await _page(page_id, "page_id")
            rev = _pk(revision_id, {REVISION}, "revision_id")
            if rev is not None and not await models.PageRevision.exists(id=rev, page_id=page.id):
                raise service_errors.UserError("That revision does not belong to this page.", service_errors.ErrorCode.NOT_FOUND, field="revision_id")
            token, expires = editorial.preview_token(info.context.settings.preview_secret, page.id, rev)
        except service_errors.UserError as error:
            return PreviewTokenPayload(errors=_errors(error))
        return PreviewTokenPayload(token=PreviewToken(token=token, expires_at=expires, url_path=page.url_path))

