"""WordPress WXR exports: posts, their categories as sections, and approved comments."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from defusedxml import ElementTree

from service import blocks, comments, models, pages
from service.clock import now
from service.errors import UserError, is_number
from service.importing import common, links
from service.importing.common import ImportFailure, Problem, Report
from service.models import CommentStatus


NS = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wp": "http://wordpress.org/export/1.2/",
}
_BLOCK_TAG = re.compile(r"<(p|h[1-6]|blockquote|ul|ol|figure)\b[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_CAPTION = re.compile(r"<figcaption[^>]*>(.*?)</figcaption>", re.DOTALL | re.IGNORECASE)


def _wp_text(item, tag: str) -> str:
    prefix, _, name = tag.partition(":")
    node = item.find(f"{{{NS[prefix]}}}{name}") if name else item.find(tag)
    return (node.text or "").strip() if node is not None else ""


def _autop(content: str) -> str:
    """WordPress stores paragraphs as blank-line-separated text; give them <p> tags."""
    if re.search(r"<p\b", content, re.IGNORECASE):
        return content
    parts = [p.strip() for p in re.split(r"\n\s*\n", content) if p.strip()]
    return "".join(p if re.match(r"^<(h[1-6]|blockquote|ul|ol|figure)\b", p, re.I) else f"<p>{p}</p>" for p in parts)


async def html_blocks(content: str) -> list[dict]:
    out = []
    for match in _BLOCK_TAG.finditer(_autop(content)):
        tag, inner = match[1].lower(), match[2]
        if tag == "p" and _IMG.search(inner) and not blocks.html_to_text(_IMG.sub("", inner)):
            tag = "figure"
        if tag == "p":
            if blocks.html_to_text(inner):
                out.append({"type": "paragraph", "value": {"html": f"<p>{inner.strip()}</p>"}})
        elif tag in ("ul", "ol"):
            out.append({"type": "paragraph", "value": {"html": f"<{tag}>{inner.strip()}</{tag}>"}})
        elif tag.startswith("h"):
            text = blocks.html_to_text(inner)
            if text:
                out.append({"type": "heading", "value": {"text": text[:255], "level": min(4, max(2, int(tag[1])))}})
        elif tag == "blockquote":
            text = blocks.html_to_text(inner)
            if text:
                out.append({"type": "quote", "value": {"text": text, "attribution": ""}})
        else:
            img = _IMG.search(inner)
            if not img:
                continue
            attrs = dict(_ATTR.findall(img[0]))
            caption = _CAPTION.search(inner)
            image = await common.ensure_image(attrs.get("src", ""), alt=html.unescape(attrs.get("alt", "")),
                                 width=attrs.get("width", 0) if is_number(attrs.get("width", "")) else 0,
                                 height=attrs.get("height", 0) if is_number(attrs.get("height", "")) else 0)
            out.append({"type": "image", "value": {"image_id": image.id,
                                                   "caption": blocks.html_to_text(caption[1]) if caption else ""}})
    return out


def _wp_date(value: str) -> datetime | None:
    if not value or value.startswith("0000"):
        return None
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


async def import_wxr(path: Path, by: str, publish: bool, report: Report, progress: Callable[[int, int], None],
                     pending_translations: list | None = None) -> None:
    try:
        tree = ElementTree.parse(path)
    except ElementTree.ParseError as error:
        raise ImportFailure(f"not well-formed XML: {error}", error.position[0] if hasattr(error, "position") else None) from None
    except Exception as error:  # defusedxml refuses entity expansion and external entities
        raise ImportFailure(f"refused: {error}") from None
    channel = tree.getroot().find("channel")
    if channel is None:
        raise ImportFailure("not a WordPress export (no <channel>).", 1)
    site = _wp_text(channel, "wp:base_site_url") or _wp_text(channel, "link") or path.stem
    names = {}
    for author in channel.findall(f"{{{NS['wp']}}}author"):
        login = _wp_text(author, "wp:author_login")
        names[login] = _wp_text(author, "wp:author_display_name") or login
    sections = {}
    for category in channel.findall(f"{{{NS['wp']}}}category"):
        sections[_wp_text(category, "wp:category_nicename")] = html.unescape(_wp_text(category, "wp:cat_name"))
    items = [i for i in channel.findall("item") if _wp_text(i, "wp:post_type") == "post"]
    for item in items:  # links between posts: each post's URLs name the page it becomes
        for url in (_wp_text(item, "link"), _wp_text(item, "guid")):
            links.remember(report.links, url, f"wxr:{site}:{_wp_text(item, 'wp:post_id')}")
    for number, item in enumerate(items, start=1):
        progress(number, len(items))
        post_id = _wp_text(item, "wp:post_id")
        title = html.unescape(_wp_text(item, "title"))
        label = f"post {post_id or number} ({title[:40]!r})"
        try:
            page = await _import_post(item, site, post_id, names, sections, by, publish, report)
            original = _translation_of(item, site)
            if original and pending_translations is not None:
                pending_translations.append((page.id, original, path, None))
        except (ImportFailure, UserError, ValueError) as error:
            report.problems.append(Problem(path, None, f"{label}: {getattr(error, 'message', error)}"))


def _meta(item, *keys: str) -> str:
    """The first of these post meta fields the item has (`wp:postmeta`), else ""."""
    for meta in item.findall(f"{{{NS['wp']}}}postmeta"):
        if _wp_text(meta, "wp:meta_key") in keys:
            return _wp_text(meta, "wp:meta_value")
    return ""


def _language(item) -> str:
    """The post's language: Polylang's `language` term, else a locale meta field (WPML's or ours)."""
    for category in item.findall("category"):
        if category.get("domain") == "language":
            return category.get("nicename") or category.text or ""
    return _meta(item, "locale", "_locale", "language", "wpml_language", "_wpml_language")


def _translation_of(item, site: str) -> str:
    """What the post translates: our `translation_of` meta (a post id in this file, a path or slug), or
    Polylang's post_translations group (every post in it shares one key)."""
    value = _meta(item, "translation_of", "_translation_of")
    if value:
        return f"wxr:{site}:{value}" if value.isdigit() else value
    for category in item.findall("category"):
        if category.get("domain") == "post_translations":
            return f"group:{category.get('nicename') or category.text}"
    return ""


async def _import_post(item, site, post_id, names, sections, by, publish, report) -> models.Page:
    status = _wp_text(item, "wp:status")
    categories = [c for c in item.findall("category") if c.get("domain") == "category"]
    tags = [c.get("nicename") or c.text for c in item.findall("category") if c.get("domain") == "post_tag"]
    if not categories:
        raise ImportFailure("has no category to use as its section.")
    nicename = categories[0].get("nicename") or pages.slugify(categories[0].text or "")
    section = await common.ensure_section(nicename, await common.import_locale(_language(item)))
    if sections.get(nicename) and section.title != sections[nicename] and section.title == nicename.replace("-", " ").title():
        await models.Page.filter(id=section.id).update(title=sections[nicename][:255])
    creator = _wp_text(item, "dc:creator")
    blocks_ = await html_blocks(_wp_text(item, "content:encoded"))
    if not blocks_:
        raise ImportFailure("has no body text.")
    published = _wp_date(_wp_text(item, "wp:post_date_gmt")) or _wp_date(_wp_text(item, "wp:post_date"))
    data = {
        "section_id": section.id,
        "title": html.unescape(_wp_text(item, "title")),
        "slug": _wp_text(item, "wp:post_name") or None,
        "headline": "",
        "summary": blocks.html_to_text(_wp_text(item, "excerpt:encoded"))[:2000],
        "published_at": published.isoformat() if published else None,
        "source": "",
        "tags": [t for t in tags if t],
        "author_ids": [(await common.ensure_author(names.get(creator, creator))).id] if creator else [],
        "hero_image_id": None,
        "body": blocks_,
        "seo_title": "",
        "search_description": "",
        "comments_enabled": _wp_text(item, "wp:comment_status") != "closed",
    }
    page = await common.save_article(f"wxr:{site}:{post_id}", data, by, publish and status == "publish", report)
    # Approved comments, parents before replies; re-imports skip the ones already in.
    comment_ids: dict[str, int] = {}
    rows = item.findall(f"{{{NS['wp']}}}comment")
    rows.sort(key=lambda c: (_wp_text(c, "wp:comment_parent") not in ("", "0"), int(_wp_text(c, "wp:comment_id") or 0)))
    for row in rows:
        if _wp_text(row, "wp:comment_approved") != "1" or _wp_text(row, "wp:comment_type") in ("pingback", "trackback"):
            continue
        wp_id = _wp_text(row, "wp:comment_id")
        external = f"wxr:{site}:{post_id}:{wp_id}"
        existing = await models.Comment.get_or_none(external_id=external)
        if existing is not None:
            comment_ids[wp_id] = existing.id
            continue
        parent = _wp_text(row, "wp:comment_parent")
        body = blocks.html_to_text(_wp_text(row, "wp:comment_content"))[:5000]
        if not body:
            continue
        comment = await models.Comment.create(
            article_id=page.id,
            parent_id=comment_ids.get(parent) if parent not in ("", "0") else None,
            author_name=(_wp_text(row, "wp:comment_author") or "Anonymous")[:80],
            author_email=_wp_text(row, "wp:comment_author_email")[:254],
            author_url=_wp_text(row, "wp:comment_author_url")[:1024],
            body=body,
            status=CommentStatus.APPROVED,
            created_at=_wp_date(_wp_text(row, "wp:comment_date_gmt")) or now(),
            external_id=external,
        )
        comment_ids[wp_id] = comment.id
        report.comments += 1
    if rows:
        await comments.refresh_counts([page.id])
    return page
