"""Body blocks: one GraphQL type per block type behind the `Block` interface."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.context import Info
from service import auth, blocks, ids, models, page_links

if TYPE_CHECKING:
    from schema.media import Image


@strawberry.interface(description="A block of an article body (Wagtail StreamField style).")
class Block:
    id: strawberry.ID = strawberry.field(description="Stable id of the block, kept across edits.")
    block_type: str = strawberry.field(
        description="The block's type name: paragraph, heading, quote, image or embed."
    )


@strawberry.type(description="Rich text: sanitised HTML (p, a, strong, em, lists).")
class ParagraphBlock(Block):
    html: str = strawberry.field(
        description="Sanitised HTML, safe to render as is. A link to a page of the site is written "
        "`<a href=\"/world/new-path/\" data-page-id=\"GLOBAL_ID\">` with the page's current URL (it follows moves "
        "and renames); a link to a page readers cannot see is its text alone. Editors (and previews) also get "
        "`<a data-page-id=\"GLOBAL_ID\">` without href for those, so a body read and saved back keeps its links."
    )

    @strawberry.field(description="The paragraph as plain text.")
    def text(self) -> str:
        return blocks.html_to_text(self.html)


@strawberry.type(description="A sub-heading inside the body.")
class HeadingBlock(Block):
    text: str = strawberry.field(description="Heading text.")
    level: int = strawberry.field(description="Heading level, 2 to 4 (the page title is level 1).")


@strawberry.type(description="A pull quote.")
class QuoteBlock(Block):
    text: str = strawberry.field(description="The quoted words.")
    attribution: str = strawberry.field(description="Who said it; may be empty.")


@strawberry.type(description="An image with its caption.")
class ImageBlock(Block):
    caption: str = strawberry.field(description="Caption shown under the image; may be empty.")
    image_id: strawberry.Private[int]

    @strawberry.field(description="The image; null if it has been deleted.")
    def image(self, info: Info) -> Annotated["Image", strawberry.lazy("schema.media")] | None:
        return info.context.loaders.image_by_id.load(self.image_id)


@strawberry.type(description="An embedded resource, such as a video.")
class EmbedBlock(Block):
    url: str = strawberry.field(description="URL of the embedded resource (http or https).")
    title: str = strawberry.field(description="Title of the embed; may be empty.")


def from_stored(body: list[dict], info: Info | None = None) -> list[Block] | Awaitable[list[Block]]:
    """Stored JSON blocks to their GraphQL objects; with `info`, paragraphs' page links
    resolved (an awaitable, only when the body has any)."""
    result: list[Block] = []
    for block in body:
        kind, value, block_id = block["type"], block["value"], block["id"]
        if kind == "paragraph":
            result.append(ParagraphBlock(id=block_id, block_type=kind, html=value["html"]))
        elif kind == "heading":
            result.append(HeadingBlock(id=block_id, block_type=kind, text=value["text"], level=value["level"]))
        elif kind == "quote":
            result.append(QuoteBlock(id=block_id, block_type=kind, text=value["text"], attribution=value["attribution"]))
        elif kind == "image":
            result.append(ImageBlock(id=block_id, block_type=kind, caption=value["caption"], image_id=value["image_id"]))
        elif kind == "embed":
            result.append(EmbedBlock(id=block_id, block_type=kind, url=value["url"], title=value["title"]))
    if info is not None:
        linked = [b for b in result if isinstance(b, ParagraphBlock) and page_links.ATTRIBUTE in b.html]
        if linked:
            return _with_links(info, result, linked)
    return result


async def _with_links(info: Info, result: list[Block], linked: list[ParagraphBlock]) -> list[Block]:
    """The paragraphs' stored links (`data-page-id="<row id>"`) as readers see them, targets read in one batch.

    The public loader records `p:<id>` for every target, shown or not: a move, a rename,
    an unpublish or a publish of a target purges the responses that link to it."""
    wanted = sorted({pk for block in linked for pk in page_links.stored_ids(block.html)})
    loaders = info.context.loaders
    public = {pk: page for pk, page in zip(wanted, await loaders.page_by_id.load_many(wanted)) if page is not None}
    hidden: dict[int, models.Page] = {}
    if len(public) < len(wanted) and await _sees_drafts(info):
        missing = [pk for pk in wanted if pk not in public]
        hidden = {pk: page for pk, page in zip(missing, await loaders.editable_page_by_id.load_many(missing)) if page is not None}

    def replace(attrs: dict[str, str], inner: str) -> str | None:
        value = attrs.get(page_links.ATTRIBUTE)
        if value is None or not (value.isascii() and value.isdigit()):
            return None
        page = public.get(int(value))
        if page is not None:
            return page_links.anchor({"href": page.url_path, page_links.ATTRIBUTE: ids.global_id(page)}, inner)
        page = hidden.get(int(value))
        return inner if page is None else page_links.anchor({page_links.ATTRIBUTE: ids.global_id(page)}, inner)

    for block in linked:
        block.html = page_links.rewrite(block.html, replace)
    return result


async def _sees_drafts(info: Info) -> bool:
    """A preview, or an editor's request: links to pages readers cannot see keep their reference."""
    if info.context.preview_until is not None:
        return True
    token = await info.context.token()
    return token is not None and auth.allows(token.role, models.Role.EDITOR)


BLOCK_TYPES = [ParagraphBlock, HeadingBlock, QuoteBlock, ImageBlock, EmbedBlock]
