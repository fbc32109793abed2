"""Page mutations: drafts of articles and sections, publishing, schedules, moves, deletes, reverts, previews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from schema import ids
from schema.context import Info
from schema.editorial.inputs import (
    CreateArticleInput, CreateSectionInput, UpdateArticleInput, UpdateSectionInput, article_changes, page_arg,
    section_changes, window_arguments,
)
from schema.editorial.revisions import PageStatus, Revision, draft_view, revision_pk
from schema.pages import ArticlePage, Page, SectionPage
from schema.payloads import UserError, mutation
from schema.permissions import IsEditor, IsPublisher, actor
from service import drafts, pages, previews, publishing, references, revisions
from service import errors as service_errors
from service.models import PageKind

# -- payloads ---------------------------------------------------------------------------

LINKED_FROM = ("unpublishPage and deletePage: the live pages whose published content links to the page or a page "
               "below it. With PAGE_IS_LINKED (nothing done) they are why; with `force: true` their links now show "
               "as plain text.")
FORCE = "Go ahead even though live pages link to the page (their links then show as plain text)."


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
    linked_from: list[Page] = strawberry.field(default_factory=list, description=LINKED_FROM)


@strawberry.type(description="The result of revertToRevision.")
class RevisionPayload:
    revision: Revision | None = strawberry.field(default=None, description="The new draft revision.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type(description="The result of deletePage.")
class DeletePagePayload:
    page: Page | None = strawberry.field(default=None, description="The deleted page, as it was.")
    deleted_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Global ids of every page deleted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")
    linked_from: list[Page] = strawberry.field(default_factory=list, description=LINKED_FROM)


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
    by = await actor(info)
    page = await page_arg(id)
    if page.kind != kind:
        noun = "an article" if kind == PageKind.ARTICLE else "a section"
        raise service_errors.UserError(f"That page is not {noun}.", service_errors.ErrorCode.INVALID, field="id")
    base = revision_pk(base_revision_id, "base_revision_id")
    revision = await drafts.update_page(page, changes_of(input), by, base, check_base=base_revision_id is not None)
    return await draft_view(info, page, revision.content), revision


@strawberry.type
class PageMutation:
    @mutation(permission_classes=[IsEditor], description="Create an article as a draft (editor).")
    async def create_article(
        self,
        info: Info,
        input: Annotated[CreateArticleInput, strawberry.argument(description="The new article.")],
    ) -> ArticlePayload:
        by = await actor(info)
        changes = article_changes(input)
        changes.setdefault("comments_enabled", True)
        page, revision = await drafts.draft_article(changes, by)
        return ArticlePayload(article=await draft_view(info, page, revision.content), revision=revision)

    @mutation(
        permission_classes=[IsEditor],
        description="Save a new draft of an article (editor). Pass the revision you edited as baseRevisionId: "
        "if someone saved since, nothing is stored and a CONFLICT error says so."
    )
    async def update_article(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the article.")],
        input: Annotated[UpdateArticleInput, strawberry.argument(description="The fields to change.")],
        base_revision_id: Annotated[strawberry.ID | None, strawberry.argument(description="The revision the edit started from.")] = None,
    ) -> ArticlePayload:
        article, revision = await _save_draft(info, id, PageKind.ARTICLE, article_changes, input, base_revision_id)
        return ArticlePayload(article=article, revision=revision)

    @mutation(permission_classes=[IsEditor], description="Create a section as a draft (editor).")
    async def create_section(
        self,
        info: Info,
        input: Annotated[CreateSectionInput, strawberry.argument(description="The new section.")],
    ) -> SectionPayload:
        by = await actor(info)
        page, revision = await drafts.draft_section(section_changes(input), by)
        return SectionPayload(section=await draft_view(info, page, revision.content), revision=revision)

    @mutation(
        permission_classes=[IsEditor],
        description="Save a new draft of a section (editor); baseRevisionId as for updateArticle.",
    )
    async def update_section(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the section.")],
        input: Annotated[UpdateSectionInput, strawberry.argument(description="The fields to change.")],
        base_revision_id: Annotated[strawberry.ID | None, strawberry.argument(description="The revision the edit started from.")] = None,
    ) -> SectionPayload:
        section, revision = await _save_draft(info, id, PageKind.SECTION, section_changes, input, base_revision_id)
        return SectionPayload(section=section, revision=revision)

    @mutation(
        permission_classes=[IsPublisher],
        description="Move a page and its subtree below another page (publisher); old paths redirect.",
    )
    async def move_page(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page to move.")],
        parent_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the new parent (home page or section).")],
        position: Annotated[int | None, strawberry.argument(description="Place among the new parent's children, 0 to 10000; last when left out.")] = None,
    ) -> PagePayload:
        by = await actor(info)
        page = await page_arg(id)
        parent = await page_arg(parent_id, "parent_id")
        if position is not None and not 0 <= position <= 10_000:
            raise service_errors.UserError("position must be between 0 and 10000.", service_errors.ErrorCode.INVALID, field="position")
        page = await publishing.move(page, parent, position, by)
        return PagePayload(page=page, status=page)

    @mutation(permission_classes=[IsPublisher], description="Delete a page and everything below it (publisher). "
              "Refused with PAGE_IS_LINKED while live pages link to it (or below it), unless `force: true`.")
    async def delete_page(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
        force: Annotated[bool, strawberry.argument(description=FORCE)] = False,
    ) -> DeletePagePayload:
        by = await actor(info)
        page = await page_arg(id)
        subtree = await pages.subtree_kinds(page)
        try:
            linked = await references.check_unlinked(page, force)
        except references.PageIsLinked as error:
            return DeletePagePayload(errors=[UserError.from_exception(error)], linked_from=error.sources)
        await publishing.delete(page, by, force=True)
        return DeletePagePayload(page=page, deleted_ids=[strawberry.ID(ids.to_global_id(ids.PAGE_TYPE_NAMES[k], i)) for i, k in subtree],
                                 linked_from=linked)

    @mutation(
        permission_classes=[IsPublisher],
        description="Publish a revision (the latest by default) of a page (publisher). The page keeps its "
        "go-live/expiry window unless `goLiveAt` or `expireAt` is passed (null clears that end). Below a "
        "section that is scheduled, expired or unpublished higher up, the page is published but readers see "
        "it only when, and while, every section above it is visible."
    )
    async def publish_page(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
        revision_id: Annotated[strawberry.ID | None, strawberry.argument(description="The revision to publish; the latest when left out.")] = None,
        go_live_at: Annotated[datetime | None, strawberry.argument(             description="New start of the page's window; omit to keep it, null to clear it.")] = strawberry.UNSET,
        expire_at: Annotated[datetime | None, strawberry.argument(             description="New end of the page's window (in the future); omit to keep it, null to clear it.")] = strawberry.UNSET,
    ) -> PagePayload:
        by = await actor(info)
        page = await page_arg(id)
        go, expire = window_arguments(go_live_at, expire_at)
        revision = await publishing.publish(page, revision_pk(revision_id, "revision_id"), by, go_live_at=go, expire_at=expire)
        page = await pages.page_by_id(page.id)
        return PagePayload(page=page, status=page, revision=revision)

    @mutation(
        permission_classes=[IsPublisher],
        description="Take a page and its subtree off the site (publisher); drafts are kept. Refused with "
        "PAGE_IS_LINKED while live pages link to it (or below it), unless `force: true`.",
    )
    async def unpublish_page(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
        force: Annotated[bool, strawberry.argument(description=FORCE)] = False,
    ) -> PagePayload:
        by = await actor(info)
        page = await page_arg(id)
        try:
            linked = await references.check_unlinked(page, force)
        except references.PageIsLinked as error:
            return PagePayload(errors=[UserError.from_exception(error)], linked_from=error.sources)
        await publishing.unpublish(page, by, force=True)
        page = await pages.page_by_id(page.id)
        return PagePayload(page=page, status=page, linked_from=linked)

    @mutation(
        permission_classes=[IsPublisher],
        description="Show a page to readers only between goLiveAt and expireAt (publisher). An argument left out "
        "keeps that end of the page's window; an explicit null clears it (both null clears the schedule). A page "
        "not yet live publishes its latest revision for that window. A section's window sets the section's own "
        "schedule only: pages below it keep theirs, and readers see them only inside both."
    )
    async def schedule_page(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
        go_live_at: Annotated[datetime | None, strawberry.argument(             description="Readers see the page from this time; omit to keep, null to clear.")] = strawberry.UNSET,
        expire_at: Annotated[datetime | None, strawberry.argument(             description="Readers stop seeing the page at this time (in the future); omit to keep, null to clear.")] = strawberry.UNSET,
    ) -> PagePayload:
        by = await actor(info)
        go, expire = window_arguments(go_live_at, expire_at)
        page = await publishing.schedule(await page_arg(id), go, expire, by)
        return PagePayload(page=page, status=page)

    @mutation(
        permission_classes=[IsPublisher],
        description="Restore an earlier revision as the new draft (publisher); publish it to go live.",
    )
    async def revert_to_revision(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
        revision_id: Annotated[strawberry.ID, strawberry.argument(description="The revision to restore.")],
    ) -> RevisionPayload:
        by = await actor(info)
        revision = await drafts.revert(await page_arg(id), revision_pk(revision_id, "revision_id"), by)
        return RevisionPayload(revision=revision)

    @mutation(
        permission_classes=[IsEditor],
        description="A short-lived signed token to preview a page's draft (editor).",
    )
    async def create_preview_token(
        self,
        info: Info,
        page_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the page.")],
        revision_id: Annotated[strawberry.ID | None, strawberry.argument(description="A revision to preview; the latest when left out.")] = None,
    ) -> PreviewTokenPayload:
        page = await page_arg(page_id, "page_id")
        rev = revision_pk(revision_id, "revision_id")
        if rev is not None:
            await revisions.require_revision_of_page(page.id, rev, field="revision_id")
        token, expires = previews.preview_token(info.context.settings.preview_secret, page.id, rev)
        return PreviewTokenPayload(token=PreviewToken(token=token, expires_at=expires, url_path=page.url_path))

