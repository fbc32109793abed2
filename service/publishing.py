"""Publishing: a revision onto the page row, windows, transitions, moves and deletion.

Publishing copies a revision (service/drafts.py) onto the page row (tags,
authors, related links, slug and section included). Every change that alters
what readers may see sends its webhooks (service/announcements.py) in the same
transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


from service import (
    announcements, blocks, db, drafts, fields, ids, models, pages, purges, redirects, references, visibility, webhooks,
)
from service.clock import now
from service.errors import ErrorCode, UserError
from service.models import PageKind




async def _subtree(page: models.Page) -> list[tuple[int, str]]:
    rows = await models.Page.filter(path__startswith=page.path).values_list("id", "url_path")
    return [(row[0], row[1]) for row in rows]


async def _apply(page: models.Page, content: dict) -> None:
    """Copy a revision's content onto the page row and its link tables."""
    if page.kind == PageKind.ARTICLE:
        body = content["body"]
        text = blocks.body_text(body)
        published_at = fields.aware_time(content["published_at"], "published_at") or page.published_at or now()
        await models.Page.filter(id=page.id).update(
            title=content["title"], headline=content["headline"], summary=content["summary"],
            published_at=published_at, source=content["source"], hero_image_id=content["hero_image_id"],
            hero_caption=content.get("hero_caption", ""), body=body, body_text=text,
            reading_time=blocks.reading_time(" ".join((content["title"], content["summary"], text))),
            seo_title=content["seo_title"], search_description=content["search_description"] or content["summary"][:300],
            comments_enabled=content["comments_enabled"], show_in_menus=content["show_in_menus"],
        )
        await pages.set_tags(page, content["tags"])
        authors = {a.id: a for a in await models.Author.filter(id__in=content["author_ids"])}
        await pages.set_authors(page, [authors[i] for i in content["author_ids"] if i in authors])
        related = {p.id: p for p in await models.Page.filter(id__in=content["related_ids"])}
        await pages.set_related(page, [related[i] for i in content["related_ids"] if i in related])
        await references.index(page.id, references.LIVE, content)
        new_parent_id = content["section_id"]
    else:
        await models.Page.filter(id=page.id).update(
            title=content["title"], description=content.get("description", ""), seo_title=content["seo_title"],
            search_description=content["search_description"], show_in_menus=content["show_in_menus"],
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
    go = page.go_live_at if go_live_at is KEEP else fields.aware_time(go_live_at, "go_live_at")
    expire = page.expire_at if expire_at is KEEP else fields.aware_time(expire_at, "expire_at")
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
        await drafts.add_revision(page, await drafts.snapshot(page), by, "Snapshot before publishing")
    revision = await models.PageRevision.get_or_none(id=revision_id or page.latest_revision_id, page_id=page.id)
    if revision is None:
        raise UserError("That revision does not belong to this page.", ErrorCode.NOT_FOUND, field="revision_id")
    content = await drafts.clean_content(page.kind, await drafts.prune_related(dict(revision.content)), page.id)  # links may have gone since
    if page.kind == PageKind.ARTICLE:
        parent = await models.Page.get(id=content["section_id"])
    else:
        parent = await models.Page.get(id=content["parent_id"])
    if not parent.live and parent.kind != PageKind.HOME:
        raise UserError("Publish the parent section first.", ErrorCode.INVALID_PARENT, field="id")
    was_public = page.first_published_at is not None  # links to its old path may be out there
    old_url = page.url_path
    old_subtree = await _subtree(page) if was_public else []
    old_keys = await purges.page_keys([page.id])  # its old section, tags and authors
    stamp = now()
    async with db.serialised():
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
        after = await announcements.newly_public(fresh.path, before, {"cause": ids.global_id(fresh)}, skip=[fresh.id])
    moved = fresh.url_path != old_url
    await purges.pages_changed({page.id} | (before ^ after) | (before if moved else set()), old_keys, redirects=moved)
    return revision


async def unpublish(page: models.Page, by: str, *, force: bool = False) -> int:
    """Take a page and everything below it off the site; returns how many pages.

    PageIsLinked when live pages link into it, unless `force`: their links then show
    as plain text (their responses carry the target's `p:` key, which this purges)."""
    if page.kind == PageKind.HOME:
        raise UserError("The home page cannot be unpublished.", ErrorCode.INVALID)
    if not force:
        await references.check_unlinked(page, force)
    async with db.serialised():
        before = await visibility.public_ids(page.path)
        count = await models.Page.filter(path__startswith=page.path, live=True).update(live=False, has_unpublished_changes=True)
        await visibility.refresh(page.id)
        data = announcements.event(page, public=page.id in before)
        await webhooks.enqueue("page.unpublished", data | {"pages": count, "by": by})
    await purges.pages_changed(before | {page.id})
    return count


async def schedule(page: models.Page, go_live_at: Any, expire_at: Any, by: str) -> models.Page:
    """Set the page's own window (KEEP leaves an end as it is, None clears it),
    publishing the latest revision when the page is not live yet. A section's window
    limits everything below it without touching their own windows; every read checks
    them all."""
    if page.kind == PageKind.HOME:
        raise UserError("The home page is always live; it has no schedule.", ErrorCode.INVALID, field="id")
    go, expire = _window(page, go_live_at, expire_at)
    async with db.serialised():
        before = await visibility.public_ids(page.path)
        if (go is not None or expire is not None) and not page.live:
            await publish(page, None, by, go_live_at=go, expire_at=expire)  # its purge comes before this commit
            after = await visibility.public_ids(page.path)
        else:
            await models.Page.filter(id=page.id).update(go_live_at=go, expire_at=expire)
            await visibility.refresh(page.id)
            after = await announcements.newly_public(page.path, before, {"scheduled": True})
            if page.id in before and page.id not in after:
                fresh = await models.Page.get(id=page.id)
                data = announcements.event(page, public=True) | {"scheduled": True, "pages": len(before - after)}
                await webhooks.enqueue("page.unpublished", data | {"publicFrom": announcements.public_from(fresh)})
    await purges.pages_changed({page.id} | (before ^ after))
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
        async with db.serialised():
            before = await visibility.public_ids(page.path, _just_before(page, page.go_live_at))
            after = None
            if await models.Page.filter(id=page.id, live=True, go_live_at__lte=stamp).update(go_live_at=None):
                # Passed boundaries below are announced with this one, not again on their own.
                await models.Page.filter(path__startswith=page.path, go_live_at__lte=stamp).update(go_live_at=None)
                await visibility.refresh(page.id)
                after = await announcements.newly_public(page.path, before, {"scheduled": True})
                went_live += 1
        if after is not None:
            await purges.pages_changed({page.id} | (before ^ after))
    for page in await models.Page.filter(live=True, expire_at__lte=stamp).order_by("depth", "id"):
        async with db.serialised():
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
        if changed:
            await purges.pages_changed(before | {page.id})
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
    old_keys = await purges.page_keys([page.id])  # its old section's lists
    async with db.serialised():
        before = await visibility.public_ids(page.path)
        moved = await pages.move_page(page, parent, position)
        if was_public:
            await redirects.record_move(page.id, page.url_path, moved.url_path, old_subtree)
        if page.latest_revision_id is not None and parent.id != page.parent_id:
            data = await drafts.latest_content(page)
            data["section_id" if page.kind == PageKind.ARTICLE else "parent_id"] = parent.id
            await drafts.add_revision(moved, data, by, f"Moved below {parent.title}")
            if page.live_revision_id == page.latest_revision_id:  # nothing else was pending
                await models.Page.filter(id=page.id).update(live_revision_id=moved.latest_revision_id, has_unpublished_changes=False)
        after = await announcements.newly_public(moved.path, before, {"moved": True})
        if page.id in before and page.id not in after:
            data = announcements.event(page, public=True) | {"moved": True, "pages": len(before - after), "by": by}
            await webhooks.enqueue("page.unpublished", data)
    await purges.pages_changed({page.id} | before | after, old_keys, redirects=was_public)
    return await models.Page.get(id=page.id)


async def delete(page: models.Page, by: str, *, force: bool = False) -> int:
    """Delete a page and its subtree (revisions, comments and links go with them); PageIsLinked as for unpublish."""
    if page.kind == PageKind.HOME:
        raise UserError("The home page cannot be deleted.", ErrorCode.INVALID)
    if not force:
        await references.check_unlinked(page, force)
    async with db.serialised():
        public = page.id in await visibility.public_ids(page.path)
        rows = await models.Page.filter(path__startswith=page.path).order_by("-depth").values_list("id", flat=True)
        keys = await purges.page_keys(rows)  # while the rows are there to say where they were
        for page_id in rows:  # deepest first: parents are protected while they have children
            await models.Page.filter(id=page_id).delete()
        await webhooks.enqueue("page.deleted", announcements.event(page, public=public) | {"pages": len(rows), "by": by})
    await purges.purge(keys | {"redirects"})
    return len(rows)
