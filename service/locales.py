"""Locales and translations (Wagtail's model): a tree per locale, translations sharing a key.

The site's default locale (`SiteSettings.locale`) owns the tree at `/`; each other
locale (`SiteSettings.locales`) has its own home page at its prefix (`/fr/`, `/pt-br/`).
A page's locale is its tree's: new pages take their parent's, and a page never
moves into another locale's tree. Translations of one page share a
`translation_key`, at most one page per locale; createTranslation copies a page as
a draft below the translation of its parent. Moving a page leaves its
translations where they are; deleting one leaves its translations (they keep the key).
"""

from __future__ import annotations

import re
from typing import Any

from service import db, drafts, fields, models, pages, purges
from service.errors import ErrorCode, UserError
from service.models import PageKind

# BCP 47 (RFC 5646) well-formed tags: language, script, region, variants, extensions, private use.
_LOCALE = re.compile(
    r"(?P<language>[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<rest>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?)"
)

# PostgreSQL's text-search configuration per language (migration 0019 freezes a copy for the index);
# any other language is indexed and searched with `simple` (no stemming).
TS_CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "ga": "irish", "hu": "hungarian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nb": "norwegian", "ne": "nepali", "nl": "dutch", "nn": "norwegian", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}

# Each language's name for itself, for language switchers; other tags show as themselves.
NAMES = {
    "ar": "العربية", "da": "Dansk", "de": "Deutsch", "el": "Ελληνικά", "en": "English", "es": "Español",
    "fi": "Suomi", "fr": "Français", "hu": "Magyar", "it": "Italiano", "ja": "日本語", "nl": "Nederlands",
    "nb": "Norsk bokmål", "pl": "Polski", "pt": "Português", "pt-BR": "Português (Brasil)", "ru": "Русский",
    "sv": "Svenska", "tr": "Türkçe", "uk": "Українська", "zh": "中文",
}

MAX_LOCALES = 20


def clean_locale(value: Any, field: str = "locale") -> str:
    """A BCP 47 language tag in its conventional case (`pt-br` -> `pt-BR`), or INVALID."""
    text = fields.text(value, field, 35)
    match = _LOCALE.fullmatch(text)
    if match is None:
        raise UserError(f"{field} must be a BCP 47 language tag, such as en, en-GB or pt-BR.", ErrorCode.INVALID,
                        field=field)
    out = match["language"].lower()
    if match["script"]:
        out += "-" + match["script"].title()
    if match["region"]:
        out += "-" + match["region"].upper()
    return out + match["rest"].lower()


def ts_config(locale: str) -> str:
    """PostgreSQL's text-search configuration for a locale: `french` for fr and fr-CA, `simple` when none fits."""
    return TS_CONFIGS.get(locale.split("-", 1)[0].lower(), "simple")


def ts_config_sql(expr: str) -> str:
    """The same choice in SQL, for a locale given as an SQL expression."""
    cases = " ".join(f"WHEN '{code}' THEN '{name}'::regconfig" for code, name in TS_CONFIGS.items())
    return f"(CASE lower(split_part({expr}, '-', 1)) {cases} ELSE 'simple'::regconfig END)"


def name(code: str) -> str:
    return NAMES.get(code) or NAMES.get(code.split("-", 1)[0]) or code


def home_url(code: str, default: str) -> str:
    """Where a locale's tree starts: `/` for the default, `/fr/` (the tag in lower case) for the others."""
    return "/" if code == default else f"/{code.lower()}/"


def site_locales(settings: models.SiteSettings) -> list[str]:
    """The site's locales, the default first."""
    default = settings.locale or "en"
    return [default, *(code for code in (settings.locales or "").split() if code != default)]


def clean_locale_list(value: Any) -> str:
    """The other locales from an admin's list, cleaned, without repeats, as stored (space-separated)."""
    if not isinstance(value, (list, tuple)):
        raise UserError("locales must be a list of BCP 47 tags.", ErrorCode.INVALID, field="locales")
    codes = list(dict.fromkeys(clean_locale(item, "locales") for item in value))
    if len(codes) > MAX_LOCALES:
        raise UserError(f"At most {MAX_LOCALES} locales.", ErrorCode.INVALID, field="locales")
    return " ".join(codes)


