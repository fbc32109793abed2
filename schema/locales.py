"""Locales and translations: `Page.translations`, `Site.locales` (service/locales.py has the rules)."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.loaders import load_now, then
from service import locales, models


@strawberry.type(description="A live translation of a page: the same page in another locale, for language "
                 "switchers and <link rel=\"alternate\" hreflang>.")
class Translation:
    locale: str = strawberry.field(description="The translation's locale, a BCP 47 tag (`fr`, `pt-BR`).")
    title: str = strawberry.field(description="The translation's title, in its language.")

    @strawberry.field(description="URL path of the translation, in its locale's tree: `/fr/monde/`.")
    def url(self) -> str:
        return self.url_path


@strawberry.type(description="One of the site's locales: the default owns the tree at `/`, each other one "
                 "its own tree under its prefix (`/fr/`).")
class Locale:
    code: str = strawberry.field(description="BCP 47 tag: `en`, `fr`, `pt-BR`.")
    name: str = strawberry.field(description="The language's name for itself (`Français`); the tag when unknown.")
    is_default: bool = strawberry.field(description="Whether this is the site's default locale (the tree at `/`).")
    home_url: str = strawberry.field(description="Where the locale's tree starts: `/` for the default, `/fr/` for "
                                     "the others (its home page may not exist yet: `page(urlPath:)` is then null).")


def site_locales(settings: models.SiteSettings) -> list[Locale]:
    codes = locales.site_locales(settings)
    return [Locale(code=code, name=locales.name(code), is_default=code == codes[0],
                   home_url=locales.home_url(code, codes[0])) for code in codes]


def page_translations(page: models.Page, info: Info):
    """The live pages sharing the page's translation key, other than itself, by locale (one query a level)."""
    found = load_now(info.context.loaders.translations_by_key, page.translation_key)
    return then(found, lambda pages: [other for other in pages if other.id != page.id])
