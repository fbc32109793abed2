"""Demo and synthetic content: `masthead seed --demo` and `--synthetic`."""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import orjson

from service import blocks, comments, db, ids, media, menus, models, pages, purges, redirects, references
from service.models import CommentStatus, PageKind


async def is_empty() -> bool:
    return not await models.Page.exists()


async def seed_demo(storage: media.Storage) -> dict[str, int]:
    """Load the demo newsroom of service/demo_content.py into an empty database, its pictures into `storage`."""
    from service import demo_content as demo
    from service import demo_content_fr as demo_fr
    from service import demo_images

    if not await is_empty():
        raise RuntimeError("The database already has pages; the demo loads into an empty one.")
    images = {}
    for spec in demo.IMAGES:  # stored as an upload is: a file in the media library, renditions and all
        art = demo_images.artwork(spec)
        focal_x, focal_y = art.focal or (None, None)
        images[spec["key"]] = await media.add_image(
            storage, art.data, title=spec["title"], alt=spec["alt"], credit=spec["credit"], caption=spec["caption"],
            focal_x=focal_x, focal_y=focal_y,
        )
    await models.SiteSettings.create(**demo.SITE, logo=images.get(demo.SITE_LOGO), locales=demo_fr.LOCALE)
    home = await pages.create_home(**demo.HOME)
    sections: dict[str, models.Page] = {}
    for spec in demo.SECTIONS:
        parent = sections[spec["parent"]] if spec.get("parent") else home
        sections[spec["slug"]] = await pages.create_section(
            parent=parent, title=spec["title"], slug=spec["slug"], description=spec.get("description", "")
        )
    authors = {}
    for spec in demo.AUTHORS:
        values = {k: v for k, v in spec.items() if k != "avatar"}
        authors[spec["slug"]] = await models.Author.create(**values, avatar=images.get(spec.get("avatar")))
    articles: dict[str, models.Page] = {}
    for spec in sorted(demo.ARTICLES, key=lambda a: a["published_at"]):
        body = []
        for block in spec["body"]:
            value = dict(block["value"])
            if block["type"] == "image":
                value = {"image_id": images[value["image"]].id, "caption": value.get("caption", "")}
            elif block["type"] == "paragraph":
                value["html"] = _demo_links(value["html"], {"article": articles, "section": sections})
            body.append({"type": block["type"], "value": value})
        articles[spec["slug"]] = await pages.create_article(
            section=sections[spec["section"]],
            title=spec["title"],
            slug=spec["slug"],
            headline=spec.get("headline", ""),
            summary=spec.get("summary", ""),
            published_at=datetime.fromisoformat(spec["published_at"]).astimezone(timezone.utc),
            source=spec.get("source", ""),
            authors=[authors[s] for s in spec.get("authors", [])],
            tags=spec.get("tags", []),
            hero_image=images[spec["hero_image"]] if spec.get("hero_image") else None,
            hero_caption=spec.get("hero_caption", ""),
            body=body,
            comments_enabled=spec.get("comments_enabled", True),
        )
        made = articles[spec["slug"]]
        await references.index(made.id, references.LIVE, {"hero_image_id": made.hero_image_id, "body": made.body})
    french = await _seed_french(home, sections, articles, images, authors)
    for old_path, slug in demo.REDIRECTS:
        await redirects.add(old_path, page=sections[slug])
    for spec in demo.ARTICLES:
        if spec.get("related"):
            await pages.set_related(articles[spec["slug"]], [articles[s] for s in spec["related"]])
    stored: dict[str, models.Comment] = {}
    for spec in demo.COMMENTS:
        article = articles[spec["article"]]
        stored[spec["key"]] = await comments.store_comment(
            article=article,
            parent=stored[spec["parent"]] if spec.get("parent") else None,
            author_name=spec["author_name"],
            author_email=spec["author_email"],
            body=spec["body"],
            status=CommentStatus(spec["status"]),
            created_at=article.published_at + timedelta(minutes=spec["minutes_after"]),
        )
    await comments.refresh_counts([a.id for a in articles.values()])
    by_path = dict(await models.Page.all().values_list("url_path", "id"))
    for name, items in demo.MENUS.items():
        await menus.set_menu(name, _menu_items(items, by_path))
    await purges.purge(purges.SITE_WIDE)  # a new site: every list and lookup may have changed
    return {"sections": len(sections), "articles": len(articles), "comments": len(stored), "menus": len(demo.MENUS),
            "images": len(images), "translations": french}


