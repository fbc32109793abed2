"""RSS 2.0 and Atom 1.0 feeds: the latest public articles of the site or of one section.

    /feeds/rss.xml   /feeds/atom.xml                    the whole site, newest first
    /feeds/<section slug>/rss.xml   .../atom.xml        a section and its sub-sections

The FEED_ITEMS newest articles readers may see now (the API's article list, on its
listing indexes), each with its headline, canonical URL, a stable id (a tag URI
that survives moves and renames), summary, dates, authors and tags. Documents are
built with xml.etree, which escapes every text and attribute. Surrogate keys:
`articles` (the site's feed) or `articles:s:<section id>`, `site`, and each author
shown (`author:<id>`): publishing, moving or unpublishing an article, changing the
site settings or an author purges them (service/purges.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import content, listing, models, syndication
from service.settings import Settings
from service.syndication import ATOM, RSS, Publication, endpoint, not_found, rfc822, text, utc, w3c

FEED_ITEMS = 50
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'  # the sitemaps' own (ElementTree's quotes differ)
ET.register_namespace("atom", ATOM_NS)
ET.register_namespace("dc", DC_NS)


@dataclass
class Feed:
    """What a feed says, whatever its format."""

    title: str
    description: str
    link: str  # the page the feed follows, on the public site
    path: str  # the feed's own path, without its file name
    keys: set[str]
    articles: list[models.Page] = field(default_factory=list)
    authors: dict[int, list[models.Author]] = field(default_factory=dict)
    tags: dict[int, list[models.Tag]] = field(default_factory=dict)
    updated: datetime | None = None  # when the followed page itself was last published


async def section_by_slug(slug: str) -> models.Page | None:
    """The public section with this slug (unique per locale: the default locale's first), or None."""
    rows = await content.fetch(
        f"SELECT {content.LIST_COLUMNS} FROM page p WHERE p.kind = 'section' AND p.slug = $1 AND p.live = $live "
        f"ORDER BY p.locale = {content.DEFAULT_LOCALE} DESC, p.id LIMIT 1", slug)
    return content.pages_from_rows(rows)[0] if rows else None


async def sub_section_ids(section: models.Page) -> list[int]:
    """The section's id and its public sub-sections' (a section feed includes theirs)."""
    rows = await content.fetch(
        "SELECT p.id FROM page p WHERE p.kind = 'section' AND p.path LIKE $1 AND p.live = $live", section.path + "%")
    return [row["id"] for row in rows]


async def read_feed(pub: Publication, section_slug: str | None) -> Feed | None:
    """The feed of the site (None) or of a section by slug; None when no public section has that slug."""
    if section_slug is None:
        home = await content.page_by_url_path("/")
        feed = Feed(title=pub.name, description=pub.tagline or pub.name, link=pub.url("/"), path="/feeds/",
                    keys={"articles", "site"}, updated=home.last_published_at if home else None)
        wanted = listing.ArticleFilter()
    else:
        section = await section_by_slug(section_slug)
        if section is None:
            return None
        feed = Feed(title=f"{pub.name}: {section.title}", description=section.description or section.title,
                    link=pub.url(section.url_path), path=f"/feeds/{section.slug}/",
                    keys={f"articles:s:{section.id}", "site"}, updated=section.last_published_at)
        wanted = listing.ArticleFilter(section_ids=await sub_section_ids(section))
    feed.articles = (await listing.list_articles(wanted, FEED_ITEMS, None)).items
    ids = [article.id for article in feed.articles]
    if ids:
        feed.authors = await content.authors_by_article_ids(ids)
        feed.tags = await content.tags_by_article_ids(ids)
    feed.keys.update(f"author:{author.id}" for authors in feed.authors.values() for author in authors)
    return feed


def _modified(article: models.Page) -> datetime:
    return article.last_published_at or article.published_at


def _updated(feed: Feed) -> datetime | None:
    moments = [_modified(article) for article in feed.articles]
    return max(moments, key=utc) if moments else feed.updated


def _add(parent: ET.Element, tag: str, value: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {name: text(v) for name, v in attributes.items()})
    if value is not None:
        element.text = text(value)
    return element


def render_rss(feed: Feed, pub: Publication) -> bytes:
    """RSS 2.0, with atom:link rel=self and one dc:creator per author."""
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _add(rss, "channel")
    _add(channel, "title", feed.title)
    _add(channel, "link", feed.link)
    _add(channel, "description", feed.description)
    _add(channel, "language", pub.locale)
    updated = _updated(feed)
    if updated is not None:
        _add(channel, "lastBuildDate", rfc822(updated))
    _add(channel, f"{{{ATOM_NS}}}link", href=pub.url(feed.path + "rss.xml"), rel="self", type="application/rss+xml")
    _add(channel, "generator", "Masthead")
    for article in feed.articles:
        item = _add(channel, "item")
        _add(item, "title", article.headline or article.title)
        _add(item, "link", pub.url(article.url_path))
        _add(item, "guid", pub.tag_uri(article.id, article.first_published_at or article.published_at),
             isPermaLink="false")
        if article.summary:
            _add(item, "description", article.summary)
        _add(item, "pubDate", rfc822(article.published_at))
        for author in feed.authors.get(article.id, []):
            _add(item, f"{{{DC_NS}}}creator", author.name)
        for tag in feed.tags.get(article.id, []):
            _add(item, "category", tag.name)
    return DECLARATION + ET.tostring(rss, encoding="utf-8")


def render_atom(feed: Feed, pub: Publication) -> bytes:
    """Atom 1.0: the feed's id is its own URL; entries keep tag URIs; the site is the author of unsigned entries."""
    # Unqualified names under a default namespace declared on the root: Atom's usual, unprefixed form.
    atom = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": text(pub.locale)})
    self_url = pub.url(feed.path + "atom.xml")
    _add(atom, "id", self_url)
    _add(atom, "title", feed.title)
    if feed.description and feed.description != feed.title:
        _add(atom, "subtitle", feed.description)
    updated = _updated(feed)
    _add(atom, "updated", w3c(updated) if updated is not None else "1970-01-01T00:00:00+00:00")
    _add(atom, "link", rel="alternate", type="text/html", href=feed.link)
    _add(atom, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(_add(atom, "author"), "name", pub.name)
    _add(atom, "generator", "Masthead")
    for article in feed.articles:
        entry = _add(atom, "entry")
        _add(entry, "id", pub.tag_uri(article.id, article.first_published_at or article.published_at))
        _add(entry, "title", article.headline or article.title)
        _add(entry, "link", rel="alternate", type="text/html", href=pub.url(article.url_path))
        _add(entry, "published", w3c(article.published_at))
        _add(entry, "updated", w3c(_modified(article)))
        for author in feed.authors.get(article.id, []):
            _add(_add(entry, "author"), "name", author.name)
        for tag in feed.tags.get(article.id, []):
            _add(entry, "category", term=tag.slug, label=tag.name,
                 scheme=pub.url(pub.tag_path_prefix))
        if article.summary:
            _add(entry, "summary", article.summary, type="text")
    return DECLARATION + ET.tostring(atom, encoding="utf-8")


async def _unknown(request: Request) -> Response:
    """Any other path below /feeds/: the same plain 404 as an unknown section."""
    return not_found()


def routes(settings: Settings) -> list[Route]:
    """The feed endpoints, for service/app.py."""

    def serve(render, media_type: str):
        async def answer(request: Request) -> Response:
            version = await syndication.content_version()
            pub = await syndication.publication(settings)
            feed = await read_feed(pub, request.path_params.get("section"))
            if feed is None:
                return not_found()
            return await syndication.document(request, settings, render(feed, pub), media_type, feed.keys, version)

        return endpoint(answer)

    rss, atom = serve(render_rss, RSS), serve(render_atom, ATOM)
    return [
        Route("/feeds/rss.xml", rss, methods=["GET"]),
        Route("/feeds/atom.xml", atom, methods=["GET"]),
        Route("/feeds/{section}/rss.xml", rss, methods=["GET"]),
        Route("/feeds/{section}/atom.xml", atom, methods=["GET"]),
        Route("/feeds/{rest:path}", _unknown, methods=["GET"]),
    ]
