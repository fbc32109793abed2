"""/media serves readers only what published content shows, by signed URLs, at a bounded render rate."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from service import auth, ids, models, pages
from service.app import create_app
from service.models import Role
from service.settings import Settings
from tests.conftest import BACKENDS, run_cli
from tests.test_media import picture

UPLOADED = """
mutation($file: Upload!, $alt: String!) {
  uploadImage(file: $file, alt: $alt) {
    image { id url small: rendition(width: 320) { url } square: rendition(width: 160, height: 160, fill: true, format: WEBP) { url }
            srcSet(widths: [160, 320, 480, 640]) }
    errors { code }
  }
}"""
CREATE = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } errors { code message } } }"
UPDATE = "mutation($id: ID!, $input: UpdateArticleInput!) { updateArticle(id: $id, input: $input) { errors { code message } } }"
PUBLISH = "mutation($id: ID!) { publishPage(id: $id) { errors { code message } } }"
UNPUBLISH = "mutation($id: ID!) { unpublishPage(id: $id) { errors { code message } } }"
SCHEDULE = "mutation($id: ID!, $at: DateTime) { schedulePage(id: $id, goLiveAt: $at) { errors { code message } } }"
PAGE_IMAGES = """query($path: String!) { page(urlPath: $path) { ... on ArticlePage {
  heroImage { url rendition(width: 480) { url } srcSet(widths: [800]) }
  body { ... on ImageBlock { image { url srcSet(widths: [320]) } } } } } }"""


@pytest.fixture
async def media(client, app, database_url, tmp_path):
    """A client for an app whose media directory the test can look into, on a clean database."""
    opened: list[httpx.AsyncClient] = []

    def make(**overrides) -> httpx.AsyncClient:
        settings = replace(Settings(database_url=database_url, background_jobs=False, rate_points=0,
                                    media_dir=tmp_path / "media"), **overrides)
        made = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://testserver")
        opened.append(made)
        return made

    yield make
    for made in opened:
        await made._transport.app.state.render_budget.aclose()
        await made.aclose()


class Desk:
    """An editor's side of the API: uploads, drafts, publishing (a publisher token)."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.token, self.uploads = http, token, 0
        self.auth = {"Authorization": f"Bearer {token}"}

    async def upload(self, width: int = 1200, height: int = 800) -> dict:
        operations = {"query": UPLOADED, "variables": {"file": None, "alt": "A picture"}}
        self.uploads += 1  # different bytes each time: originals are stored by content
        response = await self.http.post(
            "/graphql", data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": ("p.png", picture(width + self.uploads, height), "application/octet-stream")}, headers=self.auth,
        )
        result = response.json()["data"]["uploadImage"]
        assert result["errors"] == [], result
        image = result["image"]
        # An editor's URLs carry a grant (for <img>, which sends no token); readers get them without.
        image["granted"] = [image["url"], image["small"]["url"], image["square"]["url"]]
        assert all("?grant=" in url for url in image["granted"])
        image["all"] = [url.split("?")[0] for url in image["granted"]]
        image["url"], image["small"]["url"], image["square"]["url"] = image["all"]
        image["srcset"] = [part.split(" ")[0].split("?")[0] for part in image["srcSet"].split(", ")]
        return image

    async def run(self, query: str, **variables) -> dict:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=self.auth)
        body = response.json()
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert payload["errors"] == [], payload
        return payload

    async def article(self, section: str, title: str, hero: dict | None = None, body_images: tuple[dict, ...] = ()) -> str:
        body = [{"paragraph": {"html": "<p>Text.</p>"}}] + [{"image": {"imageId": i["id"], "caption": ""}} for i in body_images]
        made = await self.run(CREATE, input={"sectionId": section, "title": title, "heroImageId": hero["id"] if hero else None,
                                             "body": body})
        return made["article"]["id"]


async def _desk(http: httpx.AsyncClient) -> tuple[Desk, str]:
    raw, _ = await auth.create_token(name="desk", role=Role.PUBLISHER)
    home = await pages.create_home(title="Home")
    section = await pages.create_section(parent=home, title="World")
    return Desk(http, raw), ids.global_id(section)


async def _status(http: httpx.AsyncClient, urls, headers=None) -> set[int]:
    return {(await http.get(url, headers=headers or {})).status_code for url in urls}


