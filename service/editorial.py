"""The editorial workflow: drafts as revisions, publishing, schedules, preview, deletion.

A page row holds what readers see while it is live; every save stores a
PageRevision with the page's whole editable content and leaves the row alone.
Publishing copies a revision onto the row (tags, authors, related links, slug
and section included). A revision's content is a plain dict, the same shape for
every source (GraphQL, import, CLI); `clean_article` / `clean_section` validate
it and nothing unvalidated is stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service import announcements, blocks, ids, models, pages, redirects, visibility, webhooks
from service.errors import ErrorCode, UserError, no_nul, required_text
from service.models import PageKind

ARTICLE_FIELDS = (
    "section_id", "title", "slug", "headline", "summary", "published_at", "source", "tags", "author_ids",
    "related_ids", "hero_image_id", "body", "seo_title", "search_description", "comments_enabled",
)
SECTION_FIELDS = ("parent_id", "title", "slug", "description", "seo_title", "search_description")
MAX_TAGS = 30
MAX_LINKS = 20
PREVIEW_SECONDS = 3600


def now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def _time(value: Any, field: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise UserError(f"{field} is not an ISO 8601 date-time.", ErrorCode.INVALID, field=field) from None
    if parsed is not None and parsed.tzinfo is None:
        raise UserError(f"{field} needs a time zone, such as 2024-07-16T09:00:00Z.", ErrorCode.INVALID, field=field)
    # Stored in UTC: SQLite compares the text, so every stored time must share one offset.
    return parsed.astimezone(timezone.utc) if parsed is not None else None


def _text(value: Any, field: str, limit: int) -> str:
    value = "" if value is None else value
    if not isinstance(value, str):
        raise UserError(f"{field} must be text.", ErrorCode.INVALID, field=field)
    value = no_nul(value.strip(), field)
    if len(value) > limit:
        raise UserError(f"{field} is longer than {limit} characters.", ErrorCode.TOO_LONG, field=field)
    return value


def _ids(value: Any, field: str, limit: int) -> list[int]:
    out: list[int] = []
    for item in value or []:
        if isinstance(item, bool) or not isinstance(item, int):
            raise UserError(f"{field} must list ids.", ErrorCode.INVALID, field=field)
        if item not in out:
            out.append(item)
    if len(out) > limit:
        raise UserError(f"{field} holds at most {limit} items.", ErrorCode.INVALID, field=field)
    return out


# -- content: snapshots and validation --------------------------------------------


async def snapshot(page: models.Page) -> dict:
    """The editable content of a page as its row holds it (pages made before revisions)."""
    if page.kind == PageKind.SECTION:
        return {
            "kind": "section", "parent_id": page.parent_id, "title": page.title, "slug": page.slug,
            "description": page.description, "seo_title": page.seo_title, "search_description": page.search_description,
        }
    if page.kind != PageKind.ARTICLE:
        return {"kind": page.kind.value, "title": page.title, "seo_title": page.seo_title,
                "search_description": page.search_description}
    tags = await models.ArticleTag.filter(article_id=page.id).order_by("position", "id").values_list("tag__slug", flat=True)
    authors = await models.ArticleAuthor.filter(article_id=page.id).order_by("position", "id").values_list("author_id", flat=True)
    related = await models.ArticleRelation.filter(article_id=page.id).order_by("position", "id").values_list("related_id", flat=True)
    return {
        "kind": "article", "section_id": page.parent_id, "title": page.title, "slug": page.slug,
        "headline": page.headline, "summary": page.summary, "published_at": _iso(page.published_at),
        "source": page.source, "tags": list(tags), "author_ids": list(authors), "related_ids": list(related),
        "hero_image_id": page.hero_image_id, "body": page.body or [], "seo_title": page.seo_title,
        "search_description": page.search_description, "comments_enabled": page.comments_enabled,
    }


async def clean_article(content: Mapping[str, Any], page_id: int | None = None) -> dict:
    """Validate an article's content; raise UserError naming the field at fault."""
    title = required_text(content.get("title"), "title", 255)
    slug = pages._clean_slug(content.get("slug"), title)
    section_id = content.get("section_id")
    section = await models.Page.get_or_none(id=section_id, kind=PageKind.SECTION) if isinstance(section_id, int) else None
    if section is None:
        raise UserError("sectionId is not the id of a section.", ErrorCode.NOT_FOUND, field="section_id")
    published_at = _time(content.get("published_at"), "published_at")
    tags: list[str] = []
    for raw in content.get("tags") or []:
        tag = pages.slugify(_text(raw, "tags", 255))
        if not tag:
            raise UserError("A tag needs at least one letter or digit.", ErrorCode.INVALID, field="tags")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise UserError(f"An article has at most {MAX_TAGS} tags.", ErrorCode.INVALID, field="tags")
    author_ids = _ids(content.get("author_ids"), "author_ids", MAX_LINKS)
    found = set(await models.Author.filter(id__in=author_ids).values_list("id", flat=True))
    if missing := [i for i in author_ids if i not in found]:
        raise UserError(f"No author with id {missing[0]}.", ErrorCode.NOT_FOUND, field="author_ids")
    related_ids = [i for i in _ids(content.get("related_ids"), "related_ids", MAX_LINKS) if i != page_id]
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
        "headline": _text(content.get("headline"), "headline", 512) or title,
        "summary": _text(content.get("summary"), "summary", 2000),
        "published_at": _iso(published_at),
        "source": _text(content.get("source"), "source", 255),
        "tags": tags,
        "author_ids": author_ids,
        "related_ids": related_ids,
        "hero_image_id": hero,
        "body": blocks.validate_body(body, known),
        "seo_title": _text(content.get("seo_title"), "seo_title", 255),
        "search_description": _text(content.get("search_description"), "search_description", 1000),
        "comments_enabled": comments_enabled,
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
        "slug": pages._clean_slug(content.get("slug"), title),
        "description": _text(content.get("description"), "description", 5000),
        "seo_title": _text(content.get("seo_title"), "seo_title", 255),
        "search_description": _text(content.get("search_description"), "search_description", 1000),
    }


