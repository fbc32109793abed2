"""Drafts: a page's editable content, validated, saved as revisions.

A page row holds what readers see while it is live; every save stores a
PageRevision with the page's whole editable content and leaves the row alone
(service/publishing.py copies a revision onto the row). A revision's content is
a plain dict, the same shape for every source (GraphQL, import, CLI);
`clean_article` / `clean_section` validate it and nothing unvalidated is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.exceptions import IntegrityError

from service import blocks, db, fields, models, pages, references, visibility
from service.errors import ErrorCode, UserError, required_text
from service.models import PageKind

MAX_TAGS = 30
MAX_LINKS = 20


# -- content: snapshots and validation --------------------------------------------


async def snapshot(page: models.Page) -> dict:
    """The editable content of a page as its row holds it (pages made before revisions)."""
    if page.kind == PageKind.SECTION:
        return {
            "kind": "section", "parent_id": page.parent_id, "title": page.title, "slug": page.slug,
            "description": page.description, "seo_title": page.seo_title, "search_description": page.search_description,
            "show_in_menus": page.show_in_menus,
        }
    if page.kind != PageKind.ARTICLE:
        return {"kind": page.kind.value, "title": page.title, "seo_title": page.seo_title,
                "search_description": page.search_description}
    tags = await models.ArticleTag.filter(article_id=page.id).order_by("position", "id").values_list("tag__slug", flat=True)
    authors = await models.ArticleAuthor.filter(article_id=page.id).order_by("position", "id").values_list("author_id", flat=True)
    related = await models.ArticleRelation.filter(article_id=page.id).order_by("position", "id").values_list("related_id", flat=True)
    return {
        "kind": "article", "section_id": page.parent_id, "title": page.title, "slug": page.slug,
        "headline": page.headline, "summary": page.summary, "published_at": fields.iso(page.published_at),
        "source": page.source, "tags": list(tags), "author_ids": list(authors), "related_ids": list(related),
        "hero_image_id": page.hero_image_id, "hero_caption": page.hero_caption, "body": page.body or [],
        "seo_title": page.seo_title,
        "search_description": page.search_description, "comments_enabled": page.comments_enabled,
        "show_in_menus": page.show_in_menus,
    }


async def clean_article(content: Mapping[str, Any], page_id: int | None = None) -> dict:
    """Validate an article's content; raise UserError naming the field at fault."""
    title = required_text(content.get("title"), "title", 255)
    slug = pages.clean_slug(content.get("slug"), title)
    section_id = content.get("section_id")
    section = await models.Page.get_or_none(id=section_id, kind=PageKind.SECTION) if isinstance(section_id, int) else None
    if section is None:
        raise UserError("sectionId is not the id of a section.", ErrorCode.NOT_FOUND, field="section_id")
    published_at = fields.aware_time(content.get("published_at"), "published_at")
    tags: list[str] = []
    for raw in content.get("tags") or []:
        tag = pages.slugify(fields.text(raw, "tags", 255))
        if not tag:
            raise UserError("A tag needs at least one letter or digit.", ErrorCode.INVALID, field="tags")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise UserError(f"An article has at most {MAX_TAGS} tags.", ErrorCode.INVALID, field="tags")
    author_ids = fields.id_list(content.get("author_ids"), "author_ids", MAX_LINKS)
    found = set(await models.Author.filter(id__in=author_ids).values_list("id", flat=True))
    if missing := [i for i in author_ids if i not in found]:
        raise UserError(f"No author with id {missing[0]}.", ErrorCode.NOT_FOUND, field="author_ids")
    related_ids = [i for i in fields.id_list(content.get("related_ids"), "related_ids", MAX_LINKS) if i != page_id]
    found = set(await models.Page.filter(id__in=related_ids, kind=PageKind.ARTICLE).values_list("id", flat=True))
    if missing := [i for i in related_ids if i not in found]:
        raise UserError(f"No article with id {missing[0]}.", ErrorCode.NOT_FOUND, field="related_ids")
    hero = content.get("hero_image_id")
    if hero is not None and (isinstance(hero, bool) or not isinstance(hero, int) or not await models.Image.exists(id=hero)):
        raise UserError("heroImageId is not the id of an image.", ErrorCode.NOT_FOUND, field="hero_image_id")
    body = content.get("body") or []
    wanted = [b.get("value", {}).get("image_id") for b in body if isinstance(b, dict) and isinstance(b.get("value"), dict)]
    wanted = [i for i in wanted if isinstance(i, int) and not isinstance(i, bool)]
    known = set(await models.Image.filter(id__in=wanted).values_list("id", flat=True)) if wanted else set()
    comments_enabled = content.get("comments_enabled", True)
    if not isinstance(comments_enabled, bool):
        raise UserError("commentsEnabled must be true or false.", ErrorCode.INVALID, field="comments_enabled")
    return {
        "kind": "article",
        "section_id": section.id,
        "title": title,
        "slug": slug,
        "headline": fields.text(content.get("headline"), "headline", 512) or title,
        "summary": fields.text(content.get("summary"), "summary", 2000),
        "published_at": fields.iso(published_at),
        "source": fields.text(content.get("source"), "source", 255),
        "tags": tags,
        "author_ids": author_ids,
        "related_ids": related_ids,
        "hero_image_id": hero,
        "hero_caption": fields.text(content.get("hero_caption"), "hero_caption", 1000),
        "body": blocks.validate_body(body, known, await references.link_targets(blocks.page_link_values(body))),
        "seo_title": fields.text(content.get("seo_title"), "seo_title", 255),
        "search_description": fields.text(content.get("search_description"), "search_description", 1000),
        "comments_enabled": comments_enabled,
        "show_in_menus": _show_in_menus(content, False),
    }