async def test_draft_images_are_served_to_readers_only_while_published(media):
    http = media()
    desk, section = await _desk(http)
    hero, inline, unused, later = [await desk.upload() for _ in range(4)]
    article = await desk.article(section, "Harbour", hero=hero, body_images=(inline,))

    drafts = hero["all"] + inline["all"] + unused["all"]
    assert await _status(http, drafts) == {404}  # a draft's images, and an image nothing uses
    editor = [await http.get(url, headers=desk.auth) for url in drafts]
    assert {r.status_code for r in editor} == {200}
    assert {r.headers["cache-control"] for r in editor} == {"private, no-store"}  # never in a shared cache
    assert await _status(http, drafts) == {404}  # the editor's renders did not open them up
    moderator, _ = await auth.create_token(name="mod", role=Role.MODERATOR)
    for header in (f"Bearer {moderator}", "Bearer mh_forged", f"Basic {desk.token}"):
        assert await _status(http, drafts, {"Authorization": header}) == {404}

    await desk.run(PUBLISH, id=article)
    public = hero["all"] + inline["all"]
    served = [await http.get(url) for url in public]
    assert {r.status_code for r in served} == {200}
    assert {r.headers["cache-control"] for r in served} == {"public, max-age=600"}
    assert {r.headers["cross-origin-resource-policy"] for r in served} == {"cross-origin"}  # frontends on other sites embed them
    assert await _status(http, unused["all"]) == {404}
    # The URLs readers get from the API work, for the hero and the body's image blocks.
    page = (await http.post("/graphql", json={"query": PAGE_IMAGES, "variables": {"path": "/world/harbour/"}})).json()
    listed = page["data"]["page"]
    urls = [listed["heroImage"]["url"], listed["heroImage"]["rendition"]["url"], listed["heroImage"]["srcSet"].split(" ")[0],
            listed["body"][1]["image"]["url"], listed["body"][1]["image"]["srcSet"].split(" ")[0]]
    assert await _status(http, urls) == {200}
    assert not any("grant" in url for url in urls)  # readers' URLs are the same for everyone (cacheable)

    # A draft of the live article swaps in a new hero: the draft's image stays private.
    await desk.run(UPDATE, id=article, input={"heroImageId": later["id"]})
    assert await _status(http, later["all"]) == {404}
    assert await _status(http, hero["all"]) == {200}
    await desk.run(PUBLISH, id=article)
    assert await _status(http, later["all"]) == {200}
    assert await _status(http, hero["all"]) == {404}  # no longer shown by the published article

    await desk.run(UNPUBLISH, id=article)
    assert await _status(http, later["all"] + inline["all"]) == {404}  # renditions cached on disk included
    assert await _status(http, later["all"], desk.auth) == {200}


async def test_images_of_a_section_readers_cannot_see_are_private(media):
    http = media()
    desk, world = await _desk(http)
    sport = await pages.create_section(parent=await models.Page.get(kind="home"), title="Sport")
    hero = await desk.upload()
    article = await desk.article(ids.global_id(sport), "Final", hero=hero)
    await desk.run(PUBLISH, id=article)
    assert await _status(http, hero["all"]) == {200}

    await desk.run(UNPUBLISH, id=ids.global_id(sport))
    assert await _status(http, hero["all"]) == {404}

    # Embargoed: the section is scheduled for tomorrow.
    other = await desk.upload()
    again = await desk.article(world, "Embargoed", hero=other)
    await desk.run(PUBLISH, id=again)
    assert await _status(http, other["all"]) == {200}
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    await desk.run(SCHEDULE, id=world, at=tomorrow)
    assert await _status(http, other["all"]) == {404}
    assert await _status(http, other["all"], desk.auth) == {200}


PREVIEW = "mutation($id: ID!) { createPreviewToken(pageId: $id) { token { token } errors { code } } }"
PREVIEWED = """query($path: String!, $token: String!) { page(urlPath: $path, previewToken: $token) { ... on ArticlePage {
  heroImage { url rendition(width: 480) { url } srcSet(widths: [320, 640]) } } } }"""


