"""Article lists: filters, newest first or by search relevance, counts, cursors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from service import content, db, locales, models
from service.paging import encode_cursor, keyset_cursor, number_cursor, read_keyset_cursor


@dataclass
class ArticleFilter:
    """What an article list is restricted to; sections include their sub-sections."""

    section_slug: str | None = None
    section_path: str | None = None
    section_ids: list[int] | None = None  # articles directly below these sections (already resolved)
    tag: str | None = None
    author: str | None = None
    search: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    locale: str | None = None  # only this locale's articles; "" for the site's default locale


def _locale_sql(flt: ArticleFilter, params: list) -> str:
    if flt.locale:
        params.append(flt.locale)
        return f"${len(params)}"
    return content.DEFAULT_LOCALE


@dataclass
class ArticleSlice:
    """One page of an article list: the items, the cursor of each, and what follows."""

    items: list[models.Page]
    cursors: list[str]
    has_next: bool
    has_previous: bool


_WORD = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_TERMS = 16


def search_terms(text: str) -> list[str]:
    """The words a search matches, lower-cased, at most MAX_SEARCH_TERMS."""
    return _WORD.findall(text.lower())[:MAX_SEARCH_TERMS]


def _where(flt: ArticleFilter, params: list) -> list[str]:
    def param(value) -> str:
        params.append(value)
        return f"${len(params)}"

    where = [content.LIVE_ARTICLE]
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
    if flt.section_ids is not None:
        # Literal ids: PostgreSQL then walks the listing index per section, where a subquery had it scan.
        where.append(f"p.parent_id IN ({', '.join(param(i) for i in flt.section_ids) or 'NULL'})")
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
    if flt.locale is not None:
        where.append(f"p.locale = {_locale_sql(flt, params)}")
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
    # The searched locale's stemming, as its rows were indexed with (migration 0019).
    config = locales.ts_config_sql(_locale_sql(flt, params)) if flt.locale is not None else "'english'::regconfig"
    params.append(" ".join(terms))
    n = len(params)
    return (
        f"CROSS JOIN plainto_tsquery({config}, ${n}) q",
        "-ts_rank(p.search_vector, q)",
    )


async def list_articles(flt: ArticleFilter, first: int, after: str | None) -> ArticleSlice:
    """Newest first, or by relevance when searching; keyset cursors by date, offsets by rank."""
    params: list = []
    where = _where(flt, params)
    sqlite = db.dialect() == "sqlite"
    if flt.search is not None:
        if not search_terms(flt.search):
            return ArticleSlice([], [], False, False)
        join, rank = _search_join(flt, params, sqlite)
        if not sqlite:
            where.append("p.search_vector @@ q")
        offset = 0
        if after is not None:
            offset = number_cursor(after, "s") + 1
        params.extend([first + 1, offset])
        rows = await content.fetch(
            f"SELECT {content.LIST_COLUMNS} FROM page p {join} WHERE {' AND '.join(where)} "
            f"ORDER BY {rank}, p.published_at DESC, p.id DESC LIMIT ${len(params) - 1} OFFSET ${len(params)}",
            *params,
            heavy=True,
        )
        items = content.pages_from_rows(rows[:first])
        cursors = [encode_cursor("s", offset + i) for i in range(len(items))]
        return ArticleSlice(items, cursors, len(rows) > first, offset > 0)
    if after is not None:
        moment, row_id = read_keyset_cursor(after, "a")
        params.extend([moment, row_id])
        a, b = len(params) - 1, len(params)
        where.append(f"(p.published_at < ${a} OR (p.published_at = ${a} AND p.id < ${b}))")
    params.append(first + 1)
    rows = await content.fetch(
        f"SELECT {content.LIST_COLUMNS} FROM page p WHERE {' AND '.join(where)} "
        f"ORDER BY p.published_at DESC, p.id DESC LIMIT ${len(params)}",
        *params,
    )
    items = content.pages_from_rows(rows[:first])
    cursors = [keyset_cursor("a", page.published_at, page.id) for page in items]
    return ArticleSlice(items, cursors, len(rows) > first, after is not None)


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
    rows = await content.fetch(f"SELECT COUNT(*) AS n FROM page p {join} WHERE {' AND '.join(where)}", *params, heavy=bool(join))
    return rows[0]["n"]
