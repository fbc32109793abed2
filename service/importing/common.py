"""What both importers share: the report, the failure that names a file's line,
and finding or creating sections, authors, images and the articles themselves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service import drafts, models, pages, publishing, purges
from service.importing.links import ImportLinks, convert
from service import drafts, locales, models, pages, publishing, purges
from service.errors import UserError
from service.models import PageKind


@dataclass
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    comments: int = 0
    problems: list[Problem] = field(default_factory=list)
    links: ImportLinks = field(default_factory=ImportLinks, repr=False)  # links between pages, across files

    def summary(self) -> str:
        return (
            f"Imported: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.comments} comments; {len(self.problems)} problem(s)."
        )


class ImportFailure(Exception):
    """A file (or one of its entries) that cannot be imported, with the line at fault when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


async def _settings() -> models.SiteSettings:
    return await models.SiteSettings.all().order_by("id").first() or models.SiteSettings()


async def import_locale(value: Any) -> str | None:
    """A `locale` read from a file, checked against the site's locales; None for the default."""
    if value in (None, ""):
        return None
    try:
        code = locales.clean_locale(str(value))
    except UserError as error:
        raise ImportFailure(error.message) from None
    available = locales.site_locales(await _settings())
    if code not in available:
        raise ImportFailure(f"{code} is not one of the site's locales ({', '.join(available)}): add it first "
                            "(updateSiteSettings(input: {locales: [...]})).")
    return None if code == available[0] else code


async def _home(locale: str | None = None) -> models.Page:
    """The locale's home page (the default's by default), created when missing."""
    settings = await _settings()
    code = locale or settings.locale or "en"
    home = await models.Page.get_or_none(kind=PageKind.HOME, locale=code)
    if home is not None:
        return home
    default_home = await models.Page.get_or_none(kind=PageKind.HOME, locale=settings.locale or "en")
    if default_home is not None and locale is not None:
        return (await locales.create_translation(default_home, code, "import"))[0]
    return await pages.create_home(title="Home", locale=code, url_path=locales.home_url(code, settings.locale or "en"))


async def ensure_section(slug: str, locale: str | None = None) -> models.Page:
    """The section with this slug in a locale's tree (the default's), created (live, below its home) when missing.

    In another locale, the translation of the default locale's section of that slug is that section (whatever its
    own slug); a section made there becomes that translation."""
    clean = pages.slugify(slug)
    if not clean:
        raise ImportFailure("section is empty.")
    home = await _home(locale)
    section = await models.Page.get_or_none(kind=PageKind.SECTION, slug=clean, locale=home.locale)
    original = None
    if section is None and locale is not None:
        original = await models.Page.filter(kind=PageKind.SECTION, slug=clean,
                                            locale=(await _settings()).locale or "en").order_by("depth", "id").first()
        if original is not None:
            section = await models.Page.get_or_none(translation_key=original.translation_key, locale=home.locale)
            if section is not None:
                return section
    if section is None:
        section = await pages.create_section(parent=home, title=clean.replace("-", " ").title(), slug=clean)
        if original is not None:
            await models.Page.filter(id=section.id).update(translation_key=original.translation_key)
    return section


async def find_article(name: str) -> models.Page | None:
    """An article named in a file: by import id (`md:world/slug`, `wxr:site:12`), URL path or slug."""
    target = await models.Page.filter(kind=PageKind.ARTICLE).filter(
        external_id__in=[name, f"md:{name.strip('/')}"]).first()
    if target is None and name.startswith("/"):
        target = await models.Page.get_or_none(kind=PageKind.ARTICLE, url_path=name if name.endswith("/") else name + "/")
    if target is None:
        target = await models.Page.filter(kind=PageKind.ARTICLE, slug=pages.slugify(name)).order_by("id").first()
    return target


