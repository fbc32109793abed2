"""Redirects: old paths that now live elsewhere.

A redirect points at a page (recorded automatically when a live page's URL path
changes, and following the page wherever it moves next) or at a path (added by an
editor). Lookups follow chains to the final target; loops are refused on write.
"""

from __future__ import annotations

from dataclasses import dataclass

from service import models, purges, visibility
from service.clock import now
from service.errors import ErrorCode, UserError

MAX_HOPS = 10
MAX_PATH = 1024


def normalise(path: str, field: str = "path") -> str:
    """A site path in canonical form: leading and trailing slash, no query or host."""
    path = (path or "").strip()
    if not path:
        raise UserError("A path is required.", ErrorCode.REQUIRED, field=field)
    if len(path) > MAX_PATH:
        raise UserError(f"A path is at most {MAX_PATH} characters.", ErrorCode.TOO_LONG, field=field)
    if "://" in path or path.startswith("//") or any(c in path for c in "?#\\ \t\n\x00"):
        raise UserError("A path is a site path such as /world-news/old-story/, without host or query.", ErrorCode.INVALID, field=field)
    if not path.startswith("/"):
        path = "/" + path
    if not path.endswith("/"):
        path += "/"
    return path


@dataclass
class Target:
    path: str
    is_permanent: bool


async def _step(path: str) -> models.Redirect | None:
    return await models.Redirect.get_or_none(old_path=path).select_related("page")


def _target_of(redirect: models.Redirect) -> str:
    return redirect.page.url_path if redirect.page_id is not None else redirect.target_path


async def _public(redirect: models.Redirect) -> bool:
    """A redirect to a page readers cannot see (a draft, or below an embargoed or
    expired section) would reveal its path: by page, or by a path that is a page's."""
    page = redirect.page
    if page is None:
        page = await models.Page.get_or_none(url_path=redirect.target_path)
    return page is None or visibility.is_public(page.__dict__, now())


async def resolve(path: str) -> Target | None:
    """Where a path redirects to, chains collapsed; permanent only if every hop is.
    Hops to pages readers cannot see end the chain there (nothing to show)."""
    path = normalise(path)
    seen = {path}
    permanent = True
    target: str | None = None
    current = path
    for _ in range(MAX_HOPS):
        redirect = await _step(current)
        if redirect is None:
            break
        if not await _public(redirect):
            return None
        permanent = permanent and redirect.is_permanent
        target = _target_of(redirect)
        if target in seen:  # a loop left by later changes: stop at the last good hop
            break
        seen.add(target)
        current = target
    return Target(target, permanent) if target is not None else None


async def add(old_path: str, *, target_path: str | None = None, page: models.Page | None = None,
              is_permanent: bool = True) -> models.Redirect:
    """An editor's redirect; refuses one that would loop back to its own path."""
    old = normalise(old_path, "old_path")
    if page is None and target_path is None:
        raise UserError("A redirect needs a target page or path.", ErrorCode.REQUIRED, field="target_path")
    target = page.url_path if page is not None else normalise(target_path, "target_path")
    if target == old:
        raise UserError("A redirect cannot point at its own path.", ErrorCode.INVALID, field="target_path")
    # Follow the target's own chain: reaching `old` again would be a loop.
    current, hops = target, 0
    while hops < MAX_HOPS:
        step = await _step(current)
        if step is None:
            break
        current = _target_of(step)
        if current == old:
            raise UserError(f"{old} -> {target} would loop back to {old}.", ErrorCode.INVALID, field="target_path")
        hops += 1
    if await models.Redirect.exists(old_path=old):
        raise UserError(f"{old} already redirects; delete that redirect first.", ErrorCode.DUPLICATE, field="old_path")
    redirect = await models.Redirect.create(
        old_path=old, page_id=page.id if page else None, target_path="" if page else target, is_permanent=is_permanent
    )
    await purges.purge(["redirects"])
    return redirect


async def record_move(page_id: int, old_url: str, new_url: str, old_subtree: list[tuple[int, str]]) -> None:
    """After a live page (and its subtree) changed path: old paths point at the pages.

    Redirects pointing at the pages follow them already; a redirect whose old path is
    a page's new path is dropped (the page is back where it was).
    """
    if old_url == new_url:
        return
    for moved_id, moved_old_path in old_subtree:
        await models.Redirect.filter(old_path=moved_old_path).delete()
        await models.Redirect.create(old_path=moved_old_path, page_id=moved_id, is_permanent=True, automatic=True)
    new_paths = await models.Page.filter(id__in=[pid for pid, _ in old_subtree]).values_list("url_path", flat=True)
    await models.Redirect.filter(old_path__in=list(new_paths)).delete()


async def listing(first: int, before_id: int | None = None) -> list[models.Redirect]:
    """Stored redirects, newest first, those older than `before_id` when given."""
    query = models.Redirect.all()
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(first)


async def delete(redirect_id: int) -> models.Redirect:
    """Delete one redirect; the row as it was, or a NOT_FOUND UserError."""
    redirect = await models.Redirect.get_or_none(id=redirect_id)
    if redirect is None:
        raise UserError("There is no such redirect.", ErrorCode.NOT_FOUND, field="id")
    await redirect.delete()
    await purges.purge(["redirects"])
    return redirect
