"""Page tree operations: create home, sections and articles; move and rename."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime


from service import blocks, db, models, references, visibility
from service.clock import now
from service.errors import ErrorCode, UserError, required_text
from service.models import PageKind

_NON_SLUG = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 200


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")[:MAX_SLUG].strip("-")


def clean_slug(slug: str | None, title: str) -> str:
    value = slugify(slug if slug else title)
    if not value:
        raise UserError("A slug needs at least one letter or digit.", ErrorCode.INVALID, field="slug")
    return value


async def _next_position(parent_id: int) -> int:
    last = await models.Page.filter(parent_id=parent_id).order_by("-position").first().values("position")
    return 0 if last is None else last["position"] + 1


async def _insert(parent: models.Page | None, url_path: str = "/", **values) -> models.Page:
    """Create a page below parent (a root at url_path without one), deriving path, depth, url_path and locale."""
    async with db.serialised():
        if parent is None:
            if await models.Page.exists(url_path=url_path):
                raise UserError(f"The path {url_path} is taken.", ErrorCode.DUPLICATE, field="locale")
            page = await models.Page.create(path="", depth=1, url_path=url_path, **values)
            page.path = f"/{page.id}/"
        else:
            values["locale"] = parent.locale  # a page is in its tree's locale
            url_path = f"{parent.url_path}{values['slug']}/"
            if await models.Page.exists(url_path=url_path):
                raise UserError(f"The path {url_path} is taken.", ErrorCode.DUPLICATE, field="slug")
            position = await _next_position(parent.id)
            page = await models.Page.create(
                parent_id=parent.id, path="", depth=parent.depth + 1, url_path=url_path, position=position, **values
            )
            page.path = f"{parent.path}{page.id}/"
        await page.save(update_fields=["path"])
        await visibility.refresh(page.id)
    return await models.Page.get(id=page.id)


async def create_home(*, title: str, seo_title: str = "", search_description: str = "", locale: str | None = None,
                      url_path: str = "/") -> models.Page:
    """Create a root page: the site's (at /, in its default locale), or another locale's (service/locales.py)."""
    if locale is None:
        settings = await models.SiteSettings.all().order_by("id").first()
        locale = settings.locale if settings is not None else "en"
    if await models.Page.exists(kind=PageKind.HOME, locale=locale):
        raise UserError("The site already has a home page.", ErrorCode.DUPLICATE)
    stamp = now()
    return await _insert(
        None,
        url_path,
        locale=locale,
        kind=PageKind.HOME,
        slug="home",
        title=required_text(title, "title", 255),
        seo_title=seo_title,
        search_description=search_description,
        first_published_at=stamp,
        last_published_at=stamp,
    )


async def create_section(
    *,
    parent: models.Page,
    title: str,
    slug: str | None = None,
    description: str = "",
    seo_title: str = "",
    search_description: str = "",
    show_in_menus: bool = True,
) -> models.Page:
    """Create a section below the home page or below another section."""
    if parent.kind not in (PageKind.HOME, PageKind.SECTION):
        raise UserError("A section goes below the home page or a section.", ErrorCode.INVALID_PARENT, field="parent")
    title = required_text(title, "title", 255)
    slug = clean_slug(slug, title)
    if await models.Page.exists(kind=PageKind.SECTION, slug=slug, locale=parent.locale):
        raise UserError(f"A section with slug '{slug}' exists.", ErrorCode.DUPLICATE, field="slug")
    stamp = now()
    return await _insert(
        parent,
        kind=PageKind.SECTION,
        slug=slug,
        title=title,
        description=description,
        seo_title=seo_title,
        search_description=search_description,
        show_in_menus=show_in_menus,
        first_published_at=stamp,
        last_published_at=stamp,
    )


async def create_article(
    *,
    section: models.Page,
    title: str,
    body: list,
    slug: str | None = None,
    headline: str = "",
    summary: str = "",
    published_at: datetime | None = None,
    source: str = "",
    authors: Sequence[models.Author] = (),
    tags: Sequence[str] = (),
    hero_image: models.Image | None = None,
    hero_caption: str = "",
    related: Sequence[models.Page] = (),
    comments_enabled: bool = True,
    live: bool = True,
    seo_title: str = "",
    search_description: str = "",
    show_in_menus: bool = False,
) -> models.Page:
    """Create an article in a section, validating its body; tags are created when new.

    The reference index is the callers' to keep (service/references.py): editors' drafts
    index their revision, publishing the published content, the demo seeder its pages."""
    if section.kind != PageKind.SECTION:
        raise UserError("An article goes below a section.", ErrorCode.INVALID_PARENT, field="section")
    title = required_text(title, "title", 255)
    slug = clean_slug(slug, title)
    known_images = None
    wanted = [b.get("value", {}).get("image_id") for b in body if isinstance(b, dict) and b.get("type") == "image"]
    if wanted:
        ids = [i for i in wanted if isinstance(i, int) and not isinstance(i, bool)]
        known_images = set(await models.Image.filter(id__in=ids).values_list("id", flat=True))
    clean_body = blocks.validate_body(body, known_images, await references.link_targets(blocks.page_link_values(body)))
    text = blocks.body_text(clean_body)
    published_at = published_at or now()
    async with db.serialised():
        article = await _insert(
            section,
            kind=PageKind.ARTICLE,
            slug=slug,
            title=title,
            headline=headline.strip() or title,
            summary=summary.strip(),
            published_at=published_at,
            source=source.strip(),
            hero_image_id=hero_image.id if hero_image else None,
            hero_caption=hero_caption.strip(),
            body=clean_body,
            body_text=text,
            reading_time=blocks.reading_time(" ".join((title, summary, text))),
            comments_enabled=comments_enabled,
            show_in_menus=show_in_menus,
            live=live,
            first_published_at=published_at if live else None,
            last_published_at=published_at if live else None,
            seo_title=seo_title,
            search_description=search_description or summary.strip()[:300],
        )
        await set_authors(article, authors)
        await set_tags(article, tags)
        await set_related(article, related)
    return article


async def set_authors(article: models.Page, authors: Sequence[models.Author]) -> None:
    await models.ArticleAuthor.filter(article_id=article.id).delete()
    await models.ArticleAuthor.bulk_create(
        [models.ArticleAuthor(article_id=article.id, author_id=a.id, position=i) for i, a in enumerate(authors)]
    )


async def get_or_create_tags(slugs: Sequence[str]) -> list[models.Tag]:
    """Tags by slug, creating the missing ones (name from the slug)."""
    wanted = []
    for raw in slugs:
        slug = slugify(raw)
        if slug and slug not in wanted:
            wanted.append(slug)
    existing = {t.slug: t for t in await models.Tag.filter(slug__in=wanted)}
    for slug in wanted:
        if slug not in existing:
            existing[slug] = await models.Tag.create(slug=slug, name=slug.replace("-", " ").title())
    return [existing[s] for s in wanted]


async def set_tags(article: models.Page, slugs: Sequence[str]) -> None:
    tags = await get_or_create_tags(slugs)
    await models.ArticleTag.filter(article_id=article.id).delete()
    await models.ArticleTag.bulk_create(
        [models.ArticleTag(article_id=article.id, tag_id=t.id, position=i) for i, t in enumerate(tags)]
    )


async def set_related(article: models.Page, related: Sequence[models.Page]) -> None:
    """Store the editor's related articles, in order, without the article itself or repeats."""
    seen: set[int] = set()
    links = []
    for page in related:
        if page.id == article.id or page.id in seen or page.kind != PageKind.ARTICLE:
            continue
        seen.add(page.id)
        links.append(models.ArticleRelation(article_id=article.id, related_id=page.id, position=len(links)))
    await models.ArticleRelation.filter(article_id=article.id).delete()
    await models.ArticleRelation.bulk_create(links)


