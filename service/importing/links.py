"""Links between pages in imported bodies: an href that names a page becomes a link by reference.

An href names a page when it is the URL a WordPress export gives one of its posts
(`<link>`, or a `guid` that is a URL: the page imported from that post), or a path
of this site (`/world/story/`, or the site's base URL followed by one: the page at
that path). Such an anchor is stored as `<a data-page-id="...">`, so the link follows
the page wherever it moves. Links to pages that exist already are converted before
an article is saved (a re-import then finds nothing changed); links to pages the
same run imports later are converted once every file is in, as a new revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from service import blocks, drafts, ids, models, page_links, publishing


@dataclass
class ImportLinks:
    """What one import run knows about links: the exports' post URLs, the site's origins, the pages to revisit."""

    by_url: dict[str, str] = field(default_factory=dict)  # normalised URL -> external id of the page imported from it
    base_urls: tuple[str, ...] = ()  # this site's origins, normalised ("news.example.com")
    pending: dict[int, bool] = field(default_factory=dict)  # page id -> publish: links to look at again at the end


def normalise(url: str) -> str:
    """A URL as compared here: host (any scheme) and path without its trailing slash, query kept, fragment dropped."""
    parts = urlsplit(url.strip())
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}{query}"


def remember(links: ImportLinks, url: str, external_id: str) -> None:
    """An export's URL of the page imported as `external_id`."""
    if url.startswith(("http://", "https://")):
        links.by_url[normalise(url)] = external_id


def site_path(href: str, links: ImportLinks) -> str | None:
    """The URL path of this site an href points at, or None for another site's URL."""
    parts = urlsplit(href.strip())
    if parts.scheme in ("http", "https") and parts.netloc.lower() in links.base_urls:
        path = parts.path
    elif not parts.scheme and not parts.netloc and href.startswith("/"):
        path = parts.path
    else:
        return None
    return path if path.endswith("/") else path + "/"


async def _target(href: str, links: ImportLinks) -> tuple[models.Page | None, bool]:
    """The page an href names, and whether it may name one (a post or path not imported yet)."""
    external = links.by_url.get(normalise(href))
    if external is not None:
        return await models.Page.get_or_none(external_id=external), True
    path = site_path(href, links)
    if path is None:
        return None, False
    return await models.Page.get_or_none(url_path=path), True


async def convert(body: list, links: ImportLinks) -> tuple[list, bool]:
    """The body with the hrefs that name pages as links by reference; and whether an href may name
    a page that does not exist yet (to look at again once every file is in)."""
    waiting = False
    out = []
    for block in body:
        value = block.get("value") if isinstance(block, dict) and block.get("type") == "paragraph" else None
        raw = value.get("html") if isinstance(value, dict) else None
        if not isinstance(raw, str) or "href" not in raw:
            out.append(block)
            continue
        clean = blocks.sanitize_html(raw)
        hrefs: list[str] = []
        page_links.rewrite(clean, lambda attrs, inner: hrefs.append(attrs["href"]) if "href" in attrs else None)
        found: dict[str, models.Page] = {}
        for href in dict.fromkeys(hrefs):
            page, candidate = await _target(href, links)
            if page is not None:
                found[href] = page
            waiting = waiting or (candidate and page is None)
        if not found:
            out.append(block)
            continue

        def replace(attrs: dict[str, str], inner: str) -> str | None:
            page = found.get(attrs.get("href", ""))
            return None if page is None else page_links.anchor({page_links.ATTRIBUTE: ids.global_id(page)}, inner)

        out.append({**block, "value": {**value, "html": page_links.rewrite(clean, replace)}})
    return out, waiting


async def link_pending(links: ImportLinks, by: str) -> int:
    """Convert the links the run could not resolve when their page was saved; returns how many pages changed."""
    changed = 0
    for page_id, publish in links.pending.items():
        page = await models.Page.get_or_none(id=page_id)
        if page is None:
            continue
        current = await drafts.latest_content(page)
        body, _ = await convert(current.get("body") or [], links)
        if body == current.get("body"):
            continue
        await drafts.update_page(page, {"body": body}, by, message="Links to imported pages")
        if publish:
            await publishing.publish(await models.Page.get(id=page_id), None, by)
        changed += 1
    return changed