async def _clean(kind: PageKind, content: Mapping[str, Any], page_id: int | None) -> dict:
    if kind == PageKind.ARTICLE:
        return await clean_article(content, page_id)
    if kind == PageKind.SECTION:
        return await clean_section(content)
    raise UserError("The home page is edited through the site settings.", ErrorCode.INVALID)


# -- revisions ---------------------------------------------------------------------


async def _add_revision(page: models.Page, content: dict, by: str, message: str = "",
                        base_revision_id: int | None = None, check_base: bool = False) -> models.PageRevision:
    """Store a revision as the page's latest; CONFLICT when the base is not the latest."""
    async with in_transaction():
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
    page.latest_revision_id, page.has_unpublished_changes = revision.id, True
    return revision


async def latest_content(page: models.Page) -> dict:
    if page.latest_revision_id is not None:
        revision = await models.PageRevision.get_or_none(id=page.latest_revision_id)
        if revision is not None:
            return dict(revision.content)
    return await snapshot(page)


async def create_article(content: Mapping[str, Any], by: str) -> tuple[models.Page, models.PageRevision]:
    """A new article as an unpublished draft (revision 1)."""
    clean = await clean_article(content)
    section = await models.Page.get(id=clean["section_id"])
    async with in_transaction():
        page = await pages.create_article(
            section=section, title=clean["title"], slug=clean["slug"], body=clean["body"], headline=clean["headline"],
            summary=clean["summary"], published_at=_time(clean["published_at"], "published_at"),
            source=clean["source"], live=False, seo_title=clean["seo_title"],
            search_description=clean["search_description"], comments_enabled=clean["comments_enabled"],
            hero_image=await models.Image.get(id=clean["hero_image_id"]) if clean["hero_image_id"] else None,
        )
        page.first_published_at = page.last_published_at = None
        revision = await _add_revision(page, clean, by, "Created")
    return await models.Page.get(id=page.id), revision


