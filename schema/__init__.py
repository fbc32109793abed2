"""The GraphQL schema: Query root and the schema object, built once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema import editorial, guard, ids, scalars
from schema.blocks import BLOCK_TYPES
from schema.comments import Comment
from schema.context import Info
from schema.errors import BadInput, log_errors
from schema.node import Node
from schema.pages import PAGE_TYPES, ArticleConnection, Page, SectionPage, article_connection
from schema.references import REFERENCE_TYPES, ReferenceQuery
from schema.editorial import EDITORIAL_TYPES, EditorialMutation, EditorialQuery
from schema.menus import MENU_TYPES, MenuMutation, MenuQuery
from schema.moderation import MODERATION_TYPES, ModerationMutation, ModerationQuery, Subscription
from schema.runtime import direct, executor
from schema.runtime.graphql_internals import core_schema
from schema.site import Site

from service.http import RequestState
from service import content, listing, locales
from service.errors import UserError


@strawberry.type(description="Entry points of the Masthead content API.")
class Query(EditorialQuery, ModerationQuery, MenuQuery, ReferenceQuery):
    @strawberry.field(
        description="A live page by its URL path (`/`, `/world-news/`, ...); null when there is none. "
        "With a `previewToken` (createPreviewToken), the draft of the page the token was made for."
    )
    async def page(
        self,
        info: Info,
        url_path: Annotated[str, strawberry.argument(description="The page's path: `/`, `/world-news/`, `/world-news/some-article/`.")],
        preview_token: Annotated[str | None, strawberry.argument(description="A token from createPreviewToken.")] = None,
    ) -> Page | None:
        if len(url_path) > 1024:
            raise BadInput("`urlPath` is longer than 1024 characters.", "urlPath")
        if preview_token is not None:
            info.context.surrogate.private()
            return await editorial.preview(info, preview_token, url_path=url_path)
        page = await content.page_by_url_path(url_path)
        info.context.surrogate.page(page)
        return page

    @strawberry.field(
        description="Any page, comment or tag by its global id; null when it does not exist or is not public "
        "(a tag is public while a public article carries it). "
        "With a `previewToken`, the draft of the page the token was made for."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id, as `id` fields return it.")],
        preview_token: Annotated[str | None, strawberry.argument(description="A token from createPreviewToken.")] = None,
    ) -> Node | None:
        type_name, pk = ids.from_global_id(id)
        if preview_token is not None:
            info.context.surrogate.private()
        if preview_token is not None and type_name not in ("Comment", "Tag"):
            return await editorial.preview(info, preview_token, page_pk=pk)
        loaders = info.context.loaders
        if type_name == "Comment":
            return await loaders.comment_by_id.load(pk)
        if type_name == "Tag":
            return await loaders.tag_by_id.load(pk)
        page = await loaders.page_by_id.load(pk)
        if page is None or ids.PAGE_TYPE_NAMES[page.kind] != type_name:
            return None
        return page

    @strawberry.field(description="Site settings: name, tagline, social links, and where the public site lives "
                      "(base URL, locale, logo, tag and author page prefixes).")
    async def site(self, info: Info) -> Site:
        return await info.context.loaders.site.load(0)  # the loader records the `site` key

    @strawberry.field(description="Top-level sections, in menu order.")
    async def sections(
        self,
        info: Info,
        in_menu: Annotated[bool, strawberry.argument(description="Only sections shown in menus (`showInMenus`).")] = False,
        locale: Annotated[str | None, strawberry.argument(description="The locale whose tree to read (`fr`); the "
                                                          "site's default locale when left out.")] = None,
    ) -> list[SectionPage]:
        found = await content.top_sections(in_menu, _locale_arg(locale))
        info.context.surrogate.add("sections")
        info.context.surrogate.pages(found)
        return found

    @strawberry.field(description="Live articles, newest first (by relevance when `search` is given), with filters.")
    async def articles(
        self,
        info: Info,
        section: Annotated[str | None, strawberry.argument(description="Section slug; articles of its sub-sections are included.")] = None,
        tag: Annotated[str | None, strawberry.argument(description="Tag slug.")] = None,
        author: Annotated[str | None, strawberry.argument(description="Author slug.")] = None,
        search: Annotated[str | None, strawberry.argument(description="Full-text search over title, headline, summary and body, ranked by relevance.")] = None,
        published_after: Annotated[datetime | None, strawberry.argument(description="Only articles published at or after this time.")] = None,
        published_before: Annotated[datetime | None, strawberry.argument(description="Only articles published before this time.")] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 10,
        after: Annotated[str | None, strawberry.argument(description="Cursor of the item to continue after.")] = None,
        locale: Annotated[str | None, strawberry.argument(description="Only articles in this locale (`fr`), searched "
                                                          "with its language's stemming; the site's default locale "
                                                          "when left out.")] = None,
    ) -> ArticleConnection:
        if search is not None and len(search) > 256:
            raise BadInput("`search` is longer than 256 characters.", "search")
        for value, name in ((published_after, "publishedAfter"), (published_before, "publishedBefore")):
            if value is not None and value.tzinfo is None:
                raise BadInput(f"`{name}` needs a time zone, such as 2024-07-16T00:00:00Z.", name)
        flt = listing.ArticleFilter(
            section_slug=section,
            tag=tag,
            author=author,
            search=search,
            published_after=published_after,
            published_before=published_before,
            locale=_locale_arg(locale) or "",
        )
        return await article_connection(info, flt, first, after)


def _locale_arg(value: str | None) -> str | None:
    """A `locale` argument in its stored form (`pt-br` -> `pt-BR`); BAD_USER_INPUT when it is no BCP 47 tag."""
    if value is None:
        return None
    try:
        return locales.clean_locale(value)
    except UserError as error:
        raise BadInput(error.message, "locale") from None


@strawberry.type(description="Changes: comments, moderation and the editorial workflow.")
class Mutation(EditorialMutation, ModerationMutation, MenuMutation):
    pass


class MastheadSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Log errors without strawberry's default, which logs each one with a traceback and the
        document's source around it (a parse error's excerpt can hold an email address).

        Over HTTP the view logs them (schema/http.py), once their codes are final.
        """
        request = getattr(getattr(execution_context, "context", None), "request", None)
        if (getattr(request, "scope", None) or {}).get("type") == "http":
            return
        state = RequestState.of(request)
        log_errors(errors, state.request_id if state is not None else "-")


schema = MastheadSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[*PAGE_TYPES, *BLOCK_TYPES, Comment, *MODERATION_TYPES, *EDITORIAL_TYPES, *MENU_TYPES, *REFERENCE_TYPES],
    extensions=[guard.Guard],
    execution_context_class=executor.Executor,
    scalar_overrides=scalars.SCALAR_OVERRIDES,
)


DIRECT_RESOLVERS = direct.install(schema)
DIRECT_LEAVES = executor.plan(core_schema(schema))

__all__ = ["schema"]
