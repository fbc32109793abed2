"""Site-wide settings: name, tagline, the "stay connected" links, and where the public site lives."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.loaders import load_now
from schema.locales import Locale, site_locales
from schema.media import Image
from service import site


@strawberry.type(description="A link to the site's account on a social network.")
class SocialLink:
    network: str = strawberry.field(description="Network name, lower case: x, facebook, instagram, youtube, rss...")
    url: str = strawberry.field(description="Address of the account.")


@strawberry.type(description="Site settings shown in the site chrome.")
class Site:
    name: str = strawberry.field(description="The site's name.")
    tagline: str = strawberry.field(description="The site's tagline; may be empty.")
    locale: str = strawberry.field(description="The site's default language as a BCP 47 tag (`en`, `en-GB`, `pt-BR`), "
                                   "for <html lang> and og:locale; `en` unless an admin set another. The tree at `/` "
                                   "is in it; other locales are listed by `locales`.")
    tag_path_prefix: str = strawberry.field(description="Where tag pages live on the public site: `Tag.url` is this, "
                                            "the tag's slug and a slash. `/tags/` unless an admin set another.")
    author_path_prefix: str = strawberry.field(description="Where author pages live on the public site: `Author.url` "
                                               "is this, the author's slug and a slash. `/authors/` unless an admin "
                                               "set another.")

    @strawberry.field(description="The site's locales, the default first (`locale` is its code): each with "
                      "where its tree starts. An admin lists the others with updateSiteSettings(input: {locales:}).")
    def locales(self) -> list[Locale]:
        return site_locales(self)

    @strawberry.field(description="Social accounts for the \"stay connected\" block, in display order.")
    def social_links(self) -> list[SocialLink]:
        return [SocialLink(network=link["network"], url=link["url"]) for link in self.social_links]

    @strawberry.field(description="Origin of the public site, without a trailing slash (`https://news.example.com`): "
                      "prefix a page's `url` with it for an absolute link (`Page.canonicalUrl` does). Set by an admin, "
                      "else the service's MASTHEAD_PUBLIC_BASE_URL.")
    def base_url(self, info: Info) -> str:
        return site.base_url(self, info.context.settings.public_base_url)

    @strawberry.field(description="The site's logo from the image library; null when none was set.")
    def logo(self, info: Info) -> Image | None:
        if self.logo_id is None:
            return None
        return load_now(info.context.loaders.image_by_id, self.logo_id)
