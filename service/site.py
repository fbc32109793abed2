"""Site settings: the name, tagline, social links and comment policy editors change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from service import fields, models, pages, purges
from service.errors import ErrorCode, UserError, required_text


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
    settings = await models.SiteSettings.all().order_by("id").first()
    if settings is None:
        settings = await models.SiteSettings.create(**clean)
    elif clean:
        await models.SiteSettings.filter(id=settings.id).update(**clean)
    await purges.purge(["site"])
    return await models.SiteSettings.get(id=settings.id)