async def create_section(content: Mapping[str, Any], by: str) -> tuple[models.Page, models.PageRevision]:
    """A new section; unpublished until published, like an article."""
    clean = await clean_section(content)
    async with in_transaction():
        page = await pages.create_section(
            parent=await models.Page.get(id=clean["parent_id"]), title=clean["title"], slug=clean["slug"],
            description=clean["description"], seo_title=clean["seo_title"], search_description=clean["search_description"],
        )
        await models.Page.filter(id=page.id).update(live=False, first_published_at=None, last_published_at=None)
        await visibility.refresh(page.id)
        revision = await _add_revision(page, clean, by, "Created")
    return await models.Page.get(id=page.id), revision


async def _prune(content: dict) -> dict:
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
    content = await _prune(await latest_content(page))
    content.update({k: v for k, v in changes.items()})
    clean = await _clean(page.kind, content, page.id)
    return await _add_revision(page, clean, by, message, base_revision_id, check_base)


async def revert(page: models.Page, revision_id: int, by: str) -> models.PageRevision:
    """Restore an earlier revision as a new draft (history is never rewritten)."""
    old = await models.PageRevision.get_or_none(id=revision_id, page_id=page.id)
    if old is None:
        raise UserError("That revision does not belong to this page.", ErrorCode.NOT_FOUND, field="revision_id")
    clean = await _clean(page.kind, await _prune(dict(old.content)), page.id)
    return await _add_revision(page, clean, by, f"Reverted to revision {old.number}")


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


# -- publishing ----------------------------------------------------------------------


async def _subtree(page: models.Page) -> list[tuple[int, str]]:
    rows = await models.Page.filter(path__startswith=page.path).values_list("id", "url_path")
    return [(row[0], row[1]) for row in rows]


async def _apply(page: models.Page, content: dict) -> None:
    """Copy a revision's content onto the page row and its link tables."""
    if page.kind == PageKind.ARTICLE:
        body = content["body"]
        text = blocks.body_text(body)
        published_at = _time(content["published_at"], "published_at") or page.published_at or now()
        await models.Page.filter(id=page.id).update(
            title=content["title"], headline=content["headline"], summary=content["summary"],
            published_at=published_at, source=content["source"], hero_image_id=content["hero_image_id"],
            body=body, body_text=text,
            reading_time=blocks.reading_time(" ".join((content["title"], content["summary"], text))),
            seo_title=content["seo_title"], search_description=content["search_description"] or content["summary"][:300],
            comments_enabled=content["comments_enabled"],
        )
        await pages.set_tags(page, content["tags"])
        authors = {a.id: a for a in await models.Author.filter(id__in=content["author_ids"])}
        await pages.set_authors(page, [authors[i] for i in content["author_ids"] if i in authors])
        related = {p.id: p for p in await models.Page.filter(id__in=content["related_ids"])}
        await pages.set_related(page, [related[i] for i in content["related_ids"] if i in related])
        new_parent_id = content["section_id"]
    else:
        await models.Page.filter(id=page.id).update(
            title=content["title"], description=content.get("description", ""), seo_title=content["seo_title"],
            search_description=content["search_description"],
        )
        new_parent_id = content.get("parent_id", page.parent_id)
    # Place: section and slug last, so their URL changes cover the whole subtree.
    if new_parent_id != page.parent_id:
        await pages.move_page(page, await models.Page.get(id=new_parent_id))
        page = await models.Page.get(id=page.id)
    if content["slug"] != page.slug:
        await pages.rename_page(page, content["slug"])