async def clean_section(content: Mapping[str, Any]) -> dict:
    title = required_text(content.get("title"), "title", 255)
    parent_id = content.get("parent_id")
    parent = await models.Page.get_or_none(id=parent_id) if isinstance(parent_id, int) else None
    if parent is None or parent.kind not in (PageKind.HOME, PageKind.SECTION):
        raise UserError("parentId is not the id of the home page or a section.", ErrorCode.INVALID_PARENT, field="parent_id")
    return {
        "kind": "section",
        "parent_id": parent.id,
        "title": title,
        "slug": pages.clean_slug(content.get("slug"), title),
        "description": fields.text(content.get("description"), "description", 5000),
        "seo_title": fields.text(content.get("seo_title"), "seo_title", 255),
        "search_description": fields.text(content.get("search_description"), "search_description", 1000),
        "show_in_menus": _show_in_menus(content, True),
    }


def _show_in_menus(content: Mapping[str, Any], default: bool) -> bool:
    """The page's menu flag; revisions saved before it existed get the kind's default (what migration 0019 set)."""
    value = content.get("show_in_menus", default)
    if not isinstance(value, bool):
        raise UserError("showInMenus must be true or false.", ErrorCode.INVALID, field="show_in_menus")
    return value


async def clean_content(kind: PageKind, content: Mapping[str, Any], page_id: int | None) -> dict:
    if kind == PageKind.ARTICLE:
        return await clean_article(content, page_id)
    if kind == PageKind.SECTION:
        return await clean_section(content)
    raise UserError("The home page is edited through the site settings.", ErrorCode.INVALID)


# -- revisions ---------------------------------------------------------------------


async def add_revision(page: models.Page, content: dict, by: str, message: str = "",
                        base_revision_id: int | None = None, check_base: bool = False) -> models.PageRevision:
    """Store a revision as the page's latest; CONFLICT when the base is not the latest."""
    async with db.serialised():
        last = await models.PageRevision.filter(page_id=page.id).order_by("-number").first().values("number")
        number = 1 if last is None else last["number"] + 1
        try:
            revision = await models.PageRevision.create(
                page_id=page.id, number=number, content=content, created_by=by[:100], message=message[:255]
            )
        except IntegrityError:
            raise UserError("Someone saved this page at the same moment; reload and try again.", ErrorCode.CONFLICT) from None
        query = models.Page.filter(id=page.id)
        if check_base:
            query = query.filter(latest_revision_id=base_revision_id)
        moved = await query.update(latest_revision_id=revision.id, has_unpublished_changes=True)
        if not moved:
            raise UserError(
                "This page changed since the revision you edited; reload it, merge, and save again.",
                ErrorCode.CONFLICT, field="base_revision_id",
            )
        if content.get("kind") == "article":
            await references.index(page.id, references.LATEST, content)
    page.latest_revision_id, page.has_unpublished_changes = revision.id, True
    return revision


async def latest_content(page: models.Page) -> dict:
    if page.latest_revision_id is not None:
        revision = await models.PageRevision.get_or_none(id=page.latest_revision_id)
        if revision is not None:
            content = dict(revision.content)
            if content.get("kind") == "article":
                content.setdefault("hero_caption", "")  # revisions saved before hero captions existed
            return content
    return await snapshot(page)