async def _rewrite_subtree(page: models.Page, new_path: str, new_url: str, depth_delta: int) -> None:
    """Rewrite path, url_path and depth of a page and all its descendants."""
    old_path, old_url = page.path, page.url_path
    clash = await db.fetch(
        "SELECT url_path FROM page WHERE path LIKE $1 AND $2 || substr(url_path, $3) IN "
        "(SELECT url_path FROM page WHERE path NOT LIKE $1) LIMIT 1",
        old_path + "%",
        new_url,
        len(old_url) + 1,
    )
    if clash:
        raise UserError("A page already has that URL path.", ErrorCode.DUPLICATE, field="slug")
    await db.execute(
        "UPDATE page SET path = $1 || substr(path, $2), url_path = $3 || substr(url_path, $4), "
        "depth = depth + $5 WHERE path LIKE $6",
        new_path,
        len(old_path) + 1,
        new_url,
        len(old_url) + 1,
        depth_delta,
        old_path + "%",
    )


async def rename_page(page: models.Page, slug: str) -> models.Page:
    """Change a page's slug; the URL paths of its whole subtree follow."""
    if page.kind == PageKind.HOME:
        raise UserError("The home page has no slug to change.", ErrorCode.INVALID, field="slug")
    slug = clean_slug(slug, "")
    if page.kind == PageKind.SECTION and await models.Page.filter(kind=PageKind.SECTION, slug=slug, locale=page.locale).exclude(id=page.id).exists():
        raise UserError(f"A section with slug '{slug}' exists.", ErrorCode.DUPLICATE, field="slug")
    parent_url = page.url_path[: -len(page.slug) - 1]
    async with db.serialised():
        await _rewrite_subtree(page, page.path, f"{parent_url}{slug}/", 0)
        await models.Page.filter(id=page.id).update(slug=slug)
    return await models.Page.get(id=page.id)


