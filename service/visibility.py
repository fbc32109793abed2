"""Who may see a page: its own publish decision and window, and every ancestor's.

A page keeps the window its editor set (`go_live_at`, `expire_at`) and its own
`live` flag. Readers see it only while it AND every ancestor is live and inside
its own window, so each page also carries effective columns, kept here in the
same transaction as any change to a live flag, a window or the tree:

    tree_live     the page and all its ancestors are live
    public_from   the latest go_live_at among them (null: none)
    public_until  the earliest expire_at among them (null: none)

The intersection of windows is one window, so comparing it with the clock at
read time stays exact: an article in a section that goes live tomorrow appears
tomorrow, on the second, with nothing running. `visible()` is the one SQL test
every public read uses (through content's `x.live = $live` marker), and
`is_public()` the same test on a row already read.
"""

from __future__ import annotations

from datetime import datetime

from service import db
from service.clock import now
from service.models import PageKind

# (content version, next change): the next scheduled boundary, valid until it passes
# or the content version moves (every publish, schedule or move bumps it).
_next: list = [None]

# One level of the tree below its (already current) parents.
_LEVEL = """
UPDATE page SET
    tree_live = (page.live AND q.tree_live),
    public_from = CASE
        WHEN q.public_from IS NULL THEN page.go_live_at
        WHEN page.go_live_at IS NULL OR page.go_live_at < q.public_from THEN q.public_from
        ELSE page.go_live_at END,
    public_until = CASE
        WHEN q.public_until IS NULL THEN page.expire_at
        WHEN page.expire_at IS NULL OR page.expire_at > q.public_until THEN q.public_until
        ELSE page.expire_at END
FROM page q WHERE q.id = page.parent_id AND page.depth = $1 AND page.path LIKE $2
"""
_ROOT = "UPDATE page SET tree_live = live, public_from = go_live_at, public_until = expire_at WHERE parent_id IS NULL"


def visible(alias: str, live: str, at: str, flag: str = "tree_live") -> str:
    """SQL for "readers may see this page at `at`": it and its ancestors live, inside all their windows."""
    return (
        f"{alias}.{flag} = {live} AND ({alias}.public_from IS NULL OR {alias}.public_from <= {at}) "
        f"AND ({alias}.public_until IS NULL OR {alias}.public_until > {at})"
    )


def _when(value):
    return datetime.fromisoformat(value) if value.__class__ is str else value


def is_public(row: dict, at: datetime | None = None) -> bool:
    """`visible()` for a page row already read (a model's __dict__ or a raw row)."""
    at = at or now()
    start, end = row.get("public_from"), row.get("public_until")
    return (
        bool(row.get("tree_live"))
        and (start is None or _when(start) <= at)
        and (end is None or _when(end) > at)
    )


async def refresh(page_id: int) -> None:
    """Recompute the effective columns of a page and its whole subtree, parents first."""
    _next[0] = None  # a window or the tree changes here: next_change asks again (other processes see the version move)
    rows = await db.fetch("SELECT path, depth, kind, parent_id FROM page WHERE id = $1", page_id)
    if not rows:
        return
    path, depth, kind, parent_id = rows[0]["path"], rows[0]["depth"], rows[0]["kind"], rows[0]["parent_id"]
    if parent_id is None:
        await db.execute(_ROOT)
        depth += 1
    deepest = depth
    if kind != PageKind.ARTICLE.value:
        found = await db.fetch("SELECT MAX(depth) AS d FROM page WHERE path LIKE $1", path + "%")
        deepest = found[0]["d"] or depth
    for level in range(depth, deepest + 1):
        await db.execute(_LEVEL, level, path + "%")


async def public_ids(path: str, at: datetime | None = None) -> set[int]:
    """Ids of the pages at or below `path` that readers may see at `at` (now by default)."""
    rows = await db.fetch(
        f"SELECT p.id FROM page p WHERE p.path LIKE $1 AND {visible('p', '$2', '$3')}", path + "%", True, at or now()
    )
    return {row["id"] for row in rows}

# Effective windows are made of the pages' own go_live_at/expire_at, so the earliest
# future one of those (indexed) is never later than the next change of any public_from/until.
_NEXT_CHANGE = (
    "SELECT (SELECT MIN(go_live_at) FROM page WHERE go_live_at > $1 AND live = $2) AS go, "
    "(SELECT MIN(expire_at) FROM page WHERE expire_at > $1 AND live = $2) AS expire, "
    "(SELECT v.value FROM content_version v WHERE v.id = 1) AS version"
)


async def next_change(at: datetime | None = None, version: int | None = None) -> datetime | None:
    """The earliest scheduled go-live or expiry of a live page after `at` (None: nothing scheduled).

    Memoised in the process until that moment or until the content `version` a
    caller read differs from the one it was computed at, so most calls cost no SQL;
    a caller that read no version takes the memo while it lasts.
    """
    at = at or now()
    memo = _next[0]
    if memo is not None and (version is None or memo[0] == version) and (memo[1] is None or at < memo[1]):
        return memo[1]
    rows = await db.read(_NEXT_CHANGE, at, True)
    row = rows[0] if rows else {}
    found = [_when(value) for value in (row.get("go"), row.get("expire")) if value is not None]
    moment = min(found) if found else None
    _next[0] = (row.get("version"), moment)
    return moment