async def draft_article(content: Mapping[str, Any], by: str) -> tuple[models.Page, models.PageRevision]:
    """A new article as an unpublished draft (revision 1)."""
    clean = await clean_article(content)
    section = await models.Page.get(id=clean["section_id"])
    async with db.serialised():
        page = await pages.create_article(
            section=section, title=clean["title"], slug=clean["slug"], body=clean["body"], headline=clean["headline"],
            summary=clean["summary"], published_at=fields.aware_time(clean["published_at"], "published_at"),
            source=clean["source"], live=False, seo_title=clean["seo_title"],
            search_description=clean["search_description"], comments_enabled=clean["comments_enabled"],
            show_in_menus=clean["show_in_menus"],
            hero_image=await models.Image.get(id=clean["hero_image_id"]) if clean["hero_image_id"] else None,
            hero_caption=clean["hero_caption"],
        )
        page.first_published_at = page.last_published_at = None
        revision = await add_revision(page, clean, by, "Created")
    return await models.Page.get(id=page.id), revision


async def draft_section(content: Mapping[str, Any], by: str) -> tuple[models.Page, models.PageRevision]:
    """A new section; unpublished until published, like an article."""
    clean = await clean_section(content)
    async with db.serialised():
        page = await pages.create_section(
            parent=await models.Page.get(id=clean["parent_id"]), title=clean["title"], slug=clean["slug"],
            description=clean["description"], seo_title=clean["seo_title"], search_description=clean["search_description"],
            show_in_menus=clean["show_in_menus"],
        )
        await models.Page.filter(id=page.id).update(live=False, first_published_at=None, last_published_at=None)
        await visibility.refresh(page.id)
        revision = await add_revision(page, clean, by, "Created")
    return await models.Page.get(id=page.id), revision


async def prune_related(content: dict) -> dict:
    """A stored draft without the related articles deleted since it was saved."""
    related = content.get("related_ids") or []
    if related:
        alive = set(await models.Page.filter(id__in=related).values_list("id", flat=True))
        content["related_ids"] = [i for i in related if i in alive]
    return content


async def update_page(page: models.Page, changes: Mapping[str, Any], by: str, base_revision_id: int | None = None,
                      check_base: bool = False, message: str = "") -> models.PageRevision:
    """Save a draft: the latest content with `changes` applied, as a new revision."""
    if check_base and base_revision_id != page.latest_revision_id:
        raise UserError(
            "This page changed since the revision you edited; reload it, merge, and save again.",
            ErrorCode.CONFLICT, field="base_revision_id",
        )
    content = await prune_related(await latest_content(page))
    content.update({k: v for k, v in changes.items()})
    clean = await clean_content(page.kind, content, page.id)
    return await add_revision(page, clean, by, message, base_revision_id, check_base)


async def revert(page: models.Page, revision_id: int, by: str) -> models.PageRevision:
    """Restore an earlier revision as a new draft (history is never rewritten)."""
    old = await models.PageRevision.get_or_none(id=revision_id, page_id=page.id)
    if old is None:
        raise UserError("That revision does not belong to this page.", ErrorCode.NOT_FOUND, field="revision_id")
    clean = await clean_content(page.kind, await prune_related(dict(old.content)), page.id)
    return await add_revision(page, clean, by, f"Reverted to revision {old.number}")


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict]:
    """What changed between two contents: one entry per field, body blocks by id."""
    changes = []
    for key in sorted(set(before) | set(after)):
        if key in ("kind", "body"):
            continue
        if before.get(key) != after.get(key):
            changes.append({"field": key, "before": before.get(key), "after": after.get(key)})
    old_blocks = {b["id"]: b for b in before.get("body") or []}
    new_blocks = {b["id"]: b for b in after.get("body") or []}
    for index, block in enumerate(after.get("body") or []):
        previous = old_blocks.get(block["id"])
        if previous is None:
            changes.append({"field": f"body.{index}", "change": "added", "before": None, "after": block})
        elif previous != block:
            changes.append({"field": f"body.{index}", "change": "changed", "before": previous, "after": block})
    for index, block in enumerate(before.get("body") or []):
        if block["id"] not in new_blocks:
            changes.append({"field": f"body.{index}", "change": "removed", "before": block, "after": None})
    old_order = [i for i in old_blocks if i in new_blocks]
    new_order = [i for i in new_blocks if i in old_blocks]
    if old_order != new_order:
        changes.append({"field": "body", "change": "reordered", "before": old_order, "after": new_order})
    for change in changes:
        change.setdefault("change", "changed")
    return changes