class _Keep:
    """The default of a window argument: leave that end of the page's window as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


def _window(page: models.Page, go_live_at: Any, expire_at: Any) -> tuple[datetime | None, datetime | None]:
    """The window after a call: each end given (None clears it) or kept; a given expiry must lie ahead."""
    go = page.go_live_at if go_live_at is KEEP else _time(go_live_at, "go_live_at")
    expire = page.expire_at if expire_at is KEEP else _time(expire_at, "expire_at")
    if expire_at is not KEEP and expire is not None and expire <= now():
        raise UserError("expireAt must be in the future and after goLiveAt.", ErrorCode.INVALID, field="expire_at")
    if go is not None and expire is not None and expire <= go:
        raise UserError("expireAt must be in the future and after goLiveAt.", ErrorCode.INVALID, field="expire_at")
    return go, expire


async def publish(page: models.Page, revision_id: int | None, by: str, *, go_live_at: Any = KEEP,
                  expire_at: Any = KEEP) -> models.PageRevision:
    """Make a revision (the latest by default) what readers see.

    The page keeps its own go-live/expiry window unless a new end is given (None
    clears it). Publishing below a section that is scheduled or expired is
    allowed: readers see the page when, and only while, every ancestor is visible.
    """
    if page.kind == PageKind.HOME:
        raise UserError("The home page is always live.", ErrorCode.INVALID)
    go, expire = _window(page, go_live_at, expire_at)
    if revision_id is None and page.latest_revision_id is None:
        await _add_revision(page, await snapshot(page), by, "Snapshot before publishing")
    revision = await models.PageRevision.get_or_none(id=revision_id or page.latest_revision_id, page_id=page.id)
    if revision is None:
        raise UserError("That revision does not belong to this page.", ErrorCode.NOT_FOUND, field="revision_id")
    content = await _clean(page.kind, await _prune(dict(revision.content)), page.id)  # links may have gone since
    if page.kind == PageKind.ARTICLE:
        parent = await models.Page.get(id=content["section_id"])
    else:
        parent = await models.Page.get(id=content["parent_id"])
    if not parent.live and parent.kind != PageKind.HOME:
        raise UserError("Publish the parent section first.", ErrorCode.INVALID_PARENT, field="id")
    was_public = page.first_published_at is not None  # links to its old path may be out there
    old_url = page.url_path
    old_subtree = await _subtree(page) if was_public else []
    stamp = now()
    async with in_transaction():
        before = await visibility.public_ids(page.path)
        await _apply(page, content)
        first = page.first_published_at or (go or stamp)
        await models.Page.filter(id=page.id).update(
            live=True, first_published_at=first, last_published_at=go or stamp, go_live_at=go, expire_at=expire,
            live_revision_id=revision.id, has_unpublished_changes=revision.id != page.latest_revision_id,
        )
        await visibility.refresh(page.id)
        fresh = await models.Page.get(id=page.id)
        if was_public:
            await redirects.record_move(page.id, old_url, fresh.url_path, old_subtree)
        await models.Redirect.filter(old_path=fresh.url_path).delete()  # the page lives there now
        public = visibility.is_public(fresh.__dict__)
        data = announcements.event(fresh, public=public, revision=revision)
        if not public:
            data["publicFrom"] = announcements.public_from(fresh)
        await webhooks.enqueue("page.published", data)
        await announcements.newly_public(fresh.path, before, {"cause": ids.global_id(fresh)}, skip=[fresh.id])
    return revision


async def unpublish(page: models.Page, by: str) -> int:
    """Take a page and everything below it off the site; returns how many pages."""
    if page.kind == PageKind.HOME:
        raise UserError("The home page cannot be unpublished.", ErrorCode.INVALID)
    async with in_transaction():
        before = await visibility.public_ids(page.path)
        count = await models.Page.filter(path__startswith=page.path, live=True).update(live=False, has_unpublished_changes=True)
        await visibility.refresh(page.id)
        data = announcements.event(page, public=page.id in before)
        await webhooks.enqueue("page.unpublished", data | {"pages": count, "by": by})
    return count


async def schedule(page: models.Page, go_live_at: Any, expire_at: Any, by: str) -> models.Page:
    """Set the page's own window (KEEP leaves an end as it is, None clears it),
    publishing the latest revision when the page is not live yet. A section's window
    limits everything below it without touching their own windows; every read checks
    them all."""
    if page.kind == PageKind.HOME:
        raise UserError("The home page is always live; it has no schedule.", ErrorCode.INVALID, field="id")
    go, expire = _window(page, go_live_at, expire_at)
    async with in_transaction():
        if (go is not None or expire is not None) and not page.live:
            await publish(page, None, by, go_live_at=go, expire_at=expire)
            return await models.Page.get(id=page.id)
        before = await visibility.public_ids(page.path)
        await models.Page.filter(id=page.id).update(go_live_at=go, expire_at=expire)
        await visibility.refresh(page.id)
        after = await announcements.newly_public(page.path, before, {"scheduled": True})
        if page.id in before and page.id not in after:
            fresh = await models.Page.get(id=page.id)
            data = announcements.event(page, public=True) | {"scheduled": True, "pages": len(before - after)}
            await webhooks.enqueue("page.unpublished", data | {"publicFrom": announcements.public_from(fresh)})
    return await models.Page.get(id=page.id)


_INSTANT = timedelta(microseconds=1)


def _just_before(page: models.Page, boundary: datetime) -> datetime:
    """The instant whose visibility a passed boundary changed: just before it, or, for a
    page (re)published after it, its publication (what readers saw since was announced then)."""
    published = page.last_published_at
    return published if published is not None and published > boundary else boundary - _INSTANT


async def record_transitions() -> dict[str, int]:
    """Turn passed schedule boundaries into plain state, firing their webhooks.

    Readers never depend on this (the windows are checked on every read); it keeps
    the tables tidy and tells subscribers. A page that became visible at a boundary
    (its own, or an ancestor's: every page below a section whose embargo passed)
    gets page.published; a page visible until its expiry gets page.unpublished.
    Every serving process runs it: each row changes under a condition, and only
    the process whose UPDATE changed it sends the events.
    """
    stamp = now()
    went_live = expired = 0
    for page in await models.Page.filter(live=True, go_live_at__lte=stamp).order_by("depth", "id"):
        async with in_transaction():
            before = await visibility.public_ids(page.path, _just_before(page, page.go_live_at))
            if await models.Page.filter(id=page.id, live=True, go_live_at__lte=stamp).update(go_live_at=None):
                # Passed boundaries below are announced with this one, not again on their own.
                await models.Page.filter(path__startswith=page.path, go_live_at__lte=stamp).update(go_live_at=None)
                await visibility.refresh(page.id)
                await announcements.newly_public(page.path, before, {"scheduled": True})
                went_live += 1
    for page in await models.Page.filter(live=True, expire_at__lte=stamp).order_by("depth", "id"):
        async with in_transaction():
            before = await visibility.public_ids(page.path, _just_before(page, page.expire_at))
            changed = await models.Page.filter(id=page.id, live=True, expire_at__lte=stamp).update(
                live=False, expire_at=None, has_unpublished_changes=True
            )
            if changed:
                await visibility.refresh(page.id)
                if page.id in before:  # nothing to tell about a page readers could not see anyway
                    data = announcements.event(page, public=True) | {"expired": True, "pages": len(before)}
                    await webhooks.enqueue("page.unpublished", data)
                expired += 1
    return {"published": went_live, "expired": expired}


async def move(page: models.Page, parent: models.Page, position: int | None, by: str) -> models.Page:
    """Move a page (and its subtree) now; old public paths redirect to the new ones.

    The draft follows: a newer revision records the new parent, so publishing it
    later does not move the page back. Below a scheduled or expired section the
    page is hidden until (and unless) the section is visible.
    """
    if page.live and not parent.tree_live:
        raise UserError("Publish the target section first: readers would lose this page.", ErrorCode.INVALID_PARENT,
                        field="parent_id")
    was_public = page.first_published_at is not None
    old_subtree = await _subtree(page) if was_public else []
    async with in_transaction():
        before = await visibility.public_ids(page.path)
        moved = await pages.move_page(page, parent, position)
        if was_public:
            await redirects.record_move(page.id, page.url_path, moved.url_path, old_subtree)
        if page.latest_revision_id is not None and parent.id != page.parent_id:
            data = await latest_content(page)
            data["section_id" if page.kind == PageKind.ARTICLE else "parent_id"] = parent.id
            await _add_revision(moved, data, by, f"Moved below {parent.title}")
            if page.live_revision_id == page.latest_revision_id:  # nothing else was pending
                await models.Page.filter(id=page.id).update(live_revision_id=moved.latest_revision_id, has_unpublished_changes=False)
        after = await announcements.newly_public(moved.path, before, {"moved": True})
        if page.id in before and page.id not in after:
            data = announcements.event(page, public=True) | {"moved": True, "pages": len(before - after), "by": by}
            await webhooks.enqueue("page.unpublished", data)
    return await models.Page.get(id=page.id)


async def delete(page: models.Page, by: str) -> int:
    """Delete a page and its subtree (revisions, comments and links go with them)."""
    if page.kind == PageKind.HOME:
        raise UserError("The home page cannot be deleted.", ErrorCode.INVALID)
    async with in_transaction():
        public = page.id in await visibility.public_ids(page.path)
        rows = await models.Page.filter(path__startswith=page.path).order_by("-depth").values_list("id", flat=True)
        for page_id in rows:  # deepest first: parents are protected while they have children
            await models.Page.filter(id=page_id).delete()
        await webhooks.enqueue("page.deleted", announcements.event(page, public=public) | {"pages": len(rows), "by": by})
    return len(rows)


async def update_site_settings(changes: Mapping[str, Any]) -> models.SiteSettings:
    """Validate and store site settings (creating the row on a fresh site)."""
    from urllib.parse import urlsplit

    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = required_text(changes["name"], "name", 255)
    if "tagline" in changes:
        clean["tagline"] = _text(changes["tagline"], "tagline", 255)
    if "social_links" in changes:
        links = []
        for index, link in enumerate(changes["social_links"]):
            network = pages.slugify(_text(link.get("network"), f"social_links.{index}", 40))
            url = _text(link.get("url"), f"social_links.{index}", 1024)
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
        return await models.SiteSettings.create(**clean)
    if clean:
        await models.SiteSettings.filter(id=settings.id).update(**clean)
    return await models.SiteSettings.get(id=settings.id)


# -- preview tokens --------------------------------------------------------------------


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


async def draft_page(page: models.Page, content: Mapping[str, Any]) -> models.Page:
    """An unsaved copy of the page row with a revision's content on it, for previews."""
    from service.runtime.rows import build_instance

    values = dict(page.__dict__)
    values.update(title=content["title"], slug=content["slug"], seo_title=content.get("seo_title", ""),
                  search_description=content.get("search_description", ""))
    if page.kind == PageKind.ARTICLE:
        body = content["body"]
        text = blocks.body_text(body)
        values.update(
            headline=content["headline"], summary=content["summary"], source=content["source"],
            published_at=_time(content["published_at"], "published_at") or page.published_at or now(),
            hero_image_id=content["hero_image_id"], body=body, comments_enabled=content["comments_enabled"],
            reading_time=blocks.reading_time(" ".join((content["title"], content["summary"], text))),
            parent_id=content["section_id"],
        )
    elif page.kind == PageKind.SECTION:
        values.update(description=content.get("description", ""))
    values["_preview_content"] = dict(content)
    return build_instance(models.Page, values)