async def _seed_french(home: models.Page, sections: dict, articles: dict, images: dict, authors: dict) -> int:
    """The French edition: /fr/ and its pages, each sharing its English original's translation key."""
    from service import demo_content as demo
    from service import demo_content_fr as fr
    from service import locales

    made = [await pages.create_home(locale=fr.LOCALE, url_path=locales.home_url(fr.LOCALE, home.locale), **fr.HOME)]
    keys = {made[0].id: home.translation_key}
    french: dict[str, models.Page] = {}
    for spec in fr.SECTIONS:
        french[spec["slug"]] = section = await pages.create_section(
            parent=made[0], title=spec["title"], slug=spec["slug"], description=spec["description"])
        keys[section.id] = sections[spec["translates"]].translation_key
    english = {spec["slug"]: spec for spec in demo.ARTICLES}
    for spec in fr.ARTICLES:
        original, source = articles[spec["translates"]], english[spec["translates"]]
        article = await pages.create_article(
            section=french[spec["section"]], title=spec["title"], slug=spec["slug"], headline=spec["headline"],
            summary=spec["summary"], published_at=original.published_at, source=source.get("source", ""),
            authors=[authors[s] for s in source.get("authors", [])], tags=source.get("tags", []),
            hero_image=images[source["hero_image"]] if source.get("hero_image") else None,
            hero_caption=spec.get("hero_caption", ""), comments_enabled=source.get("comments_enabled", True),
            body=[{"type": block["type"], "value": dict(block["value"])} for block in spec["body"]],
        )
        keys[article.id] = original.translation_key
        await references.index(article.id, references.LIVE, {"hero_image_id": article.hero_image_id, "body": article.body})
    for page_id, key in keys.items():
        await models.Page.filter(id=page_id).update(translation_key=key)
    return len(keys)


_DEMO_LINK = re.compile(r'data-page-id="(article|section):([a-z0-9-]+)"')


def _demo_links(html: str, made: dict[str, dict[str, models.Page]]) -> str:
    """The demo's links by slug (`data-page-id="article:<slug>"`) as the API takes them: the page's global id."""
    return _DEMO_LINK.sub(lambda m: f'data-page-id="{ids.global_id(made[m[1]][m[2]])}"', html)


def _menu_items(specs: Sequence[dict], by_path: dict[str, int]) -> list[dict]:
    """The demo's menu items as set_menu takes them: pages named by URL path become ids."""
    return [
        {"page_id": by_path[spec["page"]] if "page" in spec else None, "url": spec.get("url"), "label": spec.get("label"),
         "children": _menu_items(spec.get("children", []), by_path)}
        for spec in specs
    ]


# -- synthetic ----------------------------------------------------------------

WORDS = (
    "government council market energy climate election minister border trade talks city river "
    "report budget union court health school police storm harbour rail vote summit study data "
    "company workers prices coast village festival team season museum bridge airport water farm "
    "policy crisis plan deal research hospital science network power housing transport regional "
    "leaders agreement investment growth security community record project officials week year"
).split()
FILLER = "the a of to and in on for with as by at from that this its new".split()


class Progress:
    """A plain progress bar on stderr; silent when not attached to a terminal and quiet."""

    def __init__(self, label: str, total: int, enabled: bool = True) -> None:
        self.label, self.total, self.done, self.enabled = label, total, 0, enabled
        self._last = -1

    def advance(self, n: int) -> None:
        self.done += n
        percent = int(100 * self.done / max(self.total, 1))
        if self.enabled and percent != self._last:
            self._last = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r{self.label:<10} [{bar:<25}] {percent:3d}% {self.done}/{self.total}")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _sentence(rng: random.Random, words: int) -> str:
    out = []
    for i in range(words):
        out.append(rng.choice(WORDS) if i % 3 != 1 else rng.choice(FILLER))
    return " ".join(out).capitalize() + "."


def _paragraph(rng: random.Random, words: int = 80) -> str:
    sentences, total = [], 0
    while total < words:
        n = min(rng.randint(10, 18), words - total)
        sentences.append(_sentence(rng, max(n, 3)))
        total += max(n, 3)
    return " ".join(sentences)


async def _bulk(table: str, columns: Sequence[str], rows: list[list]) -> None:
    if not rows:
        return
    conn = db.connection()
    if conn.capabilities.dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
    else:
        marks = ", ".join(f"${i + 1}" for i in range(len(columns)))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    await conn.execute_many(sql, rows)


async def _next_id(table: str) -> int:
    rows = await db.fetch(f"SELECT COALESCE(MAX(id), 0) AS n FROM {table}")
    return rows[0]["n"] + 1


