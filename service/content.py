"""Read queries for the public API: batched by id, so callers issue one query a batch.

Everything here returns what readers may see: live pages, approved comments.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson

from service import db, models, visibility
from service.clock import now
from service.errors import ErrorCode, UserError, is_row_id
from service.models import CommentStatus, PageKind


class _Columns:
    """A raw SELECT's column list, read off the model once Tortoise has set it up."""

    def __init__(self, model, alias: str, prefix: str = "", skip: tuple[str, ...] = ()) -> None:
        self.model, self.alias, self.prefix, self.skip, self._text = model, alias, prefix, skip, ""

    def __format__(self, spec: str) -> str:
        if not self._text:
            names = sorted(set(self.model._meta.fields_db_projection.values()) - set(self.skip))
            columns = [f"{self.alias}.{name} AS {self.prefix}{name}" for name in names]
            if self.model is models.Page and not self.prefix:
                columns.append(f"({CURRENT_VERSION}) AS content_version")
            self._text = ", ".join(columns)
        return self._text


# Bumped by triggers on every change to published content (migration 0004); pages
# carry the version they were read at, so caches keyed by it stay exact.
CURRENT_VERSION = "SELECT v.value FROM content_version v WHERE v.id = 1"


# body_text feeds the search index only; lists leave out the body too (cards never
# show it) and ArticlePage.body loads it on demand for them.
PAGE_COLUMNS = _Columns(models.Page, "p", skip=("body_text",))
LIST_COLUMNS = _Columns(models.Page, "p", skip=("body_text", "body"))
PARENT_COLUMNS = _Columns(models.Page, "s", prefix="s__", skip=("body_text", "body"))
COMMENT_COLUMNS = _Columns(models.Comment, "c")
LIVE_ARTICLE = "p.kind = 'article' AND p.live = $live"

_PAGE_TIMES = (
    "first_published_at", "last_published_at", "created_at", "published_at", "go_live_at", "expire_at",
    "public_from", "public_until",
)
_PAGE_FLAGS = ("live", "comments_enabled", "tree_live")


def _when(value):
    # SQLite hands back text; PostgreSQL a datetime already.
    return datetime.fromisoformat(value) if value.__class__ is str else value


def _page(row: dict) -> models.Page:
    """A read-only Page from a raw row (much cheaper than Tortoise's generic path)."""
    for key in _PAGE_TIMES:
        if row[key] is not None:
            row[key] = _when(row[key])
    for key in _PAGE_FLAGS:
        row[key] = bool(row[key])
    row["kind"] = PageKind(row["kind"])
    body = row.get("body", None)
    row["body"] = orjson.loads(body) if isinstance(body, (str, bytes)) else body
    return _instance(models.Page, row)


def _comment(row: dict) -> models.Comment:
    row["created_at"] = _when(row["created_at"])
    row["status"] = CommentStatus(row["status"])
    return _instance(models.Comment, row)


def _instance(model, values: dict):
    obj = object.__new__(model)
    obj.__dict__.update(values)
    obj.__dict__.update(_partial=False, _saved_in_db=True, _custom_generated_pk=False, _await_when_save={})
    return obj


def _pages(rows: Iterable[dict]) -> list[models.Page]:
    return [_page(row) for row in rows]


_LIVE = re.compile(r"\b(\w+)\.live = \$live")
# Aliases of article_tag, whose `live` column copies the article's tree_live and
# whose public_from/public_until copy its effective window.
_TAG_ALIASES = frozenset({"t1", "t2"})


def visible(alias: str, live: str, at: str) -> str:
    """SQL for "readers may see this page now": it and every ancestor published,
    inside all their schedule windows (see service.visibility)."""
    return visibility.visible(alias, live, at)


def _sql(text: str, params: list) -> tuple[str, list]:
    """Number named markers after the positional ones: `x.live = $live` on a page
    alias means visible now (see `visible`), checked at query time, so a scheduled
    page (or a page below a scheduled section) appears and expires on the second
    without any job running."""
    if "$live" in text:
        params = [*params, True, now()]
        live, at = f"${len(params) - 1}", f"${len(params)}"
        text = _LIVE.sub(
            lambda m: visibility.visible(m[1], live, at, "live" if m[1] in _TAG_ALIASES else "tree_live"), text
        )
    return text, params


