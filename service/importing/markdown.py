"""Markdown articles with YAML front matter."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import yaml

from service import drafts, models, pages, publishing
from service.errors import UserError
from service.importing import common
from service.importing.common import ImportFailure, Problem, Report
from service.models import PageKind

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



_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+|mailto:[^)\s]+|/(?!/)[^)\s]*)\)")  # site paths: links to pages
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


async def import_markdown(path: Path, by: str, publish: bool, report: Report, pending_related: list,
                          pending_translations: list | None = None) -> None:
    text = path.read_text(encoding="utf-8")
    match = _FRONT.match(text)
    if not match:
        raise ImportFailure("no YAML front matter (a --- block at the top).", 1)
    front = match[1]
    if len(front.encode()) > MAX_FRONT_MATTER_BYTES:
        raise ImportFailure(f"front matter is longer than {MAX_FRONT_MATTER_BYTES // 1024} KiB.", 1)
    try:
        meta = yaml.load(front, Loader=_FrontMatterLoader) or {}  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ImportFailure(f"front matter is not valid YAML: {getattr(error, 'problem', error)}",
                           mark.line + 2 if mark else 1) from None
    if not isinstance(meta, dict):
        raise ImportFailure("front matter must be a mapping of fields.", 2)
    known = {"title", "headline", "section", "published_at", "source", "tags", "authors", "related", "images",
             "hero_image", "hero_caption", "slug", "summary", "seo_title", "search_description", "comments_enabled",
             "locale", "translation_of"}
    for key in meta:
        if key not in known:
            raise ImportFailure(f"unknown field {key!r}; known: {', '.join(sorted(known))}.", _key_line(front, str(key)))
    for key in ("title", "section"):
        if not meta.get(key):
            raise ImportFailure(f"{key} is required.", _key_line(front, key) or 2)

    def problem_at(key: str, message: str) -> ImportFailure:
        return ImportFailure(f"{key}: {message}", _key_line(front, key))

    related = meta.get("related") or []
    if not isinstance(related, list) or not all(isinstance(r, (str, int)) for r in related):
        raise problem_at("related", "must be a list of article slugs or paths.")
    try:
        published_at = _datetime(meta.get("published_at"))
    except ValueError:
        raise problem_at("published_at", "not a date (use 2024-07-16 or 2024-07-16T09:00:00Z).") from None
    try:
        locale = await common.import_locale(meta.get("locale"))
    except ImportFailure as error:
        raise problem_at("locale", error.message) from None
    try:
        section = await common.ensure_section(str(meta["section"]), locale)
    except ImportFailure as error:
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
        raise problem_at("images", "must be a list of {url, alt, width, height, credit, caption}.")
    hero = meta.get("hero_image") or (images[0] if images else None)
    hero_image = None
    if hero is not None:
        try:
            hero_image = await common.ensure_image(**hero) if isinstance(hero, dict) else await common.ensure_image(str(hero))
        except (ImportFailure, TypeError, ValueError) as error:
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
                image = await common.ensure_image(url, alt=listed.get("alt") or alt, credit=listed.get("credit", ""),
                                     width=listed.get("width", 0), height=listed.get("height", 0),
                                     caption=listed.get("caption", ""))
            except ImportFailure as error:
                raise ImportFailure(error.message, line_no) from None
            block["value"]["image_id"] = image.id
    if not body_blocks:
        raise ImportFailure("the article has no body text.", body_start)
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
        "author_ids": [(await common.ensure_author(a)).id for a in authors],
        "hero_image_id": hero_image.id if hero_image else None,
        "hero_caption": str(meta.get("hero_caption") or ""),
        "body": [block for _, block in body_blocks],
        "seo_title": str(meta.get("seo_title") or ""),
        "search_description": str(meta.get("search_description") or ""),
        "comments_enabled": bool(meta.get("comments_enabled", True)),
    }
    try:
        where = f"{locale}/{section.slug}" if locale else section.slug  # the default locale's ids as they always were
        page = await common.save_article(f"md:{where}/{slug}", data, by, publish, report)
    except UserError as error:
        raise _located(error, front, body_blocks) from None
    if meta.get("translation_of") and pending_translations is not None:
        pending_translations.append((page.id, str(meta["translation_of"]), path, _key_line(front, "translation_of")))
    if related:
        pending_related.append((page.id, [str(r) for r in related], path, _key_line(front, "related")))


def _located(error: UserError, front: str, body_blocks: list[tuple[int, dict]]) -> ImportFailure:
    """A validation error pointed at its line: a body block's, or its front matter key's."""
    if error.field and error.field.startswith("body."):
        index = int(error.field.split(".")[1])
        line = body_blocks[index][0] if index < len(body_blocks) else None
        return ImportFailure(error.message, line)
    key = {"author_ids": "authors", "related_ids": "related", "hero_image_id": "images", "section_id": "section"}.get(
        error.field or "", error.field or "")
    return ImportFailure(error.message, _key_line(front, key) if key else None)


async def link_related(pending: list, report: Report, by: str, publish: bool) -> None:
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
        current = await drafts.latest_content(page)
        if current.get("related_ids") != ids:
            await drafts.update_page(page, {"related_ids": ids}, by, message="Related articles")
            if publish:
                await publishing.publish(await models.Page.get(id=page_id), None, by)
