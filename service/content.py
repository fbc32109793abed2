"""Read queries for the public API: batched by id, so callers issue one query a batch.

Everything here returns what readers may see: live pages, approved comments.
Here: pages, navigation, authors, tags, images, site settings, and the raw-row
readers the other public reads share (`fetch`, the column lists, the builders).
Article lists and search are in service/listing.py, related articles in
service/related.py, comment threads in service/threads.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

import orjson

from service import db, models, visibility
from service.clock import now
from service.models import CommentStatus, PageKind
from service.runtime.rows import build_instance, column_names


class _Columns:
    """A raw SELECT's column list, read off the model once Tortoise has set it up."""

    def __init__(self, model, alias: str, prefix: str = "", skip: tuple[str, ...] = ()) -> None:
        self.model, self.alias, self.prefix, self.skip, self._text = model, alias, prefix, skip, ""

    def __format__(self, spec: str) -> str:
        if not self._text:
            names = sorted(set(column_names(self.model)) - set(self.skip))
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
_PAGE_FLAGS = ("live", "comments_enabled", "tree_live", "show_in_menus")


def _when(value):
    # SQLite hands back text; PostgreSQL a datetime already.
    return datetime.fromisoformat(value) if value.__class__ is str else value


# Enum members by value: a dictionary lookup where calling the enum walks its metaclass.
_KINDS = {kind.value: kind for kind in PageKind}
_STATUSES = {status.value: status for status in CommentStatus}


def _page(row: dict) -> models.Page:
    """A read-only Page from a raw row (much cheaper than Tortoise's generic path)."""
    for key in _PAGE_TIMES:
        value = row[key]
        if value.__class__ is str:  # SQLite hands back text; PostgreSQL a datetime (or None) already
            row[key] = datetime.fromisoformat(value)
    for key in _PAGE_FLAGS:
        row[key] = bool(row[key])
    kind = row["kind"]
    row["kind"] = _KINDS.get(kind) or PageKind(kind)
    body = row.get("body", None)
    row["body"] = orjson.loads(body) if isinstance(body, (str, bytes)) else body
    return build_instance(models.Page, row)


def _comment(row: dict) -> models.Comment:
    row["created_at"] = _when(row["created_at"])
    status = row["status"]
    row["status"] = _STATUSES.get(status) or CommentStatus(status)
    return build_instance(models.Comment, row)


def pages_from_rows(rows: Iterable[dict]) -> list[models.Page]:
    """Read-only Pages from raw rows read with PAGE_COLUMNS, LIST_COLUMNS or PARENT_COLUMNS."""
    return [_page(row) for row in rows]


def comments_from_rows(rows: Iterable[dict]) -> list[models.Comment]:
    """Read-only Comments from raw rows read with COMMENT_COLUMNS."""
    return [_comment(row) for row in rows]


_LIVE = re.compile(r"\b(\w+)\.live = \$live")
# Aliases of article_tag, whose `live` column copies the article's tree_live and
# whose public_from/public_until copy its effective window.
_TAG_ALIASES = frozenset({"t1", "t2"})


# Statement texts with their markers numbered, by (text, positional parameters): the
# regular expression over a page's long column list cost more than running the query.
_NUMBERED: dict[tuple[str, int], str | None] = {}
_NUMBERED_MAX = 2048  # texts vary with the length of IN lists; past this many, start again


def _sql(text: str, params: list) -> tuple[str, list]:
    """Number named markers after the positional ones: `x.live = $live` on a page
    alias means visible now (see `visibility.visible`), checked at query time, so a scheduled
    page (or a page below a scheduled section) appears and expires on the second
    without any job running."""
    key = (text, len(params))
    numbered = _NUMBERED.get(key, key)
    if numbered is key:
        numbered = None
        if "$live" in text:
            live, at = f"${len(params) + 1}", f"${len(params) + 2}"
            numbered = _LIVE.sub(
                lambda m: visibility.visible(m[1], live, at, "live" if m[1] in _TAG_ALIASES else "tree_live"), text
            )
        if len(_NUMBERED) >= _NUMBERED_MAX:
            _NUMBERED.clear()
        _NUMBERED[key] = numbered
    if numbered is None:
        return text, params
    return numbered, [*params, True, now()]


