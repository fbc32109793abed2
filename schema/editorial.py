"""Editorial API: drafts and revisions, publishing, schedules, preview, redirects, webhooks.

Every mutation checks the caller's role (editor: create and edit; publisher:
publish, unpublish, schedule, move, delete, revert; admin: webhooks) and answers
with a payload whose `errors` list holds typed UserErrors: nothing is stored when
it is not empty. Queries that only editors may make raise a coded GraphQL error.
"""

from __future__ import annotations

from service.errors import is_row_id

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from schema import ids
from schema.context import Info
from schema.errors import BadInput, camel, check_first
from schema.moderation import UserError, _pk, _require
from schema.node import PageInfo
from schema.media import Author as MediaAuthor
from schema.media import Image as MediaImage
from schema.site import Site
from schema.pages import ArticlePage, Page, SectionPage
from service import content, editorial, media, models, redirects, revisions, webhooks
from service import errors as service_errors
from service.models import PageKind, Role

REVISION = "PageRevision"


def _window_arguments(go_live_at: Any, expire_at: Any) -> tuple[Any, Any]:
    """Window arguments for the service: UNSET (left out) becomes KEEP; times need a zone."""
    out = []
    for value, name in ((go_live_at, "go_live_at"), (expire_at, "expire_at")):
        if value is strawberry.UNSET:
            out.append(editorial.KEEP)
            continue
        if value is not None and value.tzinfo is None:
            raise service_errors.UserError(f"{camel(name)} needs a time zone.", service_errors.ErrorCode.INVALID, field=name)
        out.append(value)
    return out[0], out[1]