async def apply_settings_change(current: models.SiteSettings | None, clean: dict) -> bool:
    """Check a change of the site's locales against the pages; True when pages changed locale.

    A locale that pages use cannot be removed (LOCALE_IN_USE). A new default locale
    takes over the tree at `/`: its pages are re-tagged (and re-stemmed), unless
    that locale has pages of its own already.
    """
    old_default = (current.locale if current else "") or "en"
    old_others = set((current.locales if current else "").split())
    new_default = clean.get("locale", old_default)
    others = clean.get("locales", current.locales if current else "").split()
    clean["locales"] = " ".join(code for code in others if code != new_default)
    kept = {new_default, *others}
    for code in sorted((old_others | {old_default}) - kept - {old_default}):
        used = await models.Page.filter(locale=code).count()
        if used:
            raise UserError(f"The locale {code} has {used} page(s): delete them (or its home page's tree) before "
                            "removing it.", ErrorCode.LOCALE_IN_USE, field="locales")
    if new_default == old_default:
        return False
    if await models.Page.filter(locale=new_default).exists():
        raise UserError(f"The locale {new_default} has its own tree at {home_url(new_default, '')}: it cannot become "
                        "the default while it has pages.", ErrorCode.LOCALE_IN_USE, field="locale")
    return bool(await models.Page.filter(locale=old_default).update(locale=new_default))


async def create_translation(page: models.Page, locale: Any, by: str) -> tuple[models.Page, models.PageRevision | None]:
    """Copy a page as a draft into another locale's tree, below the translation of its parent.

    A home page becomes that locale's home (`/fr/`), live at once like every home page.
    """
    code = clean_locale(locale)
    settings = await models.SiteSettings.all().order_by("id").first() or models.SiteSettings()
    available = site_locales(settings)
    if code not in available:
        raise UserError(f"{code} is not one of the site's locales ({', '.join(available)}): an admin adds it with "
                        "updateSiteSettings(input: {locales: [...]}).", ErrorCode.INVALID_LOCALE, field="locale")
    if code == page.locale:
        raise UserError(f"The page is in {code} already.", ErrorCode.INVALID_LOCALE, field="locale")
    async with db.serialised(f"translation:{page.translation_key}"):
        existing = await models.Page.get_or_none(translation_key=page.translation_key, locale=code)
        if existing is not None:
            raise UserError(f"The page has a {code} translation already: {existing.url_path}.",
                            ErrorCode.ALREADY_TRANSLATED, field="locale")
        if page.kind == PageKind.HOME:
            home = await pages.create_home(title=page.title, seo_title=page.seo_title, locale=code,
                                           url_path=home_url(code, available[0]),
                                           search_description=page.search_description)
            await models.Page.filter(id=home.id).update(translation_key=page.translation_key)
            created, revision = home, None
        else:
            created, revision = await _copy(page, code, by)
    # A locale home is live at once: `page(urlPath: "/fr/")`, its sections, its key's translations.
    await purges.purge(["sections", "site", "pages", f"tr:{page.translation_key}"])
    return await models.Page.get(id=created.id), revision


async def _copy(page: models.Page, code: str, by: str) -> tuple[models.Page, models.PageRevision]:
    parent = await models.Page.get(id=page.parent_id)
    target = await models.Page.get_or_none(translation_key=parent.translation_key, locale=code)
    if target is None:
        raise UserError(f"Translate the parent first: {parent.title} ({parent.url_path}) has no {code} translation.",
                        ErrorCode.PARENT_NOT_TRANSLATED, field="page_id")
    content = dict(await drafts.latest_content(page))
    if page.kind == PageKind.ARTICLE:
        content["section_id"] = target.id
        # Related articles: their translations in this locale, where they have one.
        keys = await models.Page.filter(id__in=content.get("related_ids") or []).values_list("id", "translation_key")
        found = dict(await models.Page.filter(translation_key__in=[k for _, k in keys], locale=code)
                     .values_list("translation_key", "id"))
        order = {pk: key for pk, key in keys}
        content["related_ids"] = [found[order[pk]] for pk in content.get("related_ids") or [] if order.get(pk) in found]
        created, revision = await drafts.draft_article(content, by)
    else:
        content["parent_id"] = target.id
        created, revision = await drafts.draft_section(content, by)
    await models.Page.filter(id=created.id).update(translation_key=page.translation_key)
    return created, revision