def is_public(row: dict, at: datetime) -> bool:
    """Whether a page row read earlier is public at `at` (it and its ancestors live, inside their windows)."""
    return visibility.is_public(row, at)


async def fetch(text: str, *params, heavy: bool = False) -> list[dict]:
    """Run a public read; `heavy` ones (full-text ranking) go off the event loop."""
    text, values = _sql(text, list(params))
    return await (db.read_heavy if heavy else db.read)(text, *values)


# -- pages -----------------------------------------------------------------


async def page_by_url_path(url_path: str) -> models.Page | None:
    if not url_path.startswith("/"):
        url_path = "/" + url_path
    if not url_path.endswith("/"):
        url_path += "/"
    rows = await fetch(f"SELECT {PAGE_COLUMNS} FROM page p WHERE p.url_path = $1 AND p.live = $live", url_path)
    return pages_from_rows(rows)[0] if rows else None


async def pages_by_ids(ids: Sequence[int]) -> dict[int, models.Page]:
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await fetch(f"SELECT {LIST_COLUMNS} FROM page p WHERE p.id IN ({placeholders}) AND p.live = $live", *ids)
    return {page.id: page for page in pages_from_rows(rows)}


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
    rows = await fetch(
        f"SELECT {LIST_COLUMNS} FROM page p WHERE p.parent_id IN ({placeholders}) "
        f"AND p.kind <> 'article' AND p.live = $live ORDER BY p.position, p.id",
        *parent_ids,
    )
    grouped: dict[int, list[models.Page]] = defaultdict(list)
    for page in pages_from_rows(rows):
        grouped[page.parent_id].append(page)
    return grouped


async def menu_children(parent_ids: Sequence[int]) -> dict[int, list[models.Page]]:
    """Live children of each parent whose show_in_menus is set, of any kind, in menu order."""
    marks = ", ".join(f"${i + 1}" for i in range(len(parent_ids)))
    rows = await fetch(
        f"SELECT {LIST_COLUMNS} FROM page p WHERE p.parent_id IN ({marks}) AND p.show_in_menus = ${len(parent_ids) + 1} "
        f"AND p.live = $live ORDER BY p.position, p.id",
        *parent_ids, True,
    )
    grouped: dict[int, list[models.Page]] = defaultdict(list)
    for page in pages_from_rows(rows):
        grouped[page.parent_id].append(page)
    return grouped


async def top_sections(in_menu: bool = False, locale: str | None = None) -> list[models.Page]:
    """Live sections below a locale's home page (the default locale's by default), in menu order;
    `in_menu`: only those whose show_in_menus is set."""
    params: list = [locale] if locale is not None else []
    where = "h.locale = $1" if locale is not None else f"h.locale = {DEFAULT_LOCALE}"
    if in_menu:
        params.append(True)
        where += f" AND p.show_in_menus = ${len(params)}"
    rows = await fetch(
        f"SELECT {LIST_COLUMNS} FROM page p JOIN page h ON h.id = p.parent_id AND h.kind = 'home' "
        f"WHERE p.kind = 'section' AND {where} AND p.live = $live ORDER BY p.position, p.id",
        *params,
    )
    return pages_from_rows(rows)


# The site's default locale, in SQL: reads default to it without a statement of their own.
DEFAULT_LOCALE = "coalesce((SELECT ds.locale FROM site_settings ds ORDER BY ds.id LIMIT 1), 'en')"


async def translations_by_keys(keys: Sequence[str]) -> dict[str, list[models.Page]]:
    """The live pages sharing each translation key, by locale (every translation: callers leave out the page itself)."""
    marks = ", ".join(f"${i + 1}" for i in range(len(keys)))
    rows = await fetch(
        f"SELECT {LIST_COLUMNS} FROM page p WHERE p.translation_key IN ({marks}) AND p.live = $live ORDER BY p.locale",
        *keys,
    )
    grouped: dict[str, list[models.Page]] = defaultdict(list)
    for page in pages_from_rows(rows):
        grouped[page.translation_key].append(page)
    return grouped


# -- snippets and images ----------------------------------------------------


_IMAGE_FIELDS = ("id", "title", "url", "width", "height", "alt", "credit", "caption", "file", "format", "focal_x", "focal_y")
IMAGE_COLUMNS = ", ".join(f"i.{name}" for name in _IMAGE_FIELDS)
AVATAR_COLUMNS = ", ".join(f"av.{name} AS av__{name}" for name in _IMAGE_FIELDS)


