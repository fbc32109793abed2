"""Editorial inputs (body blocks, articles, sections, site settings) and their translation to service dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from schema import ids
from schema.errors import camel
from service import models, pages, publishing
from service import errors as service_errors
from service.errors import is_row_id


def window_arguments(go_live_at: Any, expire_at: Any) -> tuple[Any, Any]:
    """Window arguments for the service: UNSET (left out) becomes KEEP; times need a zone."""
    out = []
    for value, name in ((go_live_at, "go_live_at"), (expire_at, "expire_at")):
        if value is strawberry.UNSET:
            out.append(publishing.KEEP)
            continue
        if value is not None and value.tzinfo is None:
            raise service_errors.UserError(f"{camel(name)} needs a time zone.", service_errors.ErrorCode.INVALID, field=name)
        out.append(value)
    return out[0], out[1]


def plain_id(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not is_row_id(str(value)):
        raise service_errors.UserError(f"{camel(field)} must be a numeric id.", service_errors.ErrorCode.INVALID, field=field)
    return int(value)


async def page_arg(value: str, field: str = "id") -> models.Page:
    pk = ids.global_pk(value, set(ids.PAGE_TYPE_NAMES.values()), field)
    page = await pages.page_by_id(pk)
    if page is None:
        raise service_errors.UserError("There is no such page.", service_errors.ErrorCode.NOT_FOUND, field=field)
    return page


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
            fields = {"image_id": plain_id(value.image_id, f"body.{index}"), "caption": value.caption or ""}
        return {"id": value.id, "type": kind, "value": fields}
    raise service_errors.UserError(f"Block {index + 1}: set one block type.", service_errors.ErrorCode.INVALID_BLOCK, field=f"body.{index}")


def article_changes(input: Any) -> dict:
    """Service-side content from an article input: only the fields the caller set."""
    changes: dict[str, Any] = {}
    plain = ("title", "slug", "headline", "summary", "source", "seo_title", "search_description", "comments_enabled",
             "hero_caption", "show_in_menus")
    for name in plain:
        value = getattr(input, name, strawberry.UNSET)
        if value is not strawberry.UNSET and value is not None:
            changes[name] = value
    if (value := getattr(input, "published_at", strawberry.UNSET)) is not strawberry.UNSET:
        changes["published_at"] = value.isoformat() if value else None
    if (value := getattr(input, "section_id", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["section_id"] = ids.global_pk(value, {"SectionPage"}, "section_id")
    if (value := getattr(input, "tags", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["tags"] = list(value)
    if (value := getattr(input, "author_ids", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["author_ids"] = [plain_id(v, "author_ids") for v in value]
    if (value := getattr(input, "related_ids", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["related_ids"] = [ids.global_pk(v, {"ArticlePage"}, "related_ids") for v in value]
    if (value := getattr(input, "hero_image_id", strawberry.UNSET)) is not strawberry.UNSET:
        changes["hero_image_id"] = plain_id(value, "hero_image_id")
    if (value := getattr(input, "body", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["body"] = [_block(i, b) for i, b in enumerate(value)]
    return changes


def section_changes(input: Any) -> dict:
    changes: dict[str, Any] = {}
    for name in ("title", "slug", "description", "seo_title", "search_description", "show_in_menus"):
        value = getattr(input, name, strawberry.UNSET)
        if value is not strawberry.UNSET and value is not None:
            changes[name] = value
    if (value := getattr(input, "parent_id", strawberry.UNSET)) not in (strawberry.UNSET, None):
        changes["parent_id"] = ids.global_pk(value, {"HomePage", "SectionPage"}, "parent_id")
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
    hero_caption: str | None = strawberry.field(default=None, description="The article's own caption for its hero image; left out or empty, readers see the image's library caption.")
    body: list[BodyBlockInput] | None = strawberry.field(default=None, description="Body blocks, in order.")
    seo_title: str | None = strawberry.field(default=None, description="Title for search engines.")
    search_description: str | None = strawberry.field(default=None, description="Meta description.")
    comments_enabled: bool | None = strawberry.field(default=None, description="Whether readers may comment (default true).")
    show_in_menus: bool | None = strawberry.field(default=None, description="List it in navigation built from the tree, `children(inMenu: true)` (default false).")


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
    hero_caption: str | None = strawberry.field(default=strawberry.UNSET, description="The article's own caption for its hero image; empty: the image's library caption.")
    body: list[BodyBlockInput] | None = strawberry.field(default=strawberry.UNSET, description="The whole body, replacing the current blocks.")
    seo_title: str | None = strawberry.field(default=strawberry.UNSET, description="Title for search engines.")
    search_description: str | None = strawberry.field(default=strawberry.UNSET, description="Meta description.")
    comments_enabled: bool | None = strawberry.field(default=strawberry.UNSET, description="Whether readers may comment.")
    show_in_menus: bool | None = strawberry.field(default=strawberry.UNSET, description="List it in navigation built from the tree (`children(inMenu: true)`), once published.")


@strawberry.input(description="A new section below the home page or another section; starts unpublished.")
class CreateSectionInput:
    parent_id: strawberry.ID = strawberry.field(description="Global id of the home page or a section.")
    title: str = strawberry.field(description="Section title.")
    slug: str | None = strawberry.field(default=None, description="URL slug, unique among sections; derived from the title.")
    description: str | None = strawberry.field(default=None, description="Introductory text.")
    seo_title: str | None = strawberry.field(default=None, description="Title for search engines.")
    search_description: str | None = strawberry.field(default=None, description="Meta description.")
    show_in_menus: bool | None = strawberry.field(default=None, description="List it in navigation built from the tree, `sections(inMenu: true)` and `children(inMenu: true)` (default true).")


@strawberry.input(description="Changes to a section: only the fields given change.")
class UpdateSectionInput:
    parent_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Move the section below this page (global id of the home page or a section).")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Page title.")
    slug: str | None = strawberry.field(default=strawberry.UNSET, description="URL slug.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Introductory text.")
    seo_title: str | None = strawberry.field(default=strawberry.UNSET, description="Title for search engines.")
    search_description: str | None = strawberry.field(default=strawberry.UNSET, description="Meta description.")
    show_in_menus: bool | None = strawberry.field(default=strawberry.UNSET, description="List it in navigation built from the tree (`sections(inMenu: true)`, `children(inMenu: true)`), once published.")


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
    base_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Origin of the public site, an http(s) URL without a path, query or fragment "
        "(`https://news.example.com`); empty or null: the service's MASTHEAD_PUBLIC_BASE_URL.",
    )
    locale: str | None = strawberry.field(default=strawberry.UNSET, description="The site's language, a BCP 47 tag such as en, en-GB or pt-BR.")
    locales: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The site's other locales (BCP 47 tags), each with its own tree at "
        "its prefix (`/fr/`); the whole list. Removing one that pages use is refused (LOCALE_IN_USE).")
    logo_image_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Id of a library image (Image.id) for the logo; null removes it."
    )
    tag_path_prefix: str | None = strawberry.field(default=strawberry.UNSET, description="Where tag pages live on the public site, such as /tags/ or /topics/.")
    author_path_prefix: str | None = strawberry.field(default=strawberry.UNSET, description="Where author pages live on the public site, such as /authors/ or /people/.")


def site_changes(input: SiteSettingsInput) -> dict:
    """Service-side site settings from the input: only the fields the caller set."""
    changes: dict[str, Any] = {}
    for name in ("name", "tagline", "auto_approve_known_commenters", "locale", "locales", "tag_path_prefix",
                 "author_path_prefix"):
        value = getattr(input, name)
        if value is not strawberry.UNSET and value is not None:
            changes[name] = value
    if input.base_url is not strawberry.UNSET:
        changes["base_url"] = input.base_url or ""
    if input.logo_image_id is not strawberry.UNSET:
        changes["logo_id"] = plain_id(input.logo_image_id, "logo_image_id")
    if input.social_links is not strawberry.UNSET and input.social_links is not None:
        changes["social_links"] = [{"network": link.network, "url": link.url} for link in input.social_links]
    return changes