async def test_previews_and_editors_get_urls_that_open_a_drafts_images_for_img(media):
    from service import media as service_media

    http = media()
    desk, section = await _desk(http)
    hero, other = await desk.upload(), await desk.upload()
    article = await desk.article(section, "Harbour", hero=hero)
    token = (await desk.run(PREVIEW, id=article))["token"]["token"]

    # The preview page is read without a bearer token, as a preview frontend's server would.
    shown = (await http.post("/graphql", json={"query": PREVIEWED, "variables": {"path": "/world/harbour/", "token": token}})).json()
    image = shown["data"]["page"]["heroImage"]
    urls = [image["url"], image["rendition"]["url"], *[p.split(" ")[0] for p in image["srcSet"].split(", ")]]
    assert all("?grant=" in url for url in urls)
    opened = [await http.get(url) for url in urls]  # what <img> does: no Authorization header
    assert {r.status_code for r in opened} == {200}
    assert {r.headers["cache-control"] for r in opened} == {"private, no-store"}
    assert {r.headers["cross-origin-resource-policy"] for r in opened} == {"cross-origin"}  # the preview frontend shows them
    assert await _status(http, [url.split("?")[0] for url in urls]) == {404}
    # The editor's own upload URLs carry a grant too.
    assert await _status(http, other["granted"]) == {200}

    # A grant opens the URL it was made for only, and only until it expires.
    grant = urls[0].split("?")[1]
    assert await _status(http, [f"{url}?{grant}" for url in other["all"] + urls[1:2]]) == {404}
    past = service_media.with_grant(hero["url"], Settings().secret_key, 1_000_000)
    assert (await http.get(past)).status_code == 404
    too_long = service_media.with_grant(hero["url"], Settings().secret_key, service_media.grant_expiry() + 10 * 86400)
    assert (await http.get(too_long)).status_code == 404
    forged = urls[0][: -1] + ("0" if urls[0][-1] != "0" else "1")
    assert (await http.get(forged)).status_code == 404
    base = hero["url"]
    for junk in ("", "x", "1.", "²³.", "9" * 40 + "." + "a" * 32, "1." + "é" * 32, f"{10**12}." + "0" * 32):
        assert (await http.get(base, params={"grant": junk})).status_code == 404, junk
    assert (await http.get(base + "%0A")).status_code == 404


async def test_rendition_urls_are_signed_and_cannot_be_walked(media, tmp_path):
    http = media()
    desk, section = await _desk(http)
    first, second = await desk.upload(), await desk.upload()
    article = await desk.article(section, "Pictures", hero=first, body_images=(second,))
    await desk.run(PUBLISH, id=article)
    small = first["small"]["url"]
    assert (await http.get(small)).status_code == 200
    missing = await http.get("/media/renditions/1/nothing.jpg")

    match = re.fullmatch(r"/media/renditions/(\d+)/320x0-max-([0-9a-f]{32})\.png", small)
    assert match, small
    image_id, signature = match[1], match[2]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    walked = [
        small.replace(signature, flipped),  # tampered signature
        f"/media/renditions/{image_id}/320x0-max.png",  # the old, unsigned URL
        f"/media/renditions/{image_id}/320x0-max.jpg",
        small.replace(f"/renditions/{image_id}/", f"/renditions/{second['id']}/"),  # another image, same signature
        small.replace(f"/renditions/{image_id}/", f"/renditions/{int(image_id) + 100}/"),
        small.replace("/320x0-", "/333x0-"),  # a size nobody offered
        small.replace("/320x0-", "/640x0-"),  # an offered size, with another size's signature
        small.replace("/320x0-", "/320x320-").replace("-max-", "-fill-"),
        small.replace(".png", ".webp"),  # another format
        small.replace(signature, signature.upper()),
        small.replace(signature, signature[:16]),
    ]
    for url in walked:
        refused = await http.get(url, headers=desk.auth)  # not even an editor's token opens a forged URL
        assert refused.status_code == 404, url
        assert refused.content == missing.content, url  # the same answer as a missing file
    # Nothing was rendered for them: only the one signed rendition is on disk.
    rendered = sorted(p.relative_to(tmp_path / "media").as_posix() for p in (tmp_path / "media" / "renditions").rglob("*.*"))
    assert rendered == [f"renditions/{image_id}/320x0-max.png"]

    # A draft's image answers exactly as a missing one: no existence oracle.
    draft = await desk.upload()
    for url in draft["all"]:
        hidden = await http.get(url)
        assert (hidden.status_code, hidden.content) == (404, missing.content)


async def test_new_renders_are_rate_limited_per_client_and_cached_ones_still_served(media):
    http = media(media_renders_per_minute=3)
    desk, section = await _desk(http)
    image = await desk.upload(2000, 1000)
    article = await desk.article(section, "Wide", hero=image)
    await desk.run(PUBLISH, id=article)
    widths = image["srcset"]  # four signed widths
    assert len(widths) == 4

    first = [await http.get(url) for url in widths[:3]]
    assert [r.status_code for r in first] == [200, 200, 200]
    refused = await http.get(widths[3])
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    # Renditions already made cost nothing: they keep being served to the same client.
    assert await _status(http, widths[:3] + [image["url"]]) == {200}
    # Another client (by address) has its own budget; an editor is not charged.
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=http._transport.app, client=("198.51.100.7", 1234)),
                              base_url="http://testserver")
    async with other:
        assert (await other.get(image["square"]["url"])).status_code == 200
    assert (await http.get(widths[3], headers=desk.auth)).status_code == 200
    assert (await http.get(widths[3])).status_code == 200  # now cached for everyone


