"""`masthead import`: articles from Markdown with YAML front matter, and WordPress WXR.

Imports are idempotent: each article remembers where it came from (`md:<slug>`,
`wxr:<site>:<post id>`) and a re-run saves a new revision of it instead of a
second copy. Every file is validated on its own; a bad one is reported with its
file and line and the others still import.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import yaml
from defusedxml import ElementTree

from service import blocks, editorial, models, pages
from service.errors import ErrorCode, UserError, is_number
from service.models import CommentStatus, PageKind

MARKDOWN_SUFFIXES = {".md", ".markdown"}
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FRONT_MATTER_BYTES = 64 * 1024


class _FrontMatterLoader(yaml.SafeLoader):
    """safe_load without anchors and aliases: a few hundred bytes of nested aliases
    (the "billion laughs" shape) expand to gigabytes, and front matter never needs them."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (&name, *name) are not allowed",
                                              event.start_mark)
        return super().compose_node(parent, index)


@dataclass
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    comments: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Imported: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.comments} comments; {len(self.problems)} problem(s)."
        )


class ImportError_(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


# -- Markdown -----------------------------------------------------------------------

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+|mailto:[^)\s]+)\)")
_STRONG = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_EM = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])|(?<![_\w])_(?!\s)(.+?)(?<!\s)_(?![_\w])")
_IMAGE = re.compile(r"^!\[([^\]]*)\]\((\S+?)(?:\s+\"([^\"]*)\")?\)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_BARE_URL = re.compile(r"^https?://\S+$")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+\.)\s+")


def inline_html(text: str) -> str:
    """Markdown inline formatting (code, links, strong, emphasis) as safe HTML."""
    out = html.escape(text, quote=False)
    out = _INLINE_CODE.sub(lambda m: f"<code>{m[1]}</code>", out)
    out = _LINK.sub(lambda m: f'<a href="{html.escape(html.unescape(m[2]))}">{m[1]}</a>', out)
    out = _STRONG.sub(lambda m: f"<strong>{m[1] or m[2]}</strong>", out)
    out = _EM.sub(lambda m: f"<em>{m[1] or m[2]}</em>", out)
    return out


def markdown_blocks(text: str, first_line: int, image_for: Callable[[str, str, str], dict]) -> list[tuple[int, dict]]:
    """Body blocks from Markdown, each with the line it starts on."""
    chunks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = first_line
    for offset, line in enumerate(text.splitlines()):
        if line.strip():
            if not current:
                start = first_line + offset
            current.append(line.rstrip())
        elif current:
            chunks.append((start, current))
            current = []
    if current:
        chunks.append((start, current))
    out = []
    for line_no, lines in chunks:
        joined = " ".join(part.strip() for part in lines)
        if match := _HEADING.match(lines[0]) if len(lines) == 1 else None:
            level = min(4, max(2, len(match[1])))
            out.append((line_no, {"type": "heading", "value": {"text": match[2], "level": level}}))
        elif all(part.lstrip().startswith(">") for part in lines):
            quote = " ".join(part.lstrip()[1:].strip() for part in lines)
            text_part, _, attribution = quote.partition(" — ")
            if not attribution:
                text_part, _, attribution = quote.partition(" -- ")
            out.append((line_no, {"type": "quote", "value": {"text": text_part.strip(), "attribution": attribution.strip()}}))
        elif match := _IMAGE.match(joined):
            out.append((line_no, image_for(match[2], match[1], match[3] or "")))
        elif _BARE_URL.match(joined):
            out.append((line_no, {"type": "embed", "value": {"url": joined, "title": ""}}))
        elif all(_LIST_ITEM.match(part) for part in lines):
            tag = "ol" if re.match(r"^\s*\d+\.", lines[0]) else "ul"
            items = "".join("<li>" + inline_html(_LIST_ITEM.sub("", part)) + "</li>" for part in lines)
            out.append((line_no, {"type": "paragraph", "value": {"html": f"<{tag}>{items}</{tag}>"}}))
        else:
            out.append((line_no, {"type": "paragraph", "value": {"html": f"<p>{inline_html(joined)}</p>"}}))
    return out


def _key_line(front: str, key: str) -> int | None:
    for number, line in enumerate(front.splitlines(), start=2):  # line 1 is the opening ---
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return number
    return None


def _datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


async def _home() -> models.Page:
    home = await models.Page.get_or_none(kind=PageKind.HOME)
    return home or await pages.create_home(title="Home")


async def _section(slug: str) -> models.Page:
    """The section with this slug, created (live, below the home page) when missing."""
    clean = pages.slugify(slug)
    if not clean:
        raise ImportError_("section is empty.")
    section = await models.Page.get_or_none(kind=PageKind.SECTION, slug=clean)
    if section is None:
        section = await pages.create_section(parent=await _home(), title=clean.replace("-", " ").title(), slug=clean)
    return section


async def _author(name: str) -> models.Author:
    name = str(name).strip()
    slug = pages.slugify(name)
    if not slug:
        raise ImportError_(f"author {name!r} has no letters or digits.")
    author = await models.Author.get_or_none(slug=slug)
    return author or await models.Author.create(name=name[:255], slug=slug)


async def _image(url: str, alt: str = "", credit: str = "", width: Any = 0, height: Any = 0, title: str = "") -> models.Image:
    url = str(url).strip()
    if not re.match(r"^(https?://|/)\S+$", url) or len(url) > 1024:
        raise ImportError_(f"image url {url[:80]!r} is not an http(s) URL or a site path.")
    image = await models.Image.filter(url=url).first()
    try:
        size = {"width": int(width or 0), "height": int(height or 0)}
    except (TypeError, ValueError):
        raise ImportError_(f"image {url[:80]!r}: width and height must be whole numbers.") from None
    values = {"alt": str(alt or "")[:512], "credit": str(credit or "")[:255], "title": str(title or "")[:255], **size}
    if image is None:
        return await models.Image.create(url=url, **values)
    changed = {k: v for k, v in values.items() if v and getattr(image, k) != v}
    if changed:
        await models.Image.filter(id=image.id).update(**changed)
    return image


async def _save(external_id: str, data: dict, by: str, publish: bool, report: Report) -> models.Page:
    """Create or update the article imported from `external_id`; publish it unless drafting."""
    existing = await models.Page.get_or_none(external_id=external_id)
    if existing is None:
        page, _ = await editorial.create_article(data, by)
        await models.Page.filter(id=page.id).update(external_id=external_id)
        page = await models.Page.get(id=page.id)
        report.created += 1
    else:
        page = existing
        current = await editorial.latest_content(page)
        clean = await editorial.clean_article({**current, **data}, page.id)
        same_body = [{k: v for k, v in b.items() if k != "id"} for b in current.get("body", [])] == [
            {k: v for k, v in b.items() if k != "id"} for b in clean["body"]
        ]
        if same_body and all(clean[k] == current.get(k) for k in clean if k != "body"):
            report.unchanged += 1
            if publish and not page.live:
                await editorial.publish(page, None, by)
            return page
        await editorial.update_page(page, data, by, message="Re-imported")
        page = await models.Page.get(id=page.id)
        report.updated += 1
    if publish:
        await editorial.publish(page, None, by)
    return await models.Page.get(id=page.id)


async def import_markdown(path: Path, by: str, publish: bool, report: Report, pending_related: list) -> None:
    text = path.read_text(encoding="utf-8")
    match = _FRONT.match(text)
    if not match:
        raise ImportError_("no YAML front matter (a --- block at the top).", 1)
    front = match[1]
    if len(front.encode()) > MAX_FRONT_MATTER_BYTES:
        raise ImportError_(f"front matter is longer than {MAX_FRONT_MATTER_BYTES // 1024} KiB.", 1)
    try:
        meta = yaml.load(front, Loader=_FrontMatterLoader) or {}  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ImportError_(f"front matter is not valid YAML: {getattr(error, 'problem', error)}",
                           mark.line + 2 if mark else 1) from None
    if not isinstance(meta, dict):
        raise ImportError_("front matter must be a mapping of fields.", 2)
    known = {"title", "headline", "section", "published_at", "source", "tags", "authors", "related", "images",
             "hero_image", "slug", "summary", "seo_title", "search_description", "comments_enabled"}
    for key in meta:
        if key not in known:
            raise ImportError_(f"unknown field {key!r}; known: {', '.join(sorted(known))}.", _key_line(front, str(key)))
    for key in ("title", "section"):
        if not meta.get(key):
            raise ImportError_(f"{key} is required.", _key_line(front, key) or 2)

    def problem_at(key: str, message: str) -> ImportError_:
        return ImportError_(f"{key}: {message}", _key_line(front, key))

    related = meta.get("related") or []
    if not isinstance(related, list) or not all(isinstance(r, (str, int)) for r in related):
        raise problem_at("related", "must be a list of article slugs or paths.")
    try:
        published_at = _datetime(meta.get("published_at"))
    except ValueError:
        raise problem_at("published_at", "not a date (use 2024-07-16 or 2024-07-16T09:00:00Z).") from None
    try:
        section = await _section(str(meta["section"]))
    except ImportError_ as error:
        raise problem_at("section", error.message) from None
    authors = meta.get("authors") or []
    if isinstance(authors, str):
        authors = [authors]
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not isinstance(authors, list):
        raise problem_at("tags" if not isinstance(tags, list) else "authors", "must be a list.")
    images = meta.get("images") or []
    if isinstance(images, dict):
        images = [images]
    if not isinstance(images, list) or not all(isinstance(i, (dict, str)) for i in images):
        raise problem_at("images", "must be a list of {url, alt, width, height, credit}.")
    hero = meta.get("hero_image") or (images[0] if images else None)
    hero_image = None
    if hero is not None:
        try:
            hero_image = await _image(**hero) if isinstance(hero, dict) else await _image(str(hero))
        except (ImportError_, TypeError, ValueError) as error:
            raise problem_at("hero_image" if meta.get("hero_image") else "images", getattr(error, "message", str(error))) from None
    by_url = {}
    for item in images:
        if isinstance(item, dict) and item.get("url"):
            by_url[str(item["url"])] = item
    body_start = text[: match.end()].count("\n") + 1

    def image_for(url: str, alt: str, caption: str) -> dict:
        return {"type": "image", "value": {"image_id": 0, "caption": caption}, "_src": url, "_alt": alt}

    body_blocks = markdown_blocks(text[match.end():], body_start, image_for)
    for line_no, block in body_blocks:  # body images: found by URL or added to the library
        if block["type"] == "image":
            url, alt = block.pop("_src"), block.pop("_alt")
            listed = by_url.get(url, {})
            try:
                image = await _image(url, alt=listed.get("alt") or alt, credit=listed.get("credit", ""),
                                     width=listed.get("width", 0), height=listed.get("height", 0))
            except ImportError_ as error:
                raise ImportError_(error.message, line_no) from None
            block["value"]["image_id"] = image.id
    if not body_blocks:
        raise ImportError_("the article has no body text.", body_start)
    slug = pages.slugify(str(meta.get("slug") or path.stem))
    data = {
        "section_id": section.id,
        "title": str(meta["title"]),
        "slug": slug,
        "headline": str(meta.get("headline") or ""),
        "summary": str(meta.get("summary") or ""),
        "published_at": published_at.isoformat() if published_at else None,
        "source": str(meta.get("source") or ""),
        "tags": [str(t) for t in tags],
        "author_ids": [(await _author(a)).id for a in authors],
        "hero_image_id": hero_image.id if hero_image else None,
        "body": [block for _, block in body_blocks],
        "seo_title": str(meta.get("seo_title") or ""),
        "search_description": str(meta.get("search_description") or ""),
        "comments_enabled": bool(meta.get("comments_enabled", True)),
    }
    try:
        page = await _save(f"md:{section.slug}/{slug}", data, by, publish, report)
    except UserError as error:
        raise _located(error, front, body_blocks) from None
    if related:
        pending_related.append((page.id, [str(r) for r in related], path, _key_line(front, "related")))


def _located(error: UserError, front: str, body_blocks: list[tuple[int, dict]]) -> ImportError_:
    """A validation error pointed at its line: a body block's, or its front matter key's."""
    if error.field and error.field.startswith("body."):
        index = int(error.field.split(".")[1])
        line = body_blocks[index][0] if index < len(body_blocks) else None
        return ImportError_(error.message, line)
    key = {"author_ids": "authors", "related_ids": "related", "hero_image_id": "images", "section_id": "section"}.get(
        error.field or "", error.field or "")
    return ImportError_(error.message, _key_line(front, key) if key else None)


async def _link_related(pending: list, report: Report, by: str, publish: bool) -> None:
    """Related articles named by slug, URL path or `md:` id, once every file is in."""
    for page_id, names, path, line in pending:
        ids = []
        for name in names:
            target = await models.Page.filter(kind=PageKind.ARTICLE).filter(
                external_id__in=[name, f"md:{name.strip('/')}"]).first()
            if target is None:
                wanted = name if name.startswith("/") else None
                target = await models.Page.get_or_none(kind=PageKind.ARTICLE, url_path=wanted) if wanted else None
            if target is None:
                target = await models.Page.filter(kind=PageKind.ARTICLE, slug=pages.slugify(name)).first()
            if target is None:
                report.problems.append(Problem(path, line, f"related: no article {name!r}; left out."))
                continue
            ids.append(target.id)
        page = await models.Page.get(id=page_id)
        current = await editorial.latest_content(page)
        if current.get("related_ids") != ids:
            await editorial.update_page(page, {"related_ids": ids}, by, message="Related articles")
            if publish:
                await editorial.publish(await models.Page.get(id=page_id), None, by)


# -- WordPress WXR --------------------------------------------------------------------

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
            image = await _image(attrs.get("src", ""), alt=html.unescape(attrs.get("alt", "")),
                                 width=attrs.get("width", 0) if is_number(attrs.get("width", "")) else 0,
                                 height=attrs.get("height", 0) if is_number(attrs.get("height", "")) else 0)
            out.append({"type": "image", "value": {"image_id": image.id,
                                                   "caption": blocks.html_to_text(caption[1]) if caption else ""}})
    return out


def _wp_date(value: str) -> datetime | None:
    if not value or value.startswith("0000"):
        return None
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


async def import_wxr(path: Path, by: str, publish: bool, report: Report, progress: Callable[[int, int], None]) -> None:
    try:
        tree = ElementTree.parse(path)
    except ElementTree.ParseError as error:
        raise ImportError_(f"not well-formed XML: {error}", error.position[0] if hasattr(error, "position") else None) from None
    except Exception as error:  # defusedxml refuses entity expansion and external entities
        raise ImportError_(f"refused: {error}") from None
    channel = tree.getroot().find("channel")
    if channel is None:
        raise ImportError_("not a WordPress export (no <channel>).", 1)
    site = _wp_text(channel, "wp:base_site_url") or _wp_text(channel, "link") or path.stem
    names = {}
    for author in channel.findall(f"{{{NS['wp']}}}author"):
        login = _wp_text(author, "wp:author_login")
        names[login] = _wp_text(author, "wp:author_display_name") or login
    sections = {}
    for category in channel.findall(f"{{{NS['wp']}}}category"):
        sections[_wp_text(category, "wp:category_nicename")] = html.unescape(_wp_text(category, "wp:cat_name"))
    items = [i for i in channel.findall("item") if _wp_text(i, "wp:post_type") == "post"]
    for number, item in enumerate(items, start=1):
        progress(number, len(items))
        post_id = _wp_text(item, "wp:post_id")
        title = html.unescape(_wp_text(item, "title"))
        label = f"post {post_id or number} ({title[:40]!r})"
        try:
            await _import_post(item, site, post_id, names, sections, by, publish, report)
        except (ImportError_, UserError, ValueError) as error:
            report.problems.append(Problem(path, None, f"{label}: {getattr(error, 'message', error)}"))


async def _import_post(item, site, post_id, names, sections, by, publish, report) -> None:
    status = _wp_text(item, "wp:status")
    categories = [c for c in item.findall("category") if c.get("domain") == "category"]
    tags = [c.get("nicename") or c.text for c in item.findall("category") if c.get("domain") == "post_tag"]
    if not categories:
        raise ImportError_("has no category to use as its section.")
    nicename = categories[0].get("nicename") or pages.slugify(categories[0].text or "")
    section = await _section(nicename)
    if sections.get(nicename) and section.title != sections[nicename] and section.title == nicename.replace("-", " ").title():
        await models.Page.filter(id=section.id).update(title=sections[nicename][:255])
    creator = _wp_text(item, "dc:creator")
    blocks_ = await html_blocks(_wp_text(item, "content:encoded"))
    if not blocks_:
        raise ImportError_("has no body text.")
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
        "author_ids": [(await _author(names.get(creator, creator))).id] if creator else [],
        "hero_image_id": None,
        "body": blocks_,
        "seo_title": "",
        "search_description": "",
        "comments_enabled": _wp_text(item, "wp:comment_status") != "closed",
    }
    page = await _save(f"wxr:{site}:{post_id}", data, by, publish and status == "publish", report)
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
            created_at=_wp_date(_wp_text(row, "wp:comment_date_gmt")) or editorial.now(),
            external_id=external,
        )
        comment_ids[wp_id] = comment.id
        report.comments += 1
    if rows:
        from service.comments import refresh_counts

        await refresh_counts([page.id])


