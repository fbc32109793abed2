"""Body blocks, Wagtail StreamField style: validated on write, stored as JSON.

A stored block is {"id": "<uuid>", "type": "<type>", "value": {...}}. Validation
returns clean copies (HTML sanitised, ids assigned) or raises UserError naming the
offending block; nothing invalid is ever stored.
"""

from __future__ import annotations

import html
import math
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import nh3

from service import page_links
from service.errors import ErrorCode, UserError, is_row_id

BLOCK_TYPES = ("paragraph", "heading", "quote", "image", "embed")

ALLOWED_TAGS = {"p", "a", "strong", "em", "b", "i", "u", "s", "br", "ul", "ol", "li", "code", "sup", "sub"}
# data-page-id: a link to a page by reference (service/page_links.py), kept alone on its anchor.
ALLOWED_ATTRIBUTES = {"a": {"href", "title", page_links.ATTRIBUTE}}
MAX_TEXT = 20_000
WORDS_PER_MINUTE = 230

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def sanitize_html(value: str) -> str:
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def html_to_text(value: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip()


def _fail(index: int, message: str) -> UserError:
    return UserError(f"Block {index + 1}: {message}", ErrorCode.INVALID_BLOCK, field=f"body.{index}")


def _text(value: dict, key: str, index: int, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    raw = value.get(key, "")
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise _fail(index, f"'{key}' must be a string.")
    raw = raw.strip()
    if required and not raw:
        raise _fail(index, f"'{key}' is required.")
    if len(raw) > limit:
        raise _fail(index, f"'{key}' is longer than {limit} characters.")
    return raw


def _http_url(value: dict, key: str, index: int) -> str:
    url = _text(value, key, index, limit=2048)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(index, f"'{key}' must be an http(s) URL.")
    return url


def _store_links(value: str, page_ids: Mapping[str, int], index: int) -> str:
    """Sanitised HTML with each page link as stored: `<a data-page-id="<row id>">`, nothing else on it.

    A global id names a page that must exist; a row id is a link already stored,
    whose page may have been deleted since: its text stays, the link goes."""

    def replace(attrs: dict[str, str], inner: str) -> str | None:
        target = attrs.get(page_links.ATTRIBUTE)
        if target is None:
            return None
        pk = page_ids.get(target)
        if pk is not None:
            return page_links.anchor({page_links.ATTRIBUTE: pk}, inner)
        if is_row_id(target):
            return inner
        raise UserError(f"Block {index + 1}: no page has the id {target[:64]!r} (data-page-id takes a page's global id).",
                        ErrorCode.NOT_FOUND, field=f"body.{index}")

    return page_links.rewrite(value, replace)


def page_link_values(body: Any) -> set[str]:
    """The data-page-id values a body's paragraphs hold (global ids, or row ids once stored), to look up before validating."""
    values: set[str] = set()
    for block in body if isinstance(body, list) else ():
        value = block.get("value") if isinstance(block, dict) and block.get("type") == "paragraph" else None
        raw = value.get("html") if isinstance(value, dict) else None
        if isinstance(raw, str) and len(raw) <= MAX_TEXT and page_links.ATTRIBUTE in raw.lower():
            values.update(page_links.link_values(sanitize_html(raw)))
    return values


def _validate_one(index: int, block: Any, image_ids: set[int] | None, page_ids: Mapping[str, int]) -> dict:
    if not isinstance(block, dict):
        raise _fail(index, "a block must be an object with 'type' and 'value'.")
    kind = block.get("type")
    value = block.get("value")
    if kind not in BLOCK_TYPES:
        raise _fail(index, f"unknown block type {kind!r}; expected one of {', '.join(BLOCK_TYPES)}.")
    if not isinstance(value, dict):
        raise _fail(index, "'value' must be an object.")
    unknown = set(value) - set(_FIELDS[kind])
    if unknown:
        raise _fail(index, f"unknown field(s) {', '.join(sorted(unknown))} for a {kind} block.")
    if kind == "paragraph":
        clean = {"html": _store_links(sanitize_html(_text(value, "html", index)), page_ids, index)}
        if not html_to_text(clean["html"]):
            raise _fail(index, "'html' has no text once sanitised.")
    elif kind == "heading":
        level = value.get("level", 2)
        if isinstance(level, bool) or not isinstance(level, int) or not 2 <= level <= 4:
            raise _fail(index, "'level' must be 2, 3 or 4.")
        clean = {"text": _text(value, "text", index, limit=255), "level": level}
    elif kind == "quote":
        clean = {
            "text": _text(value, "text", index),
            "attribution": _text(value, "attribution", index, required=False, limit=255),
        }
    elif kind == "image":
        image_id = value.get("image_id")
        if isinstance(image_id, bool) or not isinstance(image_id, int):
            raise _fail(index, "'image_id' must be an image id.")
        if image_ids is not None and image_id not in image_ids:
            raise _fail(index, f"image {image_id} does not exist.")
        clean = {"image_id": image_id, "caption": _text(value, "caption", index, required=False, limit=1000)}
    else:
        clean = {"url": _http_url(value, "url", index), "title": _text(value, "title", index, required=False, limit=255)}
    block_id = block.get("id")
    if not isinstance(block_id, str) or not block_id:
        block_id = str(uuid.uuid4())
    return {"id": block_id, "type": kind, "value": clean}


_FIELDS = {
    "paragraph": ("html",),
    "heading": ("text", "level"),
    "quote": ("text", "attribution"),
    "image": ("image_id", "caption"),
    "embed": ("url", "title"),
}


def validate_body(body: Any, image_ids: set[int] | None = None, page_ids: Mapping[str, int] | None = None) -> list[dict]:
    """Validate and clean a list of blocks; raise UserError on the first bad one.

    `page_ids` maps the data-page-id values found by page_link_values to the row ids of
    the pages they name (service.references.link_targets); a link to no page is refused."""
    if not isinstance(body, list):
        raise UserError("The body must be a list of blocks.", ErrorCode.INVALID_BLOCK, field="body")
    cleaned = [_validate_one(i, block, image_ids, page_ids or {}) for i, block in enumerate(body)]
    ids = [b["id"] for b in cleaned]
    if len(set(ids)) != len(ids):
        raise UserError("Block ids must be unique.", ErrorCode.INVALID_BLOCK, field="body")
    return cleaned


def body_text(body: list[dict]) -> str:
    """The plain text of a body, for search and reading time."""
    parts = []
    for block in body:
        value = block["value"]
        if block["type"] == "paragraph":
            parts.append(html_to_text(value["html"]))
        elif block["type"] in ("heading", "quote"):
            parts.append(value["text"])
        elif block["type"] == "image" and value.get("caption"):
            parts.append(value["caption"])
    return "\n".join(parts)


def image_ids(body: list[dict]) -> list[int]:
    return [b["value"]["image_id"] for b in body if b["type"] == "image"]


def reading_time(text: str) -> int:
    """Minutes to read, rounded up; at least one for any text."""
    words = len(text.split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE)) if words else 0