def is_public(row: dict, at: datetime) -> bool:
    """Whether a page row read earlier is public at `at` (it and its ancestors live, inside their windows)."""
    return visibility.is_public(row, at)


in_window = is_public  # the older name; it now checks the whole effective state


async def _fetch(text: str, *params, heavy: bool = False) -> list[dict]:
    """Run a public read; `heavy` ones (full-text ranking) go off the event loop."""
    text, values = _sql(text, list(params))
    return await (db.fetch if heavy else db.read)(text, *values)


# -- pages -----------------------------------------------------------------


async def page_by_url_path(url_path: str) -> models.Page | None:
    if not url_path.startswith("/"):
        url_path = "/" + url_path
    if not url_path.endswith("/"):
        url_path += "/"
    rows = await _fetch(f"SELECT {PAGE_COLUMNS} FROM page p WHERE p.url_path = $1 AND p.live = $live", url_path)
    return _pages(rows)[0] if rows else None


async def pages_by_ids(ids: Sequence[int]) -> dict[int, models.Page]:
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await _fetch(f"SELECT {LIST_COLUMNS} FROM page p WHERE p.id IN ({placeholders}) AND p.live = $live", *ids)
    return {page.id: page for page in _pages(rows)}


async def bodies_by_page_ids(ids: Sequence[int]) -> dict[int, list[dict]]:
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await db.read(f"SELECT p.id, p.body FROM page p WHERE p.id IN ({placeholders})", *ids)
    return {row["id"]: orjson.loads(row["body"]) if isinstance(row["body"], (str, bytes)) else row["body"] for row in rows}


def ancestor_ids(page: models.Page) -> list[int]:
    """Ids of the page's ancestors, root first, read off its materialised path."""
    return [int(part) for part in page.path.strip("/").split("/")[:-1]]


async def navigation_children(parent_ids: Sequence[int]) -> dict[int, list[models.Page]]:
    """Live non-article children of each parent, in menu order."""
    placeholders = ", ".join(f"${i + 1}" for i in range(len(parent_ids)))
    rows = await _fetch(
        f"SELECT {LIST_COLUMNS} FROM page p WHERE p.parent_id IN ({placeholders}) "
        f"AND p.kind <> 'article' AND p.live = $live ORDER BY p.position, p.id",
        *parent_ids,
    )
    grouped: dict[int, list[models.Page]] = defaultdict(list)
    for page in _pages(rows):
        grouped[page.parent_id].append(page)
    return grouped


async def top_sections() -> list[models.Page]:
    rows = await _fetch(
        f"SELECT {LIST_COLUMNS} FROM page p JOIN page h ON h.id = p.parent_id AND h.kind = 'home' "
        f"WHERE p.kind = 'section' AND p.live = $live ORDER BY p.position, p.id"
    )
    return _pages(rows)


# -- snippets and images ----------------------------------------------------


async def authors_by_article_ids(ids: Sequence[int]) -> dict[int, list[models.Author]]:
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await db.read(
        f"SELECT l.article_id AS link_article_id, a.id, a.name, a.slug, a.bio FROM article_author l "
        f"JOIN author a ON a.id = l.author_id WHERE l.article_id IN ({placeholders}) ORDER BY l.position, a.id",
        *ids,
    )
    grouped: dict[int, list[models.Author]] = defaultdict(list)
    for row in rows:
        article_id = row.pop("link_article_id")
        grouped[article_id].append(models.Author._init_from_db(**row))
    return grouped


async def tags_by_article_ids(ids: Sequence[int]) -> dict[int, list[models.Tag]]:
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await db.read(
        f"SELECT l.article_id AS link_article_id, t.id, t.name, t.slug FROM article_tag l "
        f"JOIN tag t ON t.id = l.tag_id WHERE l.article_id IN ({placeholders}) ORDER BY l.position, t.id",
        *ids,
    )
    grouped: dict[int, list[models.Tag]] = defaultdict(list)
    for row in rows:
        article_id = row.pop("link_article_id")
        grouped[article_id].append(models.Tag._init_from_db(**row))
    return grouped


