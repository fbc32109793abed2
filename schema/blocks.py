"""Body blocks: one GraphQL type per block type behind the `Block` interface."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.context import Info
from service import blocks

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
    html: str = strawberry.field(description="Sanitised HTML, safe to render as is.")

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


def from_stored(body: list[dict]) -> list[Block]:
    """Stored JSON blocks to their GraphQL objects."""
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
    return result


BLOCK_TYPES = [ParagraphBlock, HeadingBlock, QuoteBlock, ImageBlock, EmbedBlock]