async def link_translations(pending: list, report: Report) -> None:
    """`translation_of` once every file is in: (page id, name of the original or `group:<id>`, path, line)."""
    groups: dict[str, str] = {}
    for page_id, name, path, line in pending:
        page = await models.Page.get(id=page_id)
        if name.startswith("group:"):  # Polylang's post_translations: the first of a group gives its key
            key = groups.setdefault(name, page.translation_key)
        else:
            original = await find_article(name)
            if original is None or original.id == page.id:
                report.problems.append(Problem(path, line, f"translation_of: no article {name!r}; left out."))
                continue
            key = original.translation_key
        if key == page.translation_key:
            continue
        if await models.Page.exists(translation_key=key, locale=page.locale):
            report.problems.append(Problem(path, line, f"translation_of: {name!r} has a {page.locale} translation "
                                           "already; left out."))
            continue
        await models.Page.filter(id=page.id).update(translation_key=key)
        await purges.purge([f"tr:{key}", f"tr:{page.translation_key}"])


async def ensure_author(name: str) -> models.Author:
    """The author with this name's slug, created when missing."""
    name = str(name).strip()
    slug = pages.slugify(name)
    if not slug:
        raise ImportFailure(f"author {name!r} has no letters or digits.")
    author = await models.Author.get_or_none(slug=slug)
    return author or await models.Author.create(name=name[:255], slug=slug)


async def ensure_image(url: str, alt: str = "", credit: str = "", width: Any = 0, height: Any = 0, title: str = "",
                       caption: str = "") -> models.Image:
    """The library image with this URL, created when missing; a re-import fills in what it lacked."""
    url = str(url).strip()
    if not re.match(r"^(https?://|/)\S+$", url) or len(url) > 1024:
        raise ImportFailure(f"image url {url[:80]!r} is not an http(s) URL or a site path.")
    image = await models.Image.filter(url=url).first()
    try:
        size = {"width": int(width or 0), "height": int(height or 0)}
    except (TypeError, ValueError):
        raise ImportFailure(f"image {url[:80]!r}: width and height must be whole numbers.") from None
    values = {"alt": str(alt or "")[:512], "credit": str(credit or "")[:255], "title": str(title or "")[:255],
              "caption": str(caption or "")[:1000], **size}
    if image is None:
        return await models.Image.create(url=url, **values)
    changed = {k: v for k, v in values.items() if v and getattr(image, k) != v}
    if changed:
        await models.Image.filter(id=image.id).update(**changed)
        await purges.purge([f"img:{image.id}"])  # pages showing it show the new caption or credit
    return image


async def save_article(external_id: str, data: dict, by: str, publish: bool, report: Report) -> models.Page:
    """Create or update the article imported from `external_id`; publish it unless drafting.

    Links to pages that exist become links by reference first (service/importing/links.py)."""
    data["body"], waiting = await convert(data.get("body") or [], report.links)
    page = await _save_article(external_id, data, by, publish, report)
    if waiting:
        report.links.pending[page.id] = publish
    return page


async def _save_article(external_id: str, data: dict, by: str, publish: bool, report: Report) -> models.Page:
    existing = await models.Page.get_or_none(external_id=external_id)
    if existing is None:
        page, _ = await drafts.draft_article(data, by)
        await models.Page.filter(id=page.id).update(external_id=external_id)
        page = await models.Page.get(id=page.id)
        report.created += 1
    else:
        page = existing
        current = await drafts.latest_content(page)
        clean = await drafts.clean_article({**current, **data}, page.id)
        same_body = [{k: v for k, v in b.items() if k != "id"} for b in current.get("body", [])] == [
            {k: v for k, v in b.items() if k != "id"} for b in clean["body"]
        ]
        if same_body and all(clean[k] == current.get(k) for k in clean if k != "body"):
            report.unchanged += 1
            if publish and not page.live:
                await publishing.publish(page, None, by)
            return page
        await drafts.update_page(page, data, by, message="Re-imported")
        page = await models.Page.get(id=page.id)
        report.updated += 1
    if publish:
        await publishing.publish(page, None, by)
    return await models.Page.get(id=page.id)