async def authors_by_article_ids(ids: Sequence[int]) -> dict[int, list[models.Author]]:
    """Each article's authors in byline order, each with its avatar (an Image or None) as `avatar_image`."""
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await db.read(
        f"SELECT l.article_id AS link_article_id, a.id, a.name, a.slug, a.bio, a.avatar_id, {AVATAR_COLUMNS} "
        f"FROM article_author l JOIN author a ON a.id = l.author_id LEFT JOIN image av ON av.id = a.avatar_id "
        f"WHERE l.article_id IN ({placeholders}) ORDER BY l.position, a.id",
        *ids,
    )
    grouped: dict[int, list[models.Author]] = defaultdict(list)
    for row in rows:
        article_id = row.pop("link_article_id")
        avatar = {name: row.pop(f"av__{name}") for name in _IMAGE_FIELDS}
        author = build_instance(models.Author, row)
        author.avatar_image = build_instance(models.Image, avatar) if avatar["id"] is not None else None
        grouped[article_id].append(author)
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
        grouped[article_id].append(build_instance(models.Tag, row))
    return grouped


async def public_tags_by_ids(ids: Sequence[int]) -> dict[int, models.Tag]:
    """Tags by id, those that a page readers may see now carries (a draft's new tag stays unknown)."""
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await fetch(
        f"SELECT t.id, t.name, t.slug FROM tag t WHERE t.id IN ({placeholders}) "
        f"AND EXISTS (SELECT 1 FROM article_tag t1 WHERE t1.tag_id = t.id AND t1.live = $live)",
        *ids,
    )
    return {row["id"]: build_instance(models.Tag, row) for row in rows}


async def images_by_ids(ids: Sequence[int]) -> dict[int, models.Image]:
    placeholders = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = await db.read(
        f"SELECT {IMAGE_COLUMNS} FROM image i WHERE i.id IN ({placeholders})", *ids
    )
    return {row["id"]: build_instance(models.Image, row) for row in rows}


# An image is public while a page readers may see now shows it (page_image holds the
# images of published rows only, drafts live in revisions, kept by triggers), while it
# is the site's logo, or while it is the avatar of an author credited on such a page.
_PUBLIC_USE = (
    "(EXISTS (SELECT 1 FROM page_image r JOIN page p ON p.id = r.page_id WHERE r.image_id = i.id AND p.live = $live) "
    "OR EXISTS (SELECT 1 FROM site_settings s WHERE s.logo_id = i.id) "
    "OR EXISTS (SELECT 1 FROM author a JOIN article_author l ON l.author_id = a.id JOIN page q ON q.id = l.article_id "
    "WHERE a.avatar_id = i.id AND q.live = $live))"
)
_PUBLIC_IMAGE = f"SELECT 1 AS one FROM image i WHERE i.id = $1 AND {_PUBLIC_USE}"
_PUBLIC_FILE = f"SELECT 1 AS one FROM image i WHERE i.file = $1 AND {_PUBLIC_USE} LIMIT 1"


async def image_is_public(image_id: int) -> bool:
    """Whether readers may have this image: a page they may see shows it, it is the logo or a credited author's avatar."""
    return bool(await fetch(_PUBLIC_IMAGE, image_id))


async def file_is_public(file: str) -> bool:
    """Whether a stored original belongs to an image readers may have (image_is_public)."""
    return bool(await fetch(_PUBLIC_FILE, file))


async def site_settings() -> models.SiteSettings:
    """The site settings row (a fresh site's defaults when there is none)."""
    rows = await db.read(
        "SELECT s.id, s.name, s.tagline, s.social_links, s.base_url, s.logo_id, s.locale, s.locales, s.tag_path_prefix, "
        "s.author_path_prefix FROM site_settings s ORDER BY s.id LIMIT 1"
    )
    if not rows:
        return models.SiteSettings(name="Masthead", tagline="", social_links=[])
    row = rows[0]
    if isinstance(row["social_links"], (str, bytes)):
        row["social_links"] = orjson.loads(row["social_links"])
    return build_instance(models.SiteSettings, row)
