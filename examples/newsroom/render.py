"""Templates and what they need: dates, image URLs, search highlights and JSON-LD, from API values."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

HERE = Path(__file__).resolve().parent
NETWORKS = {"x": "X", "facebook": "Facebook", "instagram": "Instagram", "youtube": "YouTube", "rss": "RSS feed",
            "linkedin": "LinkedIn", "mastodon": "Mastodon", "bluesky": "Bluesky", "tiktok": "TikTok"}


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def long_date(value: str | None) -> str:
    """"Tuesday, 16 July 2024", as the article page's date line."""
    moment = parse_time(value)
    return f"{moment:%A}, {moment.day} {moment:%B %Y}" if moment else ""


def short_date(value: str | None) -> str:
    moment = parse_time(value)
    return f"{moment.day} {moment:%b %Y}" if moment else ""


def network_name(network: str) -> str:
    return NETWORKS.get(network, network.replace("-", " ").title())


# -- search highlights -----------------------------------------------------------
# The API ranks search results (stemmed full-text search) but does not say where the
# words matched, so the site finds them again: each term's stem, at the start of a word.

_SUFFIXES = ("ing", "ies", "es", "ed", "s")


def _stem(term: str) -> str:
    for suffix in _SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            return term[: -len(suffix)]
    return term


def search_pattern(query: str) -> re.Pattern[str] | None:
    """A pattern matching the words of a search query (and their inflections), or None for no words."""
    terms = sorted({_stem(term) for term in re.findall(r"\w+", query.lower()) if len(term) > 1}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile(r"\b(?:%s)\w*" % "|".join(re.escape(term) for term in terms), re.IGNORECASE)


def highlight(text: str, pattern: re.Pattern[str] | None) -> Markup:
    """The text, escaped, with every match of the pattern in <mark>."""
    if pattern is None:
        return escape(text)
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts.append(escape(text[last:match.start()]))
        parts.append(Markup("<mark>%s</mark>") % match.group(0))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment (a paragraph block's sanitised HTML)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def snippet(paragraphs: list[str], pattern: re.Pattern[str] | None, words: int = 14) -> Markup | None:
    """About 2 x `words` words of body text around the first match, highlighted; None when nothing matches."""
    if pattern is None:
        return None
    for paragraph in paragraphs:
        text = " ".join(plain_text(paragraph).split())
        match = pattern.search(text)
        if match is None:
            continue
        before = text[: match.start()].split(" ")
        after = text[match.start():].split(" ")
        start = max(0, len(before) - words)
        excerpt = " ".join(before[start:] + after[:words]).strip()
        prefix = "… " if start > 0 else ""
        suffix = " …" if len(after) > words else ""
        return Markup("%s%s%s") % (prefix, highlight(excerpt, pattern), suffix)
    return None


# -- structured data ---------------------------------------------------------------


def json_ld(data: dict[str, Any]) -> Markup:
    """JSON for a <script type="application/ld+json"> element: nothing in it can close the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def news_article(page: dict[str, Any], site: dict[str, Any], *, canonical: str, image: str | None,
                 absolute) -> dict[str, Any]:
    """schema.org NewsArticle for an article page, every value from the API."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": page["headline"] or page["title"],
        "name": page["title"],
        "description": page["summary"] or page["searchDescription"],
        "datePublished": page["publishedAt"],
        "dateModified": page.get("lastPublishedAt") or page["publishedAt"],
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "url": canonical,
        "articleSection": page["section"]["title"],
        "keywords": [tag["name"] for tag in page["tags"]],
        "author": [
            {"@type": "Person", "name": author["name"], "url": site["baseUrl"] + author["url"]}
            for author in page["authors"]
        ] or [{"@type": "Organization", "name": page["source"].removeprefix("By ").strip() or site["name"]}],
        "publisher": {"@type": "Organization", "name": site["name"]},
        "commentCount": page["commentCount"],
    }
    data["publisher"]["url"] = site["baseUrl"] + "/"
    if image:
        data["image"] = [image]
    if site.get("logo"):
        data["publisher"]["logo"] = {"@type": "ImageObject", "url": absolute(site["logo"]["src"]["url"])}
    return data


def environment(api_public_url: str) -> Environment:
    """The site's Jinja environment: autoescaped templates, and filters that make API URLs absolute."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    base = api_public_url.rstrip("/") + "/"

    def asset(url: str | None) -> str:
        """An image URL the API gave (`/media/...`), as the browser must ask for it: at the API."""
        return urljoin(base, url) if url else ""

    def srcset(value: str | None) -> str:
        return ", ".join(f"{asset(url)} {width}" for url, _, width in
                         (item.strip().rpartition(" ") for item in (value or "").split(",") if item.strip()))

    env.filters.update(asset=asset, srcset=srcset, long_date=long_date, short_date=short_date,
                       network_name=network_name, highlight=highlight, json_ld=json_ld)
    return env
