"""Site settings: the name, tagline, social links, comment policy, and where the public site lives.

The public site (a decoupled frontend) is described here so the API can hand out
whole URLs: its origin (`base_url`, else MASTHEAD_PUBLIC_BASE_URL), its language
(`locale`, BCP 47), its logo, and the paths of tag and author pages
(`tag_path_prefix` + slug + "/", `author_path_prefix` + slug + "/").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from service import fields, locales, models, pages, purges
from service.errors import ErrorCode, UserError, required_text
from service.locales import clean_locale
from service.settings import origin

_PREFIX = re.compile(r"(?:/[a-z0-9][a-z0-9._~-]*)+/")


def base_url(settings_row: models.SiteSettings, default: str) -> str:
    """The public site's origin: the site settings' own, else the service's default (MASTHEAD_PUBLIC_BASE_URL)."""
    return settings_row.base_url or default


def tag_url(settings_row: models.SiteSettings, slug: str) -> str:
    """The path of a tag's page on the public site: `/tags/harbour/`."""
    return f"{settings_row.tag_path_prefix}{slug}/"


def author_url(settings_row: models.SiteSettings, slug: str) -> str:
    """The path of an author's page on the public site: `/authors/joel-carver/`."""
    return f"{settings_row.author_path_prefix}{slug}/"


def clean_prefix(value: Any, field: str) -> str:
    """A path prefix such as `/tags/` (slashes added when left out), or INVALID."""
    text = fields.text(value, field, 100)
    text = "/" + text.strip("/") + "/"
    if not _PREFIX.fullmatch(text):
        raise UserError("A path prefix is one or more lower-case path segments (letters, digits, - . _ ~), "
                        "such as /tags/ or /topics/.", ErrorCode.INVALID, field=field)
    return text


def clean_base_url(value: Any) -> str:
    """An http(s) origin without a path, query or fragment; "" to fall back to MASTHEAD_PUBLIC_BASE_URL."""
    text = fields.text(value, "base_url", 255)
    if not text:
        return ""
    try:
        return origin(text)
    except ValueError:
        raise UserError("baseUrl must be an http(s) origin without a path, query or fragment, such as "
                        "https://news.example.com.", ErrorCode.INVALID_URL, field="base_url") from None


async def update_site_settings(changes: Mapping[str, Any]) -> models.SiteSettings:
    """Validate and store site settings (creating the row on a fresh site)."""
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = required_text(changes["name"], "name", 255)
    if "tagline" in changes:
        clean["tagline"] = fields.text(changes["tagline"], "tagline", 255)
    if "social_links" in changes:
        links = []
        for index, link in enumerate(changes["social_links"]):
            network = pages.slugify(fields.text(link.get("network"), f"social_links.{index}", 40))
            url = fields.text(link.get("url"), f"social_links.{index}", 1024)
            parts = urlsplit(url)
            if not network or parts.scheme not in ("http", "https") or not parts.netloc:
                raise UserError("A social link needs a network name and an http(s) URL.", ErrorCode.INVALID_URL,
                                field=f"social_links.{index}")
            links.append({"network": network, "url": url})
        if len(links) > 20:
            raise UserError("At most 20 social links.", ErrorCode.INVALID, field="social_links")
        clean["social_links"] = links
    if "auto_approve_known_commenters" in changes:
        clean["auto_approve_known_commenters"] = bool(changes["auto_approve_known_commenters"])
    if "base_url" in changes:
        clean["base_url"] = clean_base_url(changes["base_url"])
    if "locale" in changes:
        clean["locale"] = clean_locale(changes["locale"])
    if "locales" in changes:
        clean["locales"] = locales.clean_locale_list(changes["locales"])
    for name in ("tag_path_prefix", "author_path_prefix"):
        if name in changes:
            clean[name] = clean_prefix(changes[name], name)
    if "logo_id" in changes:
        logo_id = changes["logo_id"]
        if logo_id is not None and not await models.Image.exists(id=logo_id):
            raise UserError("logoImageId is not the id of an image.", ErrorCode.NOT_FOUND, field="logo_image_id")
        clean["logo_id"] = logo_id
    settings = await models.SiteSettings.all().order_by("id").first()
    retagged = False
    if "locale" in clean or "locales" in clean:
        retagged = await locales.apply_settings_change(settings, clean)
    if settings is None:
        settings = await models.SiteSettings.create(**clean)
    elif clean:
        await models.SiteSettings.filter(id=settings.id).update(**clean)
    # Every list filters by the default locale; re-tagged pages show their new locale.
    await purges.purge(purges.SITE_WIDE if "locale" in clean or retagged else ["site"])
    return await models.SiteSettings.get(id=settings.id)
