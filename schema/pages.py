"""Pages: the Page interface, its three kinds, article lists, and their query fields.

Resolvers receive tortoise `models.Page` rows as `self`; each type recognises its
rows by `kind` (is_type_of), so no copy is made between the ORM and GraphQL.
Relations are plain functions returning the loader's future: an already-loaded
relation then costs no coroutine, which matters on lists of twenty comments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from typing import Annotated

import strawberry

from schema import blocks as block_types
from schema import references as page_references
from schema.caching import held, may_share
from schema.comments import CommentConnection
from schema.context import Info
from schema.errors import BadInput, check_first
from schema.loaders import load_now, then
from schema.locales import Translation, page_translations
from schema.media import Author, Image, Rendition, Tag, rendition_of
from schema.node import Connection, Edge, Node
from service import blocks, content, listing, models, site, threads
from service.errors import UserError
from service.models import PageKind


@strawberry.interface(description="A page of the site tree: the home page, a section or an article.")
class Page(Node):
    title: str = strawberry.field(description="The page title.")
    slug: str = strawberry.field(description="The last part of the page's URL path.")
    search_description: str = strawberry.field(description="Meta description for search engines and link previews.")
    live: bool = strawberry.field(description="Whether the page is published (always true on the public API).")
    first_published_at: datetime | None = strawberry.field(description="When the page was first published.")
    last_published_at: datetime | None = strawberry.field(description="When the page was last published.")
    depth: int = strawberry.field(description="Depth in the tree: 1 for the home page, 2 for top-level sections.")
    position: int = strawberry.field(description="Position among its siblings, from 0, in menu order.")
    show_in_menus: bool = strawberry.field(
        description="Whether the page is listed in navigation built from the tree (Wagtail's show_in_menus): "
        "`sections(inMenu: true)` and `children(inMenu: true)`. Sections default to true, articles to false."
    )

    locale: str = strawberry.field(description="The page's locale, a BCP 47 tag: its tree's (`Site.locales`).")
    translation_key: str = strawberry.field(description="Shared by a page and its translations (Wagtail's "
                                            "translation_key): one page per locale.")

    @strawberry.field(description="The page's live translations into the site's other locales (not the page "
                      "itself), by locale: for language switchers and hreflang links.")
    def translations(self, info: Info) -> list[Translation]:
        return page_translations(self, info)

    @strawberry.field(description="URL path of the page, from the site root, with a trailing slash: `/world-news/`.")
    def url(self) -> str:
        return self.url_path

    @strawberry.field(description="Same as `url`, under Wagtail's name.")
    def url_path(self) -> str:
        return self.url_path

    @strawberry.field(description="Title for the HTML <title> element; the page title when no SEO title is set.")
    def seo_title(self) -> str:
        return self.seo_title or self.title

    @strawberry.field(description="Absolute URL of the page on the public site, for <link rel=\"canonical\"> and "
                      "og:url: `Site.baseUrl` followed by `url`.")
    def canonical_url(self, info: Info) -> str:
        default = info.context.settings.public_base_url
        return then(load_now(info.context.loaders.site, 0), lambda settings: site.base_url(settings, default) + self.url_path)

    @strawberry.field(description="Image for link previews (og:image): for an article with a hero image, a 1200x630 "
                      "crop of it around its focal point; otherwise the site logo fitted inside 1200x630 (never "
                      "enlarged); null when there is neither. Images known by URL only give the original. The URL "
                      "is a path on this API (`/media/...`): prefix it with the API's origin, not `Site.baseUrl`, "
                      "for an absolute og:image.")
    def og_image(self, info: Info) -> Rendition | None:
        hero_id = self.hero_image_id if self.kind == PageKind.ARTICLE else None
        if hero_id is not None:
            return then(load_now(info.context.loaders.image_by_id, hero_id),
                        lambda image: None if image is None else rendition_of(image, info, 1200, 630, True))
        return _logo_card(info)

    @strawberry.field(description="Ancestors from the home page down to the parent, for breadcrumbs.")
    async def ancestors(self, info: Info) -> list[Page]:
        pages = await info.context.loaders.page_by_id.load_many(content.ancestor_ids(self))
        return [page for page in pages if page is not None]

    @strawberry.field(description="The parent page; null for the home page.")
    def parent(self, info: Info) -> Page | None:
        if self.parent_id is None:
            return None
        return load_now(info.context.loaders.page_by_id, self.parent_id)

    @strawberry.field(
        description="Child pages for navigation (sections), in menu order. Articles are listed by `articles`. "
        "With `inMenu: true`, the children whose `showInMenus` is set instead, of any kind (an article an editor "
        "flagged included)."
    )
    def children(
        self,
        info: Info,
        in_menu: Annotated[bool, strawberry.argument(description="Only pages shown in menus (`showInMenus`), of any kind.")] = False,
    ) -> list[Page]:
        if self.kind == PageKind.ARTICLE:
            return []
        loaders = info.context.loaders
        return (loaders.menu_children if in_menu else loaders.navigation_children).load(self.id)

    references = page_references.references_field()
    linked_from = page_references.linked_from_field()


async def _logo_card(info: Info) -> Rendition | None:
    settings = await info.context.loaders.site.load(0)
    logo = await info.context.loaders.image_by_id.load(settings.logo_id) if settings.logo_id is not None else None
    return None if logo is None else rendition_of(logo, info, 1200, 630, False)


def _is_kind(kind: PageKind):
    def is_type_of(cls, obj, info) -> bool:
        return isinstance(obj, models.Page) and obj.kind == kind

    return classmethod(is_type_of)


async def article_connection(info: Info, flt: listing.ArticleFilter, first: int, after: str | None,
                             section_id: int | None = None) -> ArticleConnection:
    check_first(first, info.context.settings.max_page_size)
    try:
        page = await listing.list_articles(flt, first, after)
    except UserError as error:
        raise BadInput.from_user_error(error) from None
    _record_list(info, flt, page.items, section_id)
    return ArticleConnection.of(
        page.cursors, page.items, page.has_next, page.has_previous, count=lambda: listing.count_articles(flt)
    )


def _record_list(info: Info, flt: listing.ArticleFilter, items: list[models.Page], section_id: int | None) -> None:
    """The surrogate keys of an article list: its cards, and the list key(s) a publish purges.

    Slug filters name their tag, author or section by id, read off what the cards
    loaded (their tags, authors, sections) once execution is over; a list whose id
    stays unknown (empty, or cards that did not ask) is keyed `articles`, which every
    publish purges.
    """
    surrogate, loaders = info.context.surrogate, info.context.loaders
    surrogate.pages(items)
    if section_id is not None:
        surrogate.add(f"articles:s:{section_id}")
    if flt.search is not None:
        surrogate.add("search")
    if flt.section_path is None and flt.search is None and not (flt.section_slug or flt.tag or flt.author):
        surrogate.add("articles")
    first = items[0].id if items else None

    def named(loader, slug: str, kind: str) -> list[str]:
        for item in held(loader, first) or ():
            if item.slug == slug:
                return [f"{kind}:{item.id}"]
        return ["articles"]

    def section() -> list[str]:
        for item in items:
            parent = held(loaders.page_by_id, item.parent_id)
            if parent is not None and parent.kind == PageKind.SECTION and parent.slug == flt.section_slug:
                return [f"articles:s:{parent.id}"]
        return ["articles"]

    if flt.tag is not None:
        surrogate.later(lambda: named(loaders.tags_by_article_id, flt.tag, "tag"))
    if flt.author is not None:
        surrogate.later(lambda: named(loaders.authors_by_article_id, flt.author, "author"))
    if flt.section_slug is not None:
        surrogate.later(section)


@strawberry.type(description="The root of the site tree.")
class HomePage(Page):
    is_type_of = _is_kind(PageKind.HOME)


@strawberry.type(description="A section front, such as World News; sections nest (World News > Europe).")
class SectionPage(Page):
    description: str = strawberry.field(description="Introductory text of the section.")
    is_type_of = _is_kind(PageKind.SECTION)

    @strawberry.field(description="Articles of this section and its sub-sections, newest first.")
    async def articles(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 10,
        after: Annotated[str | None, strawberry.argument(description="Cursor of the article to continue after.")] = None,
    ) -> ArticleConnection:
        return await article_connection(info, listing.ArticleFilter(section_path=self.path), first, after, self.id)


@strawberry.type(description="A news article.")
class ArticlePage(Page):
    headline: str = strawberry.field(description="Display headline, which may differ from the page title.")
    summary: str = strawberry.field(description="Standfirst: one or two sentences under the headline.")
    published_at: datetime = strawberry.field(description="Publication date shown to readers.")
    source: str = strawberry.field(description='Source line, such as "By Agencies"; may be empty.')
    reading_time: int = strawberry.field(description="Estimated reading time in minutes.")
    comments_enabled: bool = strawberry.field(description="Whether readers may comment.")
    comment_count: int = strawberry.field(
        description="All approved comments on the article, at every depth: top-level comments plus every approved "
        "reply. For a \"12 comments\" label. Pending, rejected, spam and removed comments are never counted."
    )
    is_type_of = _is_kind(PageKind.ARTICLE)

    @strawberry.field(description="The section the article belongs to.")
    def section(self, info: Info) -> SectionPage:
        return load_now(info.context.loaders.page_by_id, self.parent_id)

    @strawberry.field(description="Authors, in byline order.")
    def authors(self, info: Info) -> list[Author]:
        return info.context.loaders.authors_by_article_id.load(self.id)

    @strawberry.field(description="Tags, in the editor's order.")
    def tags(self, info: Info) -> list[Tag]:
        return info.context.loaders.tags_by_article_id.load(self.id)

    @strawberry.field(description="Lead image; null when the article has none.")
    def hero_image(self, info: Info) -> Image | None:
        if self.hero_image_id is None:
            return None
        loader = info.context.loaders.image_by_id
        # Queue the body's images in the same batch: one query for every image on the page.
        if self.body is not None:
            for image_id in blocks.image_ids(self.body):
                loader.load(image_id)
        return loader.load(self.hero_image_id)

    @strawberry.field(
        description="Approved top-level comments (threads) on the article; replies are not counted. Always equal to "
        "`comments.totalCount`: use it to page through `comments`."
    )
    def comment_thread_count(self) -> int:
        return self.thread_count

    @strawberry.field(description="Caption to print under `heroImage`: the article's own (set by editors with "
                      "`heroCaption` on the article inputs) when it has one, else the image's library caption "
                      "(`Image.caption`); empty when the article has no hero image or neither has a caption.")
    def hero_caption(self, info: Info) -> str:
        if self.hero_image_id is None:
            return ""
        if self.hero_caption:
            return self.hero_caption
        return then(load_now(info.context.loaders.image_by_id, self.hero_image_id),
                    lambda image: image.caption if image is not None else "")

    @strawberry.field(description="The article body as typed blocks, in order.")
    def body(self, info: Info) -> list[block_types.Block]:
        if self.body is None:  # a row from a list query, which leaves bodies out
            return _body_later(info, self.id)
        return block_types.from_stored(self.body, info)

    @strawberry.field(
        description="Related articles: the editor's picks first, then automatic matches "
        "(most shared tags, then same section, newest first). Never this article, never a duplicate."
    )
    async def related(
        self, info: Info, first: Annotated[int, strawberry.argument(description="How many, 0 to 20.")] = 4
    ) -> list[ArticlePage]:
        check_first(first, 20)
        loaders = info.context.loaders
        # A newly published article sharing a tag or the section may join the list: key it by both.
        info.context.surrogate.add(f"articles:s:{self.parent_id}")
        # The article's tags name the lists too; read in the same batch as the page's own `tags`.
        tags = loaders.tags_by_article_id.load(self.id) if may_share(info.context) else None
        related, sections = await loaders.related.load((self, first))
        if tags is not None:
            await tags
        info.context.surrogate.pages(related)
        for section in sections:  # read with the articles: their cards show the section
            loaders.page_by_id.prime(section.id, section)
        return related

    @strawberry.field(description="Approved top-level comments (threads), oldest first, each with its approved "
                      "replies; `totalCount` counts the threads, as `commentThreadCount` does.")
    async def comments(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Top-level comments per page, 0 to 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor of the comment to continue after.")] = None,
    ) -> CommentConnection:
        check_first(first, info.context.settings.max_page_size)
        info.context.surrogate.add(f"c:{self.id}")
        try:
            thread = await threads.comment_thread(self.id, first, after)
        except UserError as error:
            raise BadInput.from_user_error(error) from None
        for comment_id, replies in thread.replies.items():
            info.context.loaders.replies_by_comment_id.prime(comment_id, replies)
        return CommentConnection.of(
            thread.cursors, thread.items, thread.has_next, thread.has_previous, count=self.thread_count
        )


# Named ArticleEdge, not ArticlePageEdge (what Edge[ArticlePage] would be called), as it always was.
@strawberry.type(description="An article and its cursor.")
class ArticleEdge(Edge[ArticlePage]):
    pass


@strawberry.type(description="A page of articles with cursor pagination (Relay connection).")
class ArticleConnection(Connection[ArticlePage]):
    edges: list[ArticleEdge] = strawberry.field(description="The articles on this page.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of articles matching the filters, across all pages.")
    async def total_count(self) -> int:
        return await self.count()

    @strawberry.field(description="The articles on this page, without cursors.")
    def nodes(self) -> list[ArticlePage]:
        return [edge.node for edge in self.edges]


async def _body_later(info: Info, page_id: int) -> list[block_types.Block]:
    found = block_types.from_stored(await info.context.loaders.body_by_page_id.load(page_id), info)
    return found if isinstance(found, list) else await found


PAGE_TYPES = [HomePage, SectionPage, ArticlePage]
