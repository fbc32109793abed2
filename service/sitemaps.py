"""Sitemaps (sitemaps.org 0.9) and a Google News sitemap of every page readers may see now.

    /sitemap.xml                   the index: sections.xml, then one sitemap per month of articles
    /sitemaps/sections.xml         the home pages and every section (with hreflang alternates of their translations)
    /sitemaps/pages-2026-11.xml    the articles published in November 2026 (UTC), oldest first;
    /sitemaps/pages-2026-11-2.xml  ... the next MASTHEAD_SITEMAP_MAX_URLS of that month, when it has more
    /sitemaps/news.xml             articles published in the last two days, newest first, at most 1,000

Each <url> has its canonical URL and <lastmod> (when it was last published; for
the home page and sections, also their newest article's). A month is written while
its rows are read, in keyset-paged batches on the listing index (kind, tree_live,
published_at), so no request holds more than a batch. Surrogate keys: `sitemap`
and `site` (every page change purges `sitemap`), the news sitemap `articles` too.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from collections import defaultdict
from xml.sax.saxutils import XMLGenerator, escape, quoteattr

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import content, syndication
from service.clock import now
from service.settings import Settings
from service.syndication import XML, Publication, endpoint, not_found, text, utc, w3c

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"  # hreflang alternates of translated home pages and sections
BATCH = 1000  # rows read (and bytes sent) at a time
NEWS_WINDOW = timedelta(days=2)
NEWS_MAX = 1000
KEYS = ("sitemap", "site")
_PART = re.compile(r"pages-(\d{4})-(\d{2})(?:-([1-9][0-9]{0,5}))?\.xml")
_PUBLIC_ARTICLE = "p.kind = 'article' AND p.live = $live"


class Writer:
    """XML written piece by piece, taken as bytes: xml.sax's XMLGenerator for elements with
    attributes, and its own escape() for the many small text elements (a third of the cost)."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.xml = XMLGenerator(self.out, encoding="utf-8", short_empty_elements=False)
        self.xml.startDocument()

    def start(self, name: str, **attributes: str) -> None:
        self.xml.startElement(name, {key.replace("__", ":"): text(value) for key, value in attributes.items()})

    def end(self, name: str) -> None:
        self.xml.endElement(name)

    def element(self, name: str, value: str) -> None:
        """<name>value</name>, the value escaped (names are ours, never readers' text)."""
        self.out.write(f"<{name}>{escape(text(value))}</{name}>")

    def url(self, loc: str, lastmod: datetime | str | None, alternates: list[tuple[str, str]] = ()) -> None:
        self.out.write("<url>")
        self.element("loc", loc)
        if lastmod is not None:
            self.element("lastmod", w3c(lastmod))
        for code, href in alternates:
            self.out.write(f'<xhtml:link rel="alternate" hreflang={quoteattr(code)} href={quoteattr(href)}/>')
        self.out.write("</url>\n")

    def newline(self) -> None:
        self.xml.ignorableWhitespace("\n")

    def take(self) -> bytes:
        """What was written since the last take."""
        value = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        return value.encode("utf-8")


_LAST = datetime.max.replace(tzinfo=timezone.utc)


def _month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """A month in UTC: its first instant and the next month's."""
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    if (year, month) == (9999, 12):
        return start, _LAST
    return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)


_MONTH_ROWS = (
    f"SELECT p.id, p.url_path, p.published_at, p.last_published_at FROM page p WHERE {_PUBLIC_ARTICLE} "
    "AND p.published_at >= $1 AND p.published_at < $2"
)
_ORDER = " ORDER BY p.published_at, p.id"
# The first condition alone bounds the index range (the OR does not).
_AFTER = " AND p.published_at >= $3 AND (p.published_at > $3 OR p.id > $4)"


async def months() -> list[dict]:
    """Each month with public articles, oldest first: {"month": "2026-11", "count": n, "modified": newest publish}.

    One index-only statement a month (its count, and the first article after it: empty
    months are skipped); a GROUP BY over a computed month would sort every row instead."""
    found: list[dict] = []
    rows = await content.fetch(
        f"SELECT p.published_at FROM page p WHERE {_PUBLIC_ARTICLE} AND p.published_at IS NOT NULL{_ORDER} LIMIT 1")
    following = rows[0]["published_at"] if rows else None
    while following is not None:
        first = utc(following)
        start, end = _month_bounds(first.year, first.month)
        counted = (await content.fetch(
            f"SELECT COUNT(*) AS n, MAX(p.last_published_at) AS modified, (SELECT q.published_at FROM page q "
            f"WHERE q.kind = 'article' AND q.live = $live AND q.published_at >= $2 ORDER BY q.published_at, q.id "
            f"LIMIT 1) AS following FROM page p WHERE {_PUBLIC_ARTICLE} AND p.published_at >= $1 AND p.published_at < $2",
            start, end))[0]
        found.append({"month": f"{first.year:04d}-{first.month:02d}", "count": counted["n"], "modified": counted["modified"]})
        following = counted["following"] if end != _LAST else None
    return found