def _plain_id(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not is_row_id(str(value)):
        raise service_errors.UserError(f"{camel(field)} must be a numeric id.", service_errors.ErrorCode.INVALID, field=field)
    return int(value)


async def _page(value: str, field: str = "id") -> models.Page:
    pk = _pk(value, set(ids.PAGE_TYPE_NAMES.values()), field)
    page = await models.Page.get_or_none(id=pk)
    if page is None:
        raise service_errors.UserError("There is no such page.", service_errors.ErrorCode.NOT_FOUND, field=field)
    return page


async def _actor(info: Info, role: Role) -> str:
    await _require(info, role)
    token = await info.context.token()
    return token.name


def _query_guard(error: service_errors.UserError) -> GraphQLError:
    return GraphQLError(error.message, extensions={"code": error.code.value})


# -- body and inputs ------------------------------------------------------------------


@strawberry.input(description="A paragraph of rich text; HTML is sanitised on save.")
class ParagraphInput:
    html: str = strawberry.field(description="Inline HTML: p, a, strong, em, lists, code, sub/sup.")
    id: str | None = strawberry.field(default=None, description="Keep a block's id across edits (diffs match blocks by id).")


@strawberry.input(description="A heading inside the body.")
class HeadingInput:
    text: str = strawberry.field(description="Heading text.")
    level: int = strawberry.field(default=2, description="2, 3 or 4.")
    id: str | None = strawberry.field(default=None, description="Keep a block's id across edits.")


@strawberry.input(description="A pull quote.")
class QuoteInput:
    text: str = strawberry.field(description="The quoted words.")
    attribution: str | None = strawberry.field(default=None, description="Who said it.")
    id: str | None = strawberry.field(default=None, description="Keep a block's id across edits.")


@strawberry.input(description="An image from the library inside the body.")
class ImageBlockInput:
    image_id: strawberry.ID = strawberry.field(description="Id of an image (Image.id).")
    caption: str | None = strawberry.field(default=None, description="Caption under the image.")
    id: str | None = strawberry.field(default=None, description="Keep a block's id across edits.")


@strawberry.input(description="An embedded external item (video, post).")
class EmbedInput:
    url: str = strawberry.field(description="http(s) URL of the item.")
    title: str | None = strawberry.field(default=None, description="Title for accessibility.")
    id: str | None = strawberry.field(default=None, description="Keep a block's id across edits.")


@strawberry.input(one_of=True, description="One body block: set exactly one of the fields.")
class BodyBlockInput:
    paragraph: ParagraphInput | None = strawberry.field(default=strawberry.UNSET, description="A paragraph of rich text.")
    heading: HeadingInput | None = strawberry.field(default=strawberry.UNSET, description="A heading.")
    quote: QuoteInput | None = strawberry.field(default=strawberry.UNSET, description="A pull quote.")
    image: ImageBlockInput | None = strawberry.field(default=strawberry.UNSET, description="An image from the library.")
    embed: EmbedInput | None = strawberry.field(default=strawberry.UNSET, description="An embedded external item.")


def _block(index: int, block: BodyBlockInput) -> dict:
    for kind in ("paragraph", "heading", "quote", "image", "embed"):
        value = getattr(block, kind)
        if value is strawberry.UNSET or value is None:
            continue
        fields = {k: v for k, v in vars(value).items() if k != "id" and v is not None}
        if kind == "image":
            fields = {"image_id": _plain_id(value.image_id, f"body.{index}"), "caption": value.caption or ""}
        return {"id": value.id, "type": kind, "value": fields}
    raise service_errors.UserError(f"Block {index + 1}: set one block type.", service_errors.ErrorCode.INVALID_BLOCK, field=f"body.{index}")


def _article_changes(input: Any) -> dict:
    """Service-side content from an article input: only the fields the caller set."""
    changes: dict[str, Any] = {}
    plain = ("title", "slug", "headline", "summary", "source", "seo_title", "search_description", "comments_enabled")
    for name in plain:
        value = getattr(input, name, strawberry.UNSET)
        if value is not strawberry.UNSET and value is not None:
            changes[name] = value
    if (value := getattr(input, "published_at", strawberry.UNSET)) is not strawberry.UNSET:
        changes["published_at"] = value.isoformat() if value else None
    if (value := getattr(input, "section_id", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["section_id"] = _pk(value, {"SectionPage"}, "section_id")
    if (value := getattr(input, "tags", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["tags"] = list(value)
    if (value := getattr(input, "author_ids", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["author_ids"] = [_plain_id(v, "author_ids") for v in value]
    if (value := getattr(input, "related_ids", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["related_ids"] = [_pk(v, {"ArticlePage"}, "related_ids") for v in value]
    if (value := getattr(input, "hero_image_id", strawberry.UNSET)) is not strawberry.UNSET:
        changes["hero_image_id"] = _plain_id(value, "hero_image_id")
    if (value := getattr(input, "body", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["body"] = [_block(i, b) for i, b in enumerate(value)]
    return changes


def _section_changes(input: Any) -> dict:
    changes: dict[str, Any] = {}
    for name in ("title", "slug", "description", "seo_title", "search_description"):
        value = getattr(input, name, strawberry.UNSET)
        if value is not strawberry.UNSET and value is not None:
            changes[name] = value
    if (value := getattr(input, "parent_id", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["parent_id"] = _pk(value, {"HomePage", "SectionPage"}, "parent_id")
    return changes


@strawberry.input(description="A new article; it starts as an unpublished draft.")
class CreateArticleInput:
    section_id: strawberry.ID = strawberry.field(description="Global id of the section it belongs to.")
    title: str = strawberry.field(description="Page title.")
    slug: str | None = strawberry.field(default=None, description="URL slug; derived from the title when left out.")
    headline: str | None = strawberry.field(default=None, description="Display headline; the title when left out.")
    summary: str | None = strawberry.field(default=None, description="Standfirst.")
    published_at: datetime | None = strawberry.field(default=None, description="Publication date shown to readers.")
    source: str | None = strawberry.field(default=None, description='Source line, such as "By Agencies".')
    tags: list[str] | None = strawberry.field(default=None, description="Tag slugs (or names); new ones are created.")
    author_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Author ids, in byline order.")
    related_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Global ids of related articles, in order.")
    hero_image_id: strawberry.ID | None = strawberry.field(default=None, description="Lead image id.")
    body: list[BodyBlockInput] | None = strawberry.field(default=None, description="Body blocks, in order.")
    seo_title: str | None = strawberry.field(default=None, description="Title for search engines.")
    search_description: str | None = strawberry.field(default=None, description="Meta description.")
    comments_enabled: bool | None = strawberry.field(default=None, description="Whether readers may comment (default true).")


@strawberry.input(description="Changes to an article: only the fields given change (null clears publishedAt and heroImageId).")
class UpdateArticleInput:
    section_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Move the article to this section (global id).")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Page title.")
    slug: str | None = strawberry.field(default=strawberry.UNSET, description="URL slug.")
    headline: str | None = strawberry.field(default=strawberry.UNSET, description="Display headline.")
    summary: str | None = strawberry.field(default=strawberry.UNSET, description="Standfirst.")
    published_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="Publication date; null clears it (publishing then uses the publish time).")
    source: str | None = strawberry.field(default=strawberry.UNSET, description="Source line.")
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Tag slugs or names, replacing the current ones.")
    author_ids: list[strawberry.ID] | None = strawberry.field(default=strawberry.UNSET, description="Author ids, replacing the byline.")
    related_ids: list[strawberry.ID] | None = strawberry.field(default=strawberry.UNSET, description="Global ids of related articles, replacing the editor's picks.")
    hero_image_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Lead image id; null removes it.")
    body: list[BodyBlockInput] | None = strawberry.field(default=strawberry.UNSET, description="The whole body, replacing the current blocks.")
    seo_title: str | None = strawberry.field(default=strawberry.UNSET, description="Title for search engines.")
    search_description: str | None = strawberry.field(default=strawberry.UNSET, description="Meta description.")
    comments_enabled: bool | None = strawberry.field(default=strawberry.UNSET, description="Whether readers may comment.")


@strawberry.input(description="A new section below the home page or another section; starts unpublished.")
class CreateSectionInput:
    parent_id: strawberry.ID = strawberry.field(description="Global id of the home page or a section.")
    title: str = strawberry.field(description="Section title.")
    slug: str | None = strawberry.field(default=None, description="URL slug, unique among sections; derived from the title.")
    description: str | None = strawberry.field(default=None, description="Introductory text.")
    seo_title: str | None = strawberry.field(default=None, description="Title for search engines.")
    search_description: str | None = strawberry.field(default=None, description="Meta description.")


@strawberry.input(description="Changes to a section: only the fields given change.")
class UpdateSectionInput:
    parent_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Move the section below this page (global id of the home page or a section).")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Page title.")
    slug: str | None = strawberry.field(default=strawberry.UNSET, description="URL slug.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Introductory text.")
    seo_title: str | None = strawberry.field(default=strawberry.UNSET, description="Title for search engines.")
    search_description: str | None = strawberry.field(default=strawberry.UNSET, description="Meta description.")


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
        return [RevisionChange(**c) for c in editorial.compare(previous, self.content)]

    @strawberry.field(description="The page as this revision would show it (preview).")
    async def page(self, info: Info) -> Page:
        return await draft_view(info, await info.context.loaders.editable_page_by_id.load(self.page_id), self.content)


@strawberry.type(description="A revision and its cursor.")
class RevisionEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue.")
    node: Revision = strawberry.field(description="The revision.")


@strawberry.type(description="Revisions of a page, newest first.")
class RevisionConnection:
    edges: list[RevisionEdge] = strawberry.field(description="The revisions on this page.")
    page_info: PageInfo = strawberry.field(description="Pagination state.")
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
        return content.is_public(self.__dict__, editorial.now())

    @strawberry.field(description="The newest revision (the draft).")
    async def latest_revision(self, info: Info) -> Revision | None:
        return await info.context.loaders.revision_by_id.load(self.latest_revision_id) if self.latest_revision_id else None

    @strawberry.field(description="The revision readers see.")
    async def live_revision(self, info: Info) -> Revision | None:
        return await info.context.loaders.revision_by_id.load(self.live_revision_id) if self.live_revision_id else None

    @strawberry.field(description="Global id of the page.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.global_id(self))


async def draft_view(info: Info, row: models.Page, data: dict) -> models.Page:
    """The page with a revision's content, its tags and authors primed for this request."""
    page = await editorial.draft_page(row, data)
    if row.kind == PageKind.ARTICLE:
        loaders = info.context.loaders
        known = {t.slug: t for t in await models.Tag.filter(slug__in=data.get("tags", []))}
        tags = [known.get(slug) or models.Tag(slug=slug, name=slug.replace("-", " ").title()) for slug in data.get("tags", [])]
        authors = {a.id: a for a in await models.Author.filter(id__in=data.get("author_ids", []))}
        loaders.tags_by_article_id.prime(row.id, tags, force=True)
        loaders.authors_by_article_id.prime(row.id, [authors[i] for i in data.get("author_ids", []) if i in authors], force=True)
    return page


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


@strawberry.type(description="Where an old path leads.")
class Redirect:
    target: str = strawberry.field(description="The final path (chains are followed).")
    is_permanent: bool = strawberry.field(description="Answer 301 (true) or 302 (false).")


@strawberry.type(description="A stored redirect, as editors manage them.")
class RedirectRule:
    old_path: str = strawberry.field(description="The path that redirects.")
    is_permanent: bool = strawberry.field(description="301 or 302.")
    automatic: bool = strawberry.field(description="Recorded when a page moved (true) or added by an editor.")
    created_at: datetime = strawberry.field(description="When it was made.")

    @strawberry.field(description="Id, for deleteRedirect.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.id))

    @strawberry.field(description="Where it points now (a page's current path when it points at a page).")
    async def target(self, info: Info) -> str:
        if self.page_id is not None:
            return await info.context.loaders.redirect_target_by_page_id.load(self.page_id)
        return self.target_path


@strawberry.type(description="The result of createRedirect or deleteRedirect.")
class RedirectPayload:
    redirect: RedirectRule | None = strawberry.field(default=None, description="The redirect.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.enum(description="Events a webhook can subscribe to.")
class WebhookEvent(Enum):
    PAGE_PUBLISHED = "page.published"
    PAGE_UNPUBLISHED = "page.unpublished"
    PAGE_DELETED = "page.deleted"
    COMMENT_APPROVED = "comment.approved"


@strawberry.type(description="An attempt record for one event sent to one endpoint.")
class WebhookDelivery:
    delivery_id: str = strawberry.field(description="Sent as X-Masthead-Delivery; receivers drop repeats by it.")
    event: str = strawberry.field(description="The event name.")
    status: str = strawberry.field(description="pending, delivered or failed (gave up after the last retry).")
    attempts: int = strawberry.field(description="POSTs made so far.")
    next_attempt_at: datetime = strawberry.field(description="When it is tried next (while pending).")
    last_error: str = strawberry.field(description="Why the last attempt failed; empty when it did not.")
    last_status_code: int | None = strawberry.field(description="HTTP status of the last attempt.")
    created_at: datetime = strawberry.field(description="When the event happened.")
    delivered_at: datetime | None = strawberry.field(description="When the endpoint accepted it.")
    payload: JSON = strawberry.field(description="The JSON body sent (without deliveryId).")


@strawberry.type(description="A registered webhook endpoint. Admins only.")
class Webhook:
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[str] = strawberry.field(description="The events it receives.")
    active: bool = strawberry.field(description="Whether events are sent to it.")
    created_at: datetime = strawberry.field(description="When it was registered.")

    @strawberry.field(description="Id, for deleteWebhook.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.id))

    @strawberry.field(description="Its deliveries, newest first.")
    async def deliveries(self, info: Info, first: int = 20) -> list[WebhookDelivery]:
        check_first(first, 100)
        return await info.context.loaders.deliveries_by_webhook_id.load((self.id, first))


@strawberry.type(description="The result of registerWebhook; the secret is shown here only.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The endpoint.")
    secret: str | None = strawberry.field(default=None, description="The HMAC secret (X-Masthead-Signature); store it now.")
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


TokenRole = strawberry.enum(Role, name="TokenRole", description="What a token may do; each role includes the ones before it.")


@strawberry.type(description="An API token, as admins see it: never its secret.")
class ApiToken:
    name: str = strawberry.field(description="What the token is for.")
    created_at: datetime = strawberry.field(description="When it was made.")
    expires_at: datetime | None = strawberry.field(description="When it stops working, if ever.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked, if it was.")

    @strawberry.field(description="Id, for revokeApiToken.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.id))

    role: TokenRole = strawberry.field(description="Its role.")

    @strawberry.field(description="Whether it authenticates now (not revoked, not expired).")
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > editorial.now())


@strawberry.type(description="The result of createApiToken; the secret is shown here only.")
class ApiTokenPayload:
    token: ApiToken | None = strawberry.field(default=None, description="The token.")
    secret: str | None = strawberry.field(default=None, description="Send as `Authorization: Bearer <secret>`; store it now.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.input(description="A link for the \"stay connected\" block.")
class SocialLinkInput:
    network: str = strawberry.field(description="Network name, lower case (x, facebook, rss ...).")
    url: str = strawberry.field(description="http(s) address of the account.")


@strawberry.input(description="Site settings to change: only the fields given change.")
class SiteSettingsInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="The site's name.")
    tagline: str | None = strawberry.field(default=strawberry.UNSET, description="The tagline.")
    social_links: list[SocialLinkInput] | None = strawberry.field(default=strawberry.UNSET, description="All social links, in order.")
    auto_approve_known_commenters: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Publish at once comments that carry the commenterToken issued with one of the same commenter's "
        "approved comments (an email alone is never enough).",
    )


@strawberry.type(description="The result of updateSiteSettings.")
class SiteSettingsPayload:
    site: Site | None = strawberry.field(default=None, description="The settings afterwards.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


def _errors(error: service_errors.UserError) -> list[UserError]:
    return [UserError.from_exception(error)]


@strawberry.type(description="The result of uploadImage.")
class ImagePayload:
    image: MediaImage | None = strawberry.field(default=None, description="The new library image.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="What to fix; empty on success.")


@strawberry.type
class EditorialMutation:
    @strawberry.mutation(
        description="Upload an image (editor) as a GraphQL multipart request. Checked by content: JPEG, PNG, WebP "
        "or GIF, at most 10 MB and 40 megapixels. focalX/focalY (0..1) keep the subject in crops."
    )
    async def upload_image(
        self, info: Info, file: Upload, alt: str = "", title: str = "", credit: str = "",
        focal_x: float | None = None, focal_y: float | None = None,
    ) -> ImagePayload:
        try:
            await _actor(info, Role.EDITOR)
            if not hasattr(file, "read"):
                raise service_errors.UserError("Send the file as a multipart upload (variables.file).",
                                               service_errors.ErrorCode.INVALID, field="file")
            data = await file.read(media.MAX_UPLOAD_BYTES + 1)  # one byte over is enough to refuse
            image = await media.add_image(
                media.LocalStorage(info.context.settings.media_dir), data, title=title, alt=alt, credit=credit,
                focal_x=focal_x, focal_y=focal_y,
            )
        except service_errors.UserError as error:
            return ImagePayload(errors=_errors(error))
        return ImagePayload(image=image)

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
            subtree = await models.Page.filter(path__startswith=page.path).values_list("id", "kind")
            await editorial.delete(page, by)
        except service_errors.UserError as error:
            return DeletePagePayload(errors=_errors(error))
        return DeletePagePayload(page=page, deleted_ids=[strawberry.ID(ids.to_global_id(ids.PAGE_TYPE_NAMES[PageKind(k)], i)) for i, k in subtree])

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
        page = await models.Page.get(id=page.id)
        return PagePayload(page=page, status=page, revision=revision)

    @strawberry.mutation(description="Take a page and its subtree off the site (publisher); drafts are kept.")
    async def unpublish_page(self, info: Info, id: strawberry.ID) -> PagePayload:
        try:
            by = await _actor(info, Role.PUBLISHER)
            page = await _page(id)
            await editorial.unpublish(page, by)
        except service_errors.UserError as error:
            return PagePayload(errors=_errors(error))
        page = await models.Page.get(id=page.id)
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

    @strawberry.mutation(description="Add a redirect from an old path to a page or a path (editor). Loops are refused.")
    async def create_redirect(
        self, info: Info, old_path: str, target_path: str | None = None, target_page_id: strawberry.ID | None = None,
        is_permanent: bool = True,
    ) -> RedirectPayload:
        try:
            await _actor(info, Role.EDITOR)
            page = await _page(target_page_id, "target_page_id") if target_page_id is not None else None
            redirect = await redirects.add(old_path, target_path=target_path, page=page, is_permanent=is_permanent)
        except service_errors.UserError as error:
            return RedirectPayload(errors=_errors(error))
        return RedirectPayload(redirect=redirect)

    @strawberry.mutation(description="Delete a redirect (editor).")
    async def delete_redirect(self, info: Info, id: strawberry.ID) -> RedirectPayload:
        try:
            await _actor(info, Role.EDITOR)
            redirect = await models.Redirect.get_or_none(id=_plain_id(id, "id"))
            if redirect is None:
                raise service_errors.UserError("There is no such redirect.", service_errors.ErrorCode.NOT_FOUND, field="id")
            await redirect.delete()
        except service_errors.UserError as error:
            return RedirectPayload(errors=_errors(error))
        return RedirectPayload(redirect=redirect)

    @strawberry.mutation(description="Register a webhook endpoint (admin). The secret is returned once.")
    async def register_webhook(
        self, info: Info, url: str, events: list[WebhookEvent], secret: str | None = None
    ) -> WebhookPayload:
        try:
            await _actor(info, Role.ADMIN)
            hook = await webhooks.register(url, [e.value for e in events], secret, info.context.settings.webhook_allow_private)
        except service_errors.UserError as error:
            return WebhookPayload(errors=_errors(error))
        return WebhookPayload(webhook=hook, secret=hook.secret)

    @strawberry.mutation(description="Make an API token (admin); its secret is in the payload, once.")
    async def create_api_token(
        self, info: Info, name: str, role: TokenRole, expires_in_days: int | None = None
    ) -> ApiTokenPayload:
        from datetime import timedelta

        from service import auth

        try:
            await _actor(info, Role.ADMIN)
            if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
                raise service_errors.UserError("expiresInDays is 1 to 3650.", service_errors.ErrorCode.INVALID, field="expires_in_days")
            raw, token = await auth.create_token(
                name=name, role=role, expires_in=timedelta(days=expires_in_days) if expires_in_days else None
            )
        except service_errors.UserError as error:
            return ApiTokenPayload(errors=_errors(error))
        return ApiTokenPayload(token=token, secret=raw)

    @strawberry.mutation(description="Revoke an API token (admin): it stops working at once.")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> ApiTokenPayload:
        from service import auth

        try:
            await _actor(info, Role.ADMIN)
            token_id = _plain_id(id, "id")
            if not await auth.revoke_token(token_id):
                raise service_errors.UserError("No active token with that id.", service_errors.ErrorCode.NOT_FOUND, field="id")
        except service_errors.UserError as error:
            return ApiTokenPayload(errors=_errors(error))
        return ApiTokenPayload(token=await models.ApiToken.get(id=token_id))

    @strawberry.mutation(description="Change the site name, tagline, social links or comment policy (admin).")
    async def update_site_settings(self, info: Info, input: SiteSettingsInput) -> SiteSettingsPayload:
        try:
            await _actor(info, Role.ADMIN)
            changes: dict[str, Any] = {}
            for name in ("name", "tagline", "auto_approve_known_commenters"):
                value = getattr(input, name)
                if value is not strawberry.UNSET and value is not None:
                    changes[name] = value
            if input.social_links is not strawberry.UNSET and input.social_links is not None:
                changes["social_links"] = [{"network": link.network, "url": link.url} for link in input.social_links]
            await editorial.update_site_settings(changes)
        except service_errors.UserError as error:
            return SiteSettingsPayload(errors=_errors(error))
        return SiteSettingsPayload(site=await content.site_settings())

    @strawberry.mutation(description="Remove a webhook endpoint and its delivery records (admin).")
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> WebhookPayload:
        try:
            await _actor(info, Role.ADMIN)
            hook = await models.Webhook.get_or_none(id=_plain_id(id, "id"))
            if hook is None:
                raise service_errors.UserError("There is no such webhook.", service_errors.ErrorCode.NOT_FOUND, field="id")
            await hook.delete()
        except service_errors.UserError as error:
            return WebhookPayload(errors=_errors(error))
        return WebhookPayload(webhook=hook)


@strawberry.type
class EditorialQuery:
    @strawberry.field(description="Where an old path leads, chains followed; null when it does not redirect.")
    async def redirect(self, path: str) -> Redirect | None:
        try:
            target = await redirects.resolve(path)
        except service_errors.UserError as error:
            raise BadInput(error.message, "path") from None
        return Redirect(target=target.path, is_permanent=target.is_permanent) if target else None

    @strawberry.field(description="Every stored redirect, newest first (editor).")
    async def redirects(self, info: Info, first: int = 50, after: int | None = None) -> list[RedirectRule]:
        try:
            await _require(info, Role.EDITOR)
        except service_errors.UserError as error:
            raise _query_guard(error) from None
        check_first(first, 100)
        query = models.Redirect.all()
        if after is not None:
            query = query.filter(id__lt=after)
        return await query.order_by("-id").limit(first)

    @strawberry.field(description="Revisions of a page, newest first (editor).")
    async def revisions(
        self, info: Info, page_id: strawberry.ID, first: int = 20, after: str | None = None
    ) -> RevisionConnection:
        try:
            await _require(info, Role.EDITOR)
            page = await _page(page_id, "page_id")
        except service_errors.UserError as error:
            raise _query_guard(error) from None
        check_first(first, 100)
        try:
            found = await revisions.page_revisions(page.id, first, after)
        except service_errors.UserError as error:
            raise BadInput.from_user_error(error) from None
        loaders = info.context.loaders
        loaders.editable_page_by_id.prime(page.id, page)  # read above: isLatest, isLive need no more
        for revision_id, previous in found.previous.items():
            loaders.previous_content_by_revision_id.prime(revision_id, previous)
        return RevisionConnection(
            edges=[RevisionEdge(cursor=c, node=r) for c, r in zip(found.cursors, found.items)],
            page_info=PageInfo.of(found.cursors, found.has_next, after is not None),
            total_count=found.total,
        )

    @strawberry.field(description="What changed from one revision of a page to another (editor).")
    async def compare_revisions(
        self, info: Info, page_id: strawberry.ID, from_revision_id: strawberry.ID, to_revision_id: strawberry.ID
    ) -> list[RevisionChange]:
        try:
            await _require(info, Role.EDITOR)
            page = await _page(page_id, "page_id")
            found = {}
            for value, name in ((from_revision_id, "from_revision_id"), (to_revision_id, "to_revision_id")):
                revision = await models.PageRevision.get_or_none(id=_pk(value, {REVISION}, name), page_id=page.id)
                if revision is None:
                    raise service_errors.UserError("That revision does not belong to this page.", service_errors.ErrorCode.NOT_FOUND, field=name)
                found[name] = revision
        except service_errors.UserError as error:
            raise _query_guard(error) from None
        return [RevisionChange(**c) for c in editorial.compare(found["from_revision_id"].content, found["to_revision_id"].content)]

    @strawberry.field(description="A page's workflow state, live or not (editor).")
    async def page_status(self, info: Info, id: strawberry.ID) -> PageStatus | None:
        try:
            await _require(info, Role.EDITOR)
            pk = _pk(id, set(ids.PAGE_TYPE_NAMES.values()), "id")
        except service_errors.UserError as error:
            raise _query_guard(error) from None
        return await models.Page.get_or_none(id=pk)

    @strawberry.field(description="API tokens, newest first, never their secrets (admin).")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        try:
            await _require(info, Role.ADMIN)
        except service_errors.UserError as error:
            raise _query_guard(error) from None
        return await models.ApiToken.all().order_by("-id")

    @strawberry.field(description="Authors, by name, with their ids (for CreateArticleInput.authorIds).")
    async def authors(self) -> list[MediaAuthor]:
        return await models.Author.all().order_by("name", "id")

    @strawberry.field(description="The image library, newest first (editor).")
    async def images(self, info: Info, first: int = 20, before_id: int | None = None) -> list[MediaImage]:
        try:
            await _require(info, Role.EDITOR)
        except service_errors.UserError as error:
            raise _query_guard(error) from None
        check_first(first, 100)
        query = models.Image.all()
        if before_id is not None:
            query = query.filter(id__lt=before_id)
        return await query.order_by("-id").limit(first)

    @strawberry.field(description="Registered webhook endpoints (admin).")
    async def webhooks(self, info: Info) -> list[Webhook]:
        try:
            await _require(info, Role.ADMIN)
        except service_errors.UserError as error:
            raise _query_guard(error) from None
        return await models.Webhook.all().order_by("id")


async def preview(info: Info, token: str, *, url_path: str | None = None, page_pk: int | None = None) -> models.Page:
    """The draft a preview token grants, checked against the page asked for."""
    try:
        grant = editorial.read_preview_token(info.context.settings.preview_secret, token)
    except service_errors.UserError as error:
        raise GraphQLError(error.message, extensions={"code": error.code.value, "argument": "previewToken"}) from None
    row = await models.Page.get_or_none(id=grant.page_id)
    if row is None:
        raise GraphQLError("The previewed page no longer exists.", extensions={"code": "NOT_FOUND", "argument": "previewToken"})
    revision = None
    if grant.revision_id is not None:
        revision = await models.PageRevision.get_or_none(id=grant.revision_id, page_id=row.id)
    elif row.latest_revision_id is not None:
        revision = await models.PageRevision.get_or_none(id=row.latest_revision_id)
    data = revision.content if revision else await editorial.snapshot(row)
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


EDITORIAL_TYPES = [Revision, PageStatus, RedirectRule, Webhook, WebhookDelivery, ApiToken]