def redis_running() -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not redis_running(), reason="Redis is not running on 127.0.0.1:6379")
async def test_render_budgets_are_shared_by_every_process_through_redis(media):
    import random

    redis = {"redis_url": "redis://127.0.0.1:6379/0", "media_renders_per_minute": 2}
    first, second = media(**redis), media(**redis)  # two processes' worth of buckets, one Redis
    desk, section = await _desk(first)
    image = await desk.upload(2000, 1000)
    article = await desk.article(section, "Wide", hero=image)
    await desk.run(PUBLISH, id=article)
    widths = image["srcset"]
    reader = (f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}", 1234)  # new in Redis
    one, two = (httpx.AsyncClient(transport=httpx.ASGITransport(app=http._transport.app, client=reader),
                                  base_url="http://testserver") for http in (first, second))
    async with one, two:
        assert [(await one.get(url)).status_code for url in widths[:2]] == [200, 200]
        assert (await two.get(widths[2])).status_code == 429  # the other process knows the client spent them


# Run in a process of its own: migrate to just before page_image, then write pages as
# the service did then, so the migration has existing rows to fill the table from.
BEFORE = '''
import asyncio, sys
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from service import db, models, pages
from service.settings import Settings

async def columns(conn, table):
    if conn.capabilities.dialect == "sqlite":
        return {row["name"] for row in (await conn.execute_query(f"PRAGMA table_info({table})"))[1]}
    rows = (await conn.execute_query("SELECT column_name FROM information_schema.columns WHERE table_name = $1", [table]))[1]
    return {row["column_name"] for row in rows}


async def later_columns(conn):
    """Add, as plain nullable columns, what the models have and this older schema lacks (later migrations add
    them for real): the ORM's inserts below name every column of the current models."""
    added = []
    for model in Tortoise.apps["masthead"].values():
        table = model._meta.db_table
        have = await columns(conn, table)
        if not have:
            continue  # a table of a later migration: nothing here writes to it
        for name, column in model._meta.fields_db_projection.items():
            if column not in have:
                kind = model._meta.fields_map[name].get_for_dialect(conn.capabilities.dialect, "SQL_TYPE")
                await conn.execute_script(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
                added.append((table, column))
    return added


async def main(url, target):
    config = db.tortoise_config(Settings(database_url=url))
    try:
        await migrate(config=config, target=target)
    finally:
        await Tortoise.close_connections()
    await Tortoise.init(config=config)
    conn = Tortoise.get_connection("default")
    added = await later_columns(conn)
    try:
        hero, inline, unused = [await models.Image.create(url=f"/x/{i}.png", width=9, height=9) for i in range(3)]
        section = await pages.create_section(parent=await pages.create_home(title="Home"), title="World")
        one = await pages.create_article(section=section, title="One", hero_image=hero,
                                         body=[{"type": "image", "value": {"image_id": inline.id}}])
        two = await pages.create_article(section=section, title="Two", hero_image=hero, body=[
            {"type": "paragraph", "value": {"html": "<p>Text</p>"}}, {"type": "image", "value": {"image_id": hero.id}}])
        print(one.id, two.id, hero.id, inline.id)
        for table, column in added:  # as the later migrations expect to find the tables
            await conn.execute_script(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    finally:
        await Tortoise.close_connections()

asyncio.run(main(*sys.argv[1:]))
'''


@pytest.mark.parametrize("kind", BACKENDS)
async def test_the_migration_fills_page_image_from_existing_pages(kind, scratch_database):
    import importlib
    import pkgutil
    import subprocess
    import sys

    import service.migrations

    name = next(m.name for m in pkgutil.iter_modules(service.migrations.__path__) if m.name.endswith("_media_access"))
    app_label, previous = importlib.import_module(f"service.migrations.{name}").Migration.dependencies[0]
    url = await scratch_database(kind, migrated=False)
    made = subprocess.run([sys.executable, "-c", BEFORE, url, f"{app_label}.{previous}"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert made.returncode == 0, made.stderr
    one, two, hero, inline = map(int, made.stdout.split())
    run_cli("migrate", database_url=url)
    assert await _rows(url, "SELECT page_id, image_id FROM page_image ORDER BY page_id, image_id") == [
        (one, hero), (one, inline), (two, hero)]


async def _rows(url: str, sql: str) -> list[tuple]:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("://", 1)[1])
        try:
            return [tuple(row) for row in conn.execute(sql).fetchall()]
        finally:
            conn.close()
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()