async def move_page(page: models.Page, new_parent: models.Page, position: int | None = None) -> models.Page:
    """Move a page (and its subtree) below another page, at a position among siblings."""
    if page.kind == PageKind.HOME:
        raise UserError("The home page cannot move.", ErrorCode.INVALID_PARENT, field="parent")
    if new_parent.locale != page.locale:
        raise UserError(f"A page stays in its locale's tree ({page.locale}); createTranslation copies it into another.",
                        ErrorCode.INVALID_PARENT, field="parent")
    if new_parent.path.startswith(page.path):
        raise UserError("A page cannot move below itself.", ErrorCode.INVALID_PARENT, field="parent")
    allowed = (PageKind.SECTION,) if page.kind == PageKind.ARTICLE else (PageKind.HOME, PageKind.SECTION)
    if new_parent.kind not in allowed:
        raise UserError(f"A {page.kind.value} cannot go below a {new_parent.kind.value}.", ErrorCode.INVALID_PARENT, field="parent")
    async with db.serialised():
        if new_parent.id != page.parent_id:
            await _rewrite_subtree(
                page,
                f"{new_parent.path}{page.id}/",
                f"{new_parent.url_path}{page.slug}/",
                new_parent.depth + 1 - page.depth,
            )
            await models.Page.filter(id=page.id).update(parent_id=new_parent.id)
            await visibility.refresh(page.id)  # below another section: its window and state now apply
        siblings = await models.Page.filter(parent_id=new_parent.id).exclude(id=page.id).order_by("position", "id").values_list("id", "position")
        index = len(siblings) if position is None else max(0, min(position, len(siblings)))
        order = list(siblings[:index]) + [(page.id, None)] + list(siblings[index:])
        # One UPDATE for every sibling whose place changes, however many siblings there are.
        moved = [models.Page(id=pk, position=pos) for pos, (pk, was) in enumerate(order) if pos != was]
        await models.Page.bulk_update(moved, fields=["position"])
    return await models.Page.get(id=page.id)


async def page_by_id(page_id: int) -> models.Page | None:
    """Any page by id, live or not (for editors), or None."""
    return await models.Page.get_or_none(id=page_id)


async def subtree_kinds(page: models.Page) -> list[tuple[int, PageKind]]:
    """(id, kind) of the page and every page below it."""
    rows = await models.Page.filter(path__startswith=page.path).values_list("id", "kind")
    return [(pk, PageKind(kind)) for pk, kind in rows]


async def tags_by_slugs(slugs: Sequence[str]) -> dict[str, models.Tag]:
    """The stored tags among `slugs`, by slug."""
    return {t.slug: t for t in await models.Tag.filter(slug__in=list(slugs))}


async def authors_by_ids(author_ids: Sequence[int]) -> dict[int, models.Author]:
    """The stored authors among `author_ids`, by id."""
    return {a.id: a for a in await models.Author.filter(id__in=list(author_ids))}


async def authors() -> list[models.Author]:
    """Every author, by name."""
    return await models.Author.all().order_by("name", "id")