async def images_by_ids(ids: Sequence[int]) -> dict[int, models.Image]:
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await db.read(
        f"SELECT i.id, i.title, i.url, i.width, i.height, i.alt, i.credit, i.file, i.format, i.focal_x, i.focal_y "
        f"FROM image i WHERE i.id IN ({placeholders})", *ids
    )
    return {row["id"]: _instance(models.Image, row) for row in rows}


# An image is public while a page readers may see now shows it: page_image holds the
# images of published rows only (drafts live in revisions), kept by triggers.
_PUBLIC_IMAGE = "SELECT 1 AS one FROM page_image r JOIN page p ON p.id = r.page_id WHERE r.image_id = $1 AND p.live = $live LIMIT 1"
_PUBLIC_FILE = (
    "SELECT 1 AS one FROM image i JOIN page_image r ON r.image_id = i.id JOIN page p ON p.id = r.page_id "
    "WHERE i.file = $1 AND p.live = $live LIMIT 1"
)


async def image_is_public(image_id: int) -> bool:
    """Whether a page readers may see now shows this image (as its hero or in its body)."""
    return bool(await _fetch(_PUBLIC_IMAGE, image_id))


async def file_is_public(file: str) -> bool:
    """Whether a stored original belongs to an image that a public page shows."""
    return bool(await _fetch(_PUBLIC_FILE, file))


async def site_settings() -> models.SiteSettings:
    rows = await db.read("SELECT s.id, s.name, s.tagline, s.social_links FROM site_settings s ORDER BY s.id LIMIT 1")
    if not rows:
        return models.SiteSettings(name="Masthead", tagline="", social_links=[])
    row = rows[0]
    if isinstance(row["social_links"], (str, bytes)):
        row["social_links"] = orjson.loads(row["social_links"])
    return _instance(models.SiteSettings, row)


# -- cursors ------------------------------------------------------------------

_CURSOR_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?$")