async def listing_pages() -> list[dict]:
    """The public home page and sections, in menu order, each with the time of its newest change.

    A listing changes when an article appears in it: its lastmod is the later of its own
    last publication and its newest article's (sub-sections' included)."""
    rows = await content.fetch(
        "SELECT p.id, p.path, p.url_path, p.last_published_at, p.locale, p.translation_key, "
        "(SELECT a.published_at FROM page a WHERE a.parent_id = p.id AND a.kind = 'article' AND a.live = $live "
        "ORDER BY a.published_at DESC LIMIT 1) AS newest "
        "FROM page p WHERE p.kind IN ('home', 'section') AND p.live = $live ORDER BY p.depth, p.position, p.id")
    own = {row["path"]: [utc(v) for v in (row["last_published_at"], row["newest"]) if v is not None] for row in rows}
    for row in rows:
        moments = [moment for path, found in own.items() if path.startswith(row["path"]) for moment in found]
        row["modified"] = max(moments) if moments else None
    return rows


async def part_start(year: int, month: int, part: int, max_urls: int) -> tuple | None:
    """Where a month's part begins: () for the first, (published_at, id) of the row before it
    for the others; None when the part is empty (the month has no public article there)."""
    start, end = _month_bounds(year, month)
    if part == 1:
        rows = await content.fetch(_MONTH_ROWS + _ORDER + " LIMIT 1", start, end)
        return () if rows else None
    rows = await content.fetch(_MONTH_ROWS + _ORDER + " LIMIT 2 OFFSET $3", start, end, (part - 1) * max_urls - 1)
    return (rows[0]["published_at"], rows[0]["id"]) if len(rows) == 2 else None


async def month_rows(year: int, month: int, after: tuple, limit: int) -> AsyncIterator[list[dict]]:
    """A month's public articles from `after` on, oldest first, `limit` in all, in batches (keyset paging)."""
    start, end = _month_bounds(year, month)
    while limit > 0:
        size = min(BATCH, limit)
        if after:
            rows = await content.fetch(
                _MONTH_ROWS + _AFTER + _ORDER
                + " LIMIT $5", start, end, after[0], after[1], size)
        else:
            rows = await content.fetch(_MONTH_ROWS + _ORDER + " LIMIT $3", start, end, size)
        if not rows:
            return
        yield rows
        limit -= len(rows)
        if len(rows) < size:
            return
        after = (rows[-1]["published_at"], rows[-1]["id"])


def part_name(month: str, part: int) -> str:
    return f"pages-{month}.xml" if part == 1 else f"pages-{month}-{part}.xml"


def render_index(pub: Publication, sections: list[dict], found: list[dict], max_urls: int) -> bytes:
    writer = Writer()
    writer.start("sitemapindex", xmlns=SITEMAP_NS)
    writer.newline()
    entries = [("sections.xml", max((s["modified"] for s in sections if s["modified"]), default=None))]
    for month in found:
        for part in range(1, math.ceil(month["count"] / max_urls) + 1):
            entries.append((part_name(month["month"], part), month["modified"]))
    for name, modified in entries:
        writer.start("sitemap")
        writer.element("loc", pub.url(f"/sitemaps/{name}"))
        if modified is not None:
            writer.element("lastmod", w3c(modified))
        writer.end("sitemap")
        writer.newline()
    writer.end("sitemapindex")
    return writer.take()


def render_sections(pub: Publication, sections: list[dict]) -> bytes:
    writer = Writer()
    translations: dict[str, list[dict]] = defaultdict(list)
    for row in sections:
        translations[row["translation_key"]].append(row)
    if any(len(rows) > 1 for rows in translations.values()):
        writer.start("urlset", xmlns=SITEMAP_NS, xmlns__xhtml=XHTML_NS)
    else:
        writer.start("urlset", xmlns=SITEMAP_NS)
    writer.newline()
    for row in sections:
        rows = translations[row["translation_key"]]  # every language version, itself included (Google's rule)
        alternates = [(other["locale"], pub.url(other["url_path"])) for other in rows] if len(rows) > 1 else []
        writer.url(pub.url(row["url_path"]), row["modified"], alternates)
    writer.end("urlset")
    return writer.take()