async def seed_synthetic(
    articles: int, comments_per_article: int, *, seed: int = 42, progress: bool = True, batch: int = 1000
) -> dict[str, int]:
    """Generate a deterministic large site with bulk inserts (for benchmarks)."""
    if not await is_empty():
        raise RuntimeError("The database already has pages; synthetic content loads into an empty one.")
    rng = random.Random(seed)
    stamp = datetime(2026, 1, 1, tzinfo=timezone.utc)
    await models.SiteSettings.create(
        name="Synthetic Times",
        tagline="Generated content for benchmarks",
        social_links=[{"network": n, "url": f"https://{n}.example.com/synthetic"} for n in ("x", "facebook", "rss")],
    )
    home = await pages.create_home(title="Home")
    sections = []
    for i in range(12):
        sections.append(await pages.create_section(parent=home, title=f"Section {i + 1}", slug=f"section-{i + 1}"))
    tag_ids = []
    for i in range(200):
        tag_ids.append((await models.Tag.create(name=f"Topic {i + 1}", slug=f"topic-{i + 1}")).id)
    author_ids = []
    for i in range(50):
        author_ids.append((await models.Author.create(name=f"Reporter {i + 1}", slug=f"reporter-{i + 1}")).id)
    image_ids = []
    for i in range(20):
        image = await models.Image.create(
            url=f"/media/synthetic/{i + 1}.jpg", width=1600, height=900, alt=f"Synthetic image {i + 1}", title=f"Image {i + 1}"
        )
        image_ids.append(image.id)

    page_columns = [
        "id", "kind", "parent_id", "path", "depth", "position", "slug", "url_path", "title", "seo_title",
        "search_description", "live", "first_published_at", "last_published_at", "created_at", "description",
        "headline", "summary", "published_at", "source", "reading_time", "comments_enabled", "hero_image_id",
        "body", "body_text", "comment_count", "thread_count", "tree_live", "translation_key",
    ]
    first_id = await _next_id("page")
    comment_id = await _next_id("comment")
    bar = Progress("articles", articles, progress)
    positions = {s.id: 0 for s in sections}
    for start in range(0, articles, batch):
        page_rows, tag_rows, author_rows, relation_rows, comment_rows = [], [], [], [], []
        for n in range(start, min(start + batch, articles)):
            page_id = first_id + n
            section = sections[n % len(sections)]
            published = stamp + timedelta(minutes=17 * n)
            title = _sentence(rng, 8).rstrip(".")
            slug = f"{pages.slugify(title)[:60].strip('-')}-{n + 1}"
            body = [
                {"id": f"s{page_id}-{i}", "type": "paragraph", "value": {"html": f"<p>{_paragraph(rng)}</p>"}}
                for i in range(8)
            ]
            text = blocks.body_text(body)
            summary = _sentence(rng, 22)
            position = positions[section.id]
            positions[section.id] += 1
            page_rows.append([
                page_id, PageKind.ARTICLE.value, section.id, f"{section.path}{page_id}/", 3, position, slug,
                f"{section.url_path}{slug}/", title, "", summary, True, published, published, published, "",
                title, summary, published, "By Synthetic Wire", blocks.reading_time(text), True,
                rng.choice(image_ids), orjson.dumps(body).decode(), text,
                comments_per_article, comments_per_article, True,  # below live, unscheduled sections
                f"synthetic{page_id:023d}",  # unique per page, without drawing from rng (the content stays as it was)
            ])
            for pos, tag_id in enumerate(rng.sample(tag_ids, 3)):
                tag_rows.append([page_id, tag_id, pos, True, published, section.id])
            author_rows.append([page_id, rng.choice(author_ids), 0])
            if n >= 4:
                for pos, other in enumerate(rng.sample(range(max(0, n - 500), n), 4)):
                    relation_rows.append([page_id, first_id + other, pos])
            for c in range(comments_per_article):
                comment_rows.append([
                    comment_id, page_id, None, f"Reader {rng.randint(1, 5000)}", f"reader{c}@example.com", "",
                    _sentence(rng, rng.randint(8, 30)), CommentStatus.APPROVED.value, "",
                    published + timedelta(minutes=5 * (c + 1)),
                ])
                comment_id += 1
        await _bulk("page", page_columns, page_rows)
        await _bulk("article_tag", ["article_id", "tag_id", "position", "live", "published_at", "section_id"], tag_rows)
        await _bulk("article_author", ["article_id", "author_id", "position"], author_rows)
        await _bulk("article_relation", ["article_id", "related_id", "position"], relation_rows)
        await _bulk(
            "comment",
            ["id", "article_id", "parent_id", "author_name", "author_email", "author_url", "body", "status",
             "ip_hash", "created_at"],
            comment_rows,
        )
        bar.advance(len(page_rows))
    if db.dialect() != "sqlite":
        # Rows were inserted with explicit ids: move the sequences past them.
        for table in ("page", "comment"):
            await db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    await db.execute("ANALYZE")
    await purges.purge(purges.SITE_WIDE)
    return {"sections": len(sections), "articles": articles, "comments": articles * comments_per_article}