def encode_cursor(kind: str, *parts: object) -> str:
    raw = ":".join([kind, *(str(p) for p in parts)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, kind: str) -> list[str]:
    """Split a cursor of the given kind into its parts, or raise UserError."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise _invalid_cursor(cursor) from None
    head, _, rest = raw.partition(":")
    if head != kind or not rest:
        raise _invalid_cursor(cursor)
    return rest.split("|")




def _invalid_cursor(cursor: str) -> UserError:
    return UserError(f"Invalid cursor {cursor[:64]!r}.", ErrorCode.INVALID, field="after")


def _cursor_number(part: str, cursor: str) -> int:
    if not is_row_id(part):  # ids, revision numbers and offsets: a forged larger one overflows the driver
        raise _invalid_cursor(cursor)
    return int(part)


def number_cursor(cursor: str, kind: str) -> int:
    """The one number a cursor of this kind holds (an offset or a revision number), or UserError."""
    parts = decode_cursor(cursor, kind)
    if len(parts) != 1:
        raise _invalid_cursor(cursor)
    return _cursor_number(parts[0], cursor)


def _keyset(cursor: str, kind: str) -> tuple[datetime, int]:
    parts = decode_cursor(cursor, kind)
    if len(parts) != 2 or not _CURSOR_TIME.match(parts[0]):
        raise _invalid_cursor(cursor)
    try:
        moment = datetime.fromisoformat(parts[0].replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment.astimezone(timezone.utc)  # the ends of the calendar overflow here, not in the driver
    except (ValueError, OverflowError):
        raise _invalid_cursor(cursor) from None
    return moment, _cursor_number(parts[1], cursor)


def keyset_cursor(kind: str, moment: datetime, row_id: int) -> str:
    return encode_cursor(kind, f"{moment.isoformat()}|{row_id}")


# -- article lists ------------------------------------------------------------


@dataclass
class ArticleFilter:
    """What an article list is restricted to; sections include their sub-sections."""

    section_slug: str | None = None
    section_path: str | None = None
    tag: str | None = None
    author: str | None = None
    search: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None


@dataclass
class ArticlePage:
    """One page of an article list: the items, the cursor of each, and what follows."""

    items: list[models.Page]
    cursors: list[str]
    has_next: bool
    has_previous: bool


_WORD = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_TERMS = 16


def search_terms(text: str) -> list[str]:
    return _WORD.findall(text.lower())[:MAX_SEARCH_TERMS]


def _where(flt: ArticleFilter, params: list) -> list[str]:
    def param(value) -> str:
        params.append(value)
        return f"${len(params)}"

    where = [LIVE_ARTICLE]
    if flt.section_path is not None:
        where.append(
            "p.parent_id IN (SELECT s.id FROM page s WHERE s.kind = 'section' AND s.live = $live "
            f"AND s.path LIKE {param(flt.section_path + '%')})"
        )
    if flt.section_slug is not None:
        where.append(
            "p.parent_id IN (SELECT s.id FROM page s JOIN page r ON s.path LIKE r.path || '%' "
            f"WHERE r.kind = 'section' AND r.slug = {param(flt.section_slug)} AND r.live = $live "
            "AND s.kind = 'section' AND s.live = $live)"
        )
    if flt.tag is not None:
        where.append(
            f"EXISTS (SELECT 1 FROM article_tag l JOIN tag t ON t.id = l.tag_id "
            f"WHERE l.article_id = p.id AND t.slug = {param(flt.tag)})"
        )
    if flt.author is not None:
        where.append(
            f"EXISTS (SELECT 1 FROM article_author l JOIN author a ON a.id = l.author_id "
            f"WHERE l.article_id = p.id AND a.slug = {param(flt.author)})"
        )
    if flt.published_after is not None:
        where.append(f"p.published_at >= {param(flt.published_after)}")
    if flt.published_before is not None:
        where.append(f"p.published_at < {param(flt.published_before)}")
    return where


def _search_join(flt: ArticleFilter, params: list, sqlite: bool) -> tuple[str, str]:
    """The FROM fragment and rank expression for a full-text search."""
    terms = search_terms(flt.search or "")
    if sqlite:
        # Each term quoted: reader input never reaches FTS5's query syntax.
        params.append(" ".join(f'"{t}"' for t in terms))
        return (
            f"JOIN (SELECT rowid AS id, bm25(page_fts, 10.0, 10.0, 4.0, 1.0) AS rank FROM page_fts "
            f"WHERE page_fts MATCH ${len(params)}) s ON s.id = p.id",
            "s.rank",
        )
    params.append(" ".join(terms))
    n = len(params)
    return (
        f"CROSS JOIN plainto_tsquery('english', ${n}) q",
        "-ts_rank(p.search_vector, q)",
    )


async def list_articles(flt: ArticleFilter, first: int, after: str | None) -> ArticlePage:
    """Newest first, or by relevance when searching; keyset cursors by date, offsets by rank."""
    params: list = []
    where = _where(flt, params)
    sqlite = db.dialect() == "sqlite"
    if flt.search is not None:
        if not search_terms(flt.search):
            return ArticlePage([], [], False, False)
        join, rank = _search_join(flt, params, sqlite)
        if not sqlite:
            where.append("p.search_vector @@ q")
        offset = 0
        if after is not None:
            offset = number_cursor(after, "s") + 1
        params.extend([first + 1, offset])
        rows = await _fetch(
            f"SELECT {LIST_COLUMNS} FROM page p {join} WHERE {' AND '.join(where)} "
            f"ORDER BY {rank}, p.published_at DESC, p.id DESC LIMIT ${len(params) - 1} OFFSET ${len(params)}",
            *params,
            heavy=True,
        )
        items = _pages(rows[:first])
        cursors = [encode_cursor("s", offset + i) for i in range(len(items))]
        return ArticlePage(items, cursors, len(rows) > first, offset > 0)
    if after is not None:
        moment, row_id = _keyset(after, "a")
        params.extend([moment, row_id])
        a, b = len(params) - 1, len(params)
        where.append(f"(p.published_at < ${a} OR (p.published_at = ${a} AND p.id < ${b}))")
    params.append(first + 1)
    rows = await _fetch(
        f"SELECT {LIST_COLUMNS} FROM page p WHERE {' AND '.join(where)} "
        f"ORDER BY p.published_at DESC, p.id DESC LIMIT ${len(params)}",
        *params,
    )
    items = _pages(rows[:first])
    cursors = [keyset_cursor("a", page.published_at, page.id) for page in items]
    return ArticlePage(items, cursors, len(rows) > first, after is not None)


async def count_articles(flt: ArticleFilter) -> int:
    params: list = []
    where = _where(flt, params)
    join = ""
    if flt.search is not None:
        if not search_terms(flt.search):
            return 0
        sqlite = db.dialect() == "sqlite"
        join, _ = _search_join(flt, params, sqlite)
        if not sqlite:
            where.append("p.search_vector @@ q")
    rows = await _fetch(f"SELECT COUNT(*) AS n FROM page p {join} WHERE {' AND '.join(where)}", *params, heavy=bool(join))
    return rows[0]["n"]


# -- related articles ---------------------------------------------------------

MANUAL_RANK = 1_000_000
RELATED_CACHE_SIZE = 20_000
# Entries keep raw rows (dicts of plain values, which the garbage collector does not
# track) rather than models: thousands of cached objects would slow every full collection.
_related_cache: dict[tuple[int, int], tuple[int, list[dict], list[dict]]] = {}


async def related_articles(article: models.Page, limit: int) -> tuple[list[models.Page], list[models.Page]]:
    """Related articles (see _rank_related), reused while the content version stands.

    Ranking reads every article sharing a tag, the costliest read of an article page;
    its result changes only when content does, which bumps the version.
    """
    version = getattr(article, "content_version", None)
    key = (article.id, limit)
    cached = _related_cache.get(key)
    if version is not None and cached is not None and cached[0] == version:
        # A scheduled article may have expired since: then rank again.
        at = now()
        if all(is_public(row, at) for row in cached[1]):
            return _pages(dict(row) for row in cached[1]), _pages(dict(row) for row in cached[2])
    related, parents = await _rank_related(article, limit)
    if version is not None:
        if len(_related_cache) >= RELATED_CACHE_SIZE:
            _related_cache.clear()
        _related_cache[key] = (version, [dict(row) for row in related], [dict(row) for row in parents])
    return _pages(related), _pages(parents)


async def _rank_related(article: models.Page, limit: int) -> tuple[list[dict], list[dict]]:
    """Editor's picks in order, then most shared tags, then same section, newest first.

    Returns the articles and their parent pages (fetched in the same query, since
    article cards show their section).
    """
    if limit <= 0:
        return [], []
    # Ranking reads only article_tag's covering index (which copies each article's
    # live flag, date and section) and the section's newest articles; the full rows
    # are read for the winners alone. Unpublished picks are dropped after the inner
    # LIMIT, so it leaves room for every pick.
    rows = await _fetch(
        f"""
        SELECT {LIST_COLUMNS}, {PARENT_COLUMNS} FROM (
            SELECT u.id, MAX(u.score) AS score, MAX(u.same) AS same, MAX(u.at) AS at FROM (
                SELECT r.related_id AS id, {MANUAL_RANK} - r.position AS score, 0 AS same, NULL AS at
                    FROM article_relation r WHERE r.article_id = $1
                UNION ALL
                SELECT t2.article_id AS id, COUNT(*) AS score,
                       MAX(CASE WHEN t2.section_id = $2 THEN 1 ELSE 0 END) AS same, MAX(t2.published_at) AS at
                    FROM article_tag t1 JOIN article_tag t2 ON t2.tag_id = t1.tag_id AND t2.live = $live
                    WHERE t1.article_id = $1 GROUP BY t2.article_id
                UNION ALL
                SELECT recent.id, 0 AS score, 1 AS same, recent.published_at AS at FROM (
                    SELECT p.id, p.published_at FROM page p WHERE p.parent_id = $2 AND {LIVE_ARTICLE}
                    ORDER BY p.published_at DESC, p.id DESC LIMIT $3
                ) recent
            ) u WHERE u.id <> $1 GROUP BY u.id
            ORDER BY score DESC, same DESC, at DESC, u.id DESC
            LIMIT $4 + (SELECT COUNT(*) FROM article_relation r WHERE r.article_id = $1)
        ) top JOIN page p ON p.id = top.id JOIN page s ON s.id = p.parent_id
        WHERE {LIVE_ARTICLE}
        ORDER BY top.score DESC, top.same DESC, top.at DESC, top.id DESC
        LIMIT $4
        """,
        article.id,
        article.parent_id,
        limit + 1,
        limit,
    )
    parents = [{k[3:]: row.pop(k) for k in list(row) if k.startswith("s__")} for row in rows]
    return rows, parents


# -- comments -------------------------------------------------------------------


@dataclass
class CommentPage:
    items: list[models.Comment]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    replies: dict[int, list[models.Comment]]


async def comment_thread(article_id: int, first: int, after: str | None) -> CommentPage:
    """A page of approved top-level comments, oldest first, with their approved replies.

    After ANALYZE, with statistics saying almost no comment has a parent, SQLite
    scanned every comment for replies (or built a Bloom filter over them, 20 ms):
    replies come from a partial index of replies only (migration 0008), and the
    page's own rows by primary key from its ids.
    """
    params: list = [article_id, CommentStatus.APPROVED.value]
    keyset = ""
    if after is not None:
        moment, row_id = _keyset(after, "c")
        params.extend([moment, row_id])
        keyset = "AND (t.created_at > $3 OR (t.created_at = $3 AND t.id > $4))"
    params.append(first + 1)
    rows = await db.read(
        f"""
        WITH top AS (
            SELECT t.id FROM comment t
            WHERE t.article_id = $1 AND t.status = $2 AND t.parent_id IS NULL {keyset}
            ORDER BY t.created_at, t.id LIMIT ${len(params)}
        )
        SELECT {COMMENT_COLUMNS} FROM top CROSS JOIN comment c WHERE c.id = top.id
        UNION ALL
        SELECT {COMMENT_COLUMNS} FROM comment c WHERE c.parent_id IN (SELECT id FROM top) AND c.status = $2
        ORDER BY created_at, id
        """,
        *params,
    )
    top: list[models.Comment] = []
    replies: dict[int, list[models.Comment]] = defaultdict(list)
    for row in rows:
        comment = _comment(row)
        if comment.parent_id is None:
            top.append(comment)
        else:
            replies[comment.parent_id].append(comment)
    items = top[:first]
    page_replies = {c.id: replies.get(c.id, []) for c in items}
    cursors = [keyset_cursor("c", c.created_at, c.id) for c in items]
    return CommentPage(items, cursors, len(top) > first, after is not None, page_replies)


async def replies_by_comment_ids(ids: Sequence[int]) -> dict[int, list[models.Comment]]:
    placeholders = ", ".join(f"${i + 2}" for i in range(len(ids)))
    rows = await db.read(
        f"SELECT {COMMENT_COLUMNS} FROM comment c WHERE c.status = $1 AND c.parent_id IN ({placeholders}) "
        f"ORDER BY c.created_at, c.id",
        CommentStatus.APPROVED.value,
        *ids,
    )
    grouped: dict[int, list[models.Comment]] = defaultdict(list)
    for row in rows:
        comment = _comment(row)
        grouped[comment.parent_id].append(comment)
    return grouped


async def comments_by_ids(ids: Sequence[int]) -> dict[int, models.Comment]:
    """Approved comments on live articles, by id."""
    placeholders = ", ".join(f"${i + 2}" for i in range(len(ids)))
    rows = await _fetch(
        f"SELECT {COMMENT_COLUMNS} FROM comment c JOIN page p ON p.id = c.article_id "
        f"WHERE c.status = $1 AND p.live = $live AND c.id IN ({placeholders})",
        CommentStatus.APPROVED.value,
        *ids,
    )
    return {row["id"]: _comment(row) for row in rows}