def news_language(locale: str) -> str:
    """Google News' language code for a BCP 47 locale: ISO 639 (`pt-BR` -> `pt`), but zh-cn / zh-tw."""
    parts = locale.lower().split("-")
    if parts[0] == "zh":
        return "zh-tw" if {"tw", "hk", "mo", "hant"} & set(parts[1:]) else "zh-cn"
    return parts[0]


async def news_rows(at: datetime) -> tuple[list[dict], datetime | None]:
    """Public articles published in the two days up to `at`, newest first, at most NEWS_MAX; and
    when that list changes by itself: its oldest leaves the window, or a post-dated article's time comes."""
    rows = await content.fetch(
        f"SELECT p.id, p.url_path, p.title, p.headline, p.published_at FROM page p WHERE {_PUBLIC_ARTICLE} "
        "AND p.published_at >= $1 AND p.published_at <= $2 ORDER BY p.published_at DESC, p.id DESC LIMIT $3",
        at - NEWS_WINDOW, at, NEWS_MAX)
    later = await content.fetch(
        f"SELECT p.published_at FROM page p WHERE {_PUBLIC_ARTICLE} AND p.published_at > $1{_ORDER} LIMIT 1", at)
    moments = [utc(row["published_at"]) for row in later]
    if rows:
        moments.append(min(utc(row["published_at"]) for row in rows) + NEWS_WINDOW)
    return rows, min(moments) if moments else None


def render_news(pub: Publication, rows: list[dict]) -> bytes:
    writer = Writer()
    writer.start("urlset", xmlns=SITEMAP_NS, xmlns__news=NEWS_NS)
    writer.newline()
    language = news_language(pub.locale)
    for row in rows:
        writer.start("url")
        writer.element("loc", pub.url(row["url_path"]))
        writer.start("news:news")
        writer.start("news:publication")
        writer.element("news:name", pub.name)
        writer.element("news:language", language)
        writer.end("news:publication")
        writer.element("news:publication_date", w3c(row["published_at"]))
        writer.element("news:title", row["headline"] or row["title"])
        writer.end("news:news")
        writer.end("url")
        writer.newline()
    writer.end("urlset")
    return writer.take()


def routes(settings: Settings) -> list[Route]:
    """The sitemap endpoints, for service/app.py."""
    max_urls = settings.sitemap_max_urls

    async def index(request: Request) -> Response:
        version = await syndication.content_version()
        pub = await syndication.publication(settings)
        body = render_index(pub, await listing_pages(), await months(), max_urls)
        return await syndication.document(request, settings, body, XML, KEYS, version)

    async def sitemap(request: Request) -> Response:
        name = request.path_params["name"]
        version = await syndication.content_version()
        if name == "sections.xml":
            body = render_sections(await syndication.publication(settings), await listing_pages())
            return await syndication.document(request, settings, body, XML, KEYS, version)
        if name == "news.xml":
            rows, until = await news_rows(now())
            body = render_news(await syndication.publication(settings), rows)
            return await syndication.document(request, settings, body, XML, (*KEYS, "articles"), version, until)
        return await month_part(request, name, version)

    async def month_part(request: Request, name: str, version: int | None) -> Response:
        matched = _PART.fullmatch(name)
        if matched is None or not 1 <= int(matched[1]) <= 9999 or not 1 <= int(matched[2]) <= 12 or matched[3] == "1":
            return not_found()
        year, month, part = int(matched[1]), int(matched[2]), int(matched[3] or 1)
        after = await part_start(year, month, part, max_urls)
        if after is None:
            return not_found()
        pub = await syndication.publication(settings)

        async def chunks() -> AsyncIterator[bytes]:
            writer = Writer()
            writer.start("urlset", xmlns=SITEMAP_NS)
            writer.newline()
            async for rows in month_rows(year, month, after, max_urls):
                for row in rows:
                    writer.url(pub.url(row["url_path"]), row["last_published_at"] or row["published_at"])
                yield writer.take()
            writer.end("urlset")
            yield writer.take()

        return await syndication.stream(request, settings, chunks, XML, KEYS, version, name, max_urls)

    return [
        Route("/sitemap.xml", endpoint(index), methods=["GET"]),
        Route("/sitemaps/{name:path}", endpoint(sitemap), methods=["GET"]),
    ]