# -- entry point ------------------------------------------------------------------------


def _files(paths: Iterable[Path]) -> list[Path]:
    out = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in MARKDOWN_SUFFIXES | {".xml"}))
        else:
            out.append(path)
    return out


def _bar(done: int, total: int, label: str) -> None:
    width = 25
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r{label:<10} [{'#' * filled}{' ' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def import_paths(paths: list[Path], by: str = "import", publish: bool = True, progress: bool = False) -> Report:
    report = Report()
    pending_related: list = []
    files = _files(paths)
    markdown_total = sum(1 for p in files if p.suffix.lower() in MARKDOWN_SUFFIXES)
    markdown_done = 0
    for path in files:
        try:
            if not path.is_file():
                raise ImportError_("no such file.")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImportError_(f"larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
            if path.suffix.lower() in MARKDOWN_SUFFIXES:
                markdown_done += 1
                await import_markdown(path, by, publish, report, pending_related)
            elif path.suffix.lower() == ".xml":
                await import_wxr(path, by, publish, report, (lambda d, t: _bar(d, t, path.name[:10])) if progress else (lambda d, t: None))
            else:
                raise ImportError_("not a .md, .markdown or .xml file.")
        except ImportError_ as error:
            report.problems.append(Problem(path, error.line, error.message))
        except UnicodeDecodeError:
            report.problems.append(Problem(path, None, "not UTF-8 text."))
        except UserError as error:
            report.problems.append(Problem(path, None, error.message))
        except Exception as error:  # noqa: BLE001 - one odd file must not stop the others
            report.problems.append(Problem(path, None, f"could not import: {type(error).__name__}: {error}"))
        if progress and path.suffix.lower() in MARKDOWN_SUFFIXES:
            _bar(markdown_done, markdown_total, "markdown")
    await _link_related(pending_related, report, by, publish)
    return report


__all__ = ["import_paths", "Report", "Problem", "ErrorCode"]
