"""Previews: signed, short-lived tokens for a page's draft, and the page as a draft shows it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from service import blocks, fields, models
from service.clock import now
from service.errors import ErrorCode, UserError
from service.models import PageKind
from service.runtime.rows import build_instance

PREVIEW_SECONDS = 3600


@dataclass
class Preview:
    page_id: int
    revision_id: int | None
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _preview_secret(secret: str | None) -> str:
    if secret is None:  # Settings.preview_secret: the development secret outside development
        raise UserError("Previews are off: MASTHEAD_SECRET_KEY is the development secret, which only development accepts.",
                        ErrorCode.INVALID, field="preview_token")
    return secret


def preview_token(secret: str | None, page_id: int, revision_id: int | None, seconds: int = PREVIEW_SECONDS) -> tuple[str, datetime]:
    secret = _preview_secret(secret)
    expires = int(time.time()) + seconds
    payload = orjson.dumps([page_id, revision_id, expires])
    signature = hmac.new(secret.encode(), b"preview:" + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}", datetime.fromtimestamp(expires, timezone.utc)


def read_preview_token(secret: str | None, token: str) -> Preview:
    """The page and revision a preview token grants, or UserError when it is bad or expired."""
    secret = _preview_secret(secret)
    try:
        raw_payload, raw_signature = token.split(".")
        payload = base64.urlsafe_b64decode(raw_payload + "=" * (-len(raw_payload) % 4))
        signature = base64.urlsafe_b64decode(raw_signature + "=" * (-len(raw_signature) % 4))
        page_id, revision_id, expires = orjson.loads(payload)
    except (ValueError, binascii.Error, TypeError, orjson.JSONDecodeError):
        raise UserError("The preview token is malformed.", ErrorCode.INVALID, field="preview_token") from None
    expected = hmac.new(secret.encode(), b"preview:" + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise UserError("The preview token's signature does not match.", ErrorCode.INVALID, field="preview_token")
    if not isinstance(expires, int) or expires < time.time():
        raise UserError("The preview token has expired; ask for a new one.", ErrorCode.EXPIRED, field="preview_token")
    return Preview(page_id, revision_id, expires)


async def page_with_content(page: models.Page, content: Mapping[str, Any]) -> models.Page:
    """An unsaved copy of the page row with a revision's content on it, for previews."""
    values = dict(page.__dict__)
    values.update(title=content["title"], slug=content["slug"], seo_title=content.get("seo_title", ""),
                  search_description=content.get("search_description", ""),
                  show_in_menus=content.get("show_in_menus", page.show_in_menus))
    if page.kind == PageKind.ARTICLE:
        body = content["body"]
        text = blocks.body_text(body)
        values.update(
            headline=content["headline"], summary=content["summary"], source=content["source"],
            published_at=fields.aware_time(content["published_at"], "published_at") or page.published_at or now(),
            hero_image_id=content["hero_image_id"], hero_caption=content.get("hero_caption", ""), body=body, comments_enabled=content["comments_enabled"],
            reading_time=blocks.reading_time(" ".join((content["title"], content["summary"], text))),
            parent_id=content["section_id"],
        )
    elif page.kind == PageKind.SECTION:
        values.update(description=content.get("description", ""))
    values["_preview_content"] = dict(content)
    return build_instance(models.Page, values)
