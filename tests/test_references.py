"""Internal links by reference and the reference index, through the API, the cache and the importer.

Paragraphs link to pages as `<a data-page-id="GLOBAL_ID">`; readers get the target's
current URL, or the text alone when they may not see it; editors read who links to
what; unpublishing or deleting a linked page needs `force`. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service import auth, ids, models, pages
from service.models import Role
from tests.conftest import BACKENDS, run_cli

OPERATIONS = Path(__file__).resolve().parent.parent / "schema" / "operations"
READ = """
query Read($path: String!) {
  page(urlPath: $path) { id url ... on ArticlePage { body { ... on ParagraphBlock { html text } } } }
}"""
CREATE = """
mutation Create($input: CreateArticleInput!) {
  createArticle(input: $input) { article { id url } revision { content } errors { field code message } }
}"""
UPDATE = """
mutation Update($id: ID!, $input: UpdateArticleInput!) {
  updateArticle(id: $id, input: $input) { revision { content } errors { field code message } }
}"""
PUBLISH = "mutation Publish($id: ID!) { publishPage(id: $id) { errors { field code message } } }"
MOVE = "mutation Move($id: ID!, $p: ID!) { movePage(id: $id, parentId: $p) { page { url } errors { code } } }"
UNPUBLISH = (OPERATIONS / "editorial" / "UnpublishPage.graphql").read_text()
DELETE = (OPERATIONS / "editorial" / "DeletePage.graphql").read_text()
REFERENCES = (OPERATIONS / "editorial" / "References.graphql").read_text()


class Desk:
    """GraphQL over HTTP, anonymous or with a token of a role; a small site of its own."""

    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[Role, str] = {}

    async def setup(self) -> Desk:
        for role in (Role.EDITOR, Role.PUBLISHER):
            self.tokens[role], _ = await auth.create_token(name=f"links-{role.value}", role=role)
        self.home = await pages.create_home(title="Home")
        self.news = await pages.create_section(parent=self.home, title="News", slug="news")
        self.world = await pages.create_section(parent=self.home, title="World", slug="world")
        return self

    async def data(self, query: str, variables: dict | None = None, role: Role | None = None, client=None) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = await (client or self.client).post("/graphql", json={"query": query, "variables": variables or {}},
                                                      headers=headers)
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def article(self, title: str, html: str = "<p>Words.</p>", *, section=None, publish: bool = True) -> dict:
        """An article made and (by default) published through the API: its id, url and stored revision content."""
        made = (await self.data(CREATE, {"input": {
            "sectionId": ids.global_id(section or self.news), "title": title, "body": [{"paragraph": {"html": html}}],
        }}, Role.EDITOR))["createArticle"]
        assert made["errors"] == [], made["errors"]
        if publish:
            assert (await self.data(PUBLISH, {"id": made["article"]["id"]}, Role.PUBLISHER))["publishPage"]["errors"] == []
        return {**made["article"], "content": made["revision"]["content"]}

    async def html(self, path: str, client=None, role: Role | None = None) -> str:
        page = (await self.data(READ, {"path": path}, role, client))["page"]
        return page["body"][0]["html"]


async def cached_get(http, path: str):
    response = await http.get("/graphql", params={"query": READ, "variables": json.dumps({"path": path})},
                              headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    return response


async def test_a_link_is_stored_by_reference_and_follows_moves_and_renames(client, make_client):
    desk = await Desk(client).setup()
    target = await desk.article("Target story")
    pk = ids.decode(target["id"])[1]
    source = await desk.article("Source", f'<p>See <a data-page-id="{target["id"]}" href="https://elsewhere.example/" '
                                          f'title="t" onclick="x()">the story</a> and <a href="https://example.org/">this</a>.</p>')
    stored = source["content"]["body"][0]["value"]["html"]
    assert stored.startswith(f'<p>See <a data-page-id="{pk}">the story</a> and <a href="https://example.org/"')  # no href kept
    assert await desk.html(source["url"]) == (
        f'<p>See <a href="/news/target-story/" data-page-id="{target["id"]}">the story</a> and '
        f'<a href="https://example.org/" rel="noopener noreferrer">this</a>.</p>')

    cached = await make_client(response_cache_bytes=1 << 20)
    first = await cached_get(cached, source["url"])
    assert first.headers["x-cache"] == "MISS" and f"p:{pk}" in first.headers["surrogate-key"].split()
    assert (await cached_get(cached, source["url"])).headers["x-cache"] == "HIT"

    moved = (await desk.data(MOVE, {"id": target["id"], "p": ids.global_id(desk.world)}, Role.PUBLISHER))["movePage"]
    assert moved == {"page": {"url": "/world/target-story/"}, "errors": []}
    after_move = await cached_get(cached, source["url"])
    assert after_move.headers["x-cache"] == "MISS"  # the move purged p:<target>
    assert 'href="/world/target-story/"' in after_move.json()["data"]["page"]["body"][0]["html"]

    renamed = (await desk.data(UPDATE, {"id": target["id"], "input": {"slug": "renamed-story"}}, Role.EDITOR))["updateArticle"]
    assert renamed["errors"] == []
    assert 'href="/world/target-story/"' in await desk.html(source["url"])  # a draft's slug changes nothing yet
    assert (await desk.data(PUBLISH, {"id": target["id"]}, Role.PUBLISHER))["publishPage"]["errors"] == []
    after_rename = await cached_get(cached, source["url"])
    assert after_rename.headers["x-cache"] == "MISS"
    assert after_rename.json()["data"]["page"]["body"][0]["html"].startswith(
        f'<p>See <a href="/world/renamed-story/" data-page-id="{target["id"]}">the story</a>')


async def test_links_to_unknown_pages_are_refused_with_their_block(client):
    desk = await Desk(client).setup()
    comment_like = ids.to_global_id("Comment", desk.news.id)
    missing = ids.to_global_id("ArticlePage", 999_999)
    wrong_kind = ids.to_global_id("ArticlePage", desk.news.id)  # a section's row id under another type
    for value in ("nope", missing, comment_like, wrong_kind, "99999999999"):
        made = (await desk.data(CREATE, {"input": {"sectionId": ids.global_id(desk.news), "title": "Bad link", "body": [
            {"paragraph": {"html": "<p>Fine.</p>"}},
            {"paragraph": {"html": f'<p>A <a data-page-id="{value}">link</a>.</p>'}}]}}, Role.EDITOR))["createArticle"]
        assert made["article"] is None, value
        assert [(e["field"], e["code"]) for e in made["errors"]] == [("body.1", "NOT_FOUND")], (value, made["errors"])
    assert not await models.Page.exists(title="Bad link")
    section_link = await desk.article("To a section", f'<p><a data-page-id="{ids.global_id(desk.world)}">World</a></p>')
    assert await desk.html(section_link["url"]) == f'<p><a href="/world/" data-page-id="{ids.global_id(desk.world)}">World</a></p>'


async def test_links_to_pages_readers_cannot_see_are_plain_text(client, make_client):
    desk = await Desk(client).setup()
    draft = await desk.article("Not yet", publish=False)
    source = await desk.article("Source", f'<p>Soon: <a data-page-id="{draft["id"]}">the draft</a>.</p>')
    assert await desk.html(source["url"]) == "<p>Soon: the draft.</p>"  # no path leaks
    # Editors keep the reference (a body read and saved back keeps its link), still without a path.
    assert await desk.html(source["url"], role=Role.EDITOR) == f'<p>Soon: <a data-page-id="{draft["id"]}">the draft</a>.</p>'
    made = (await desk.data("mutation($id: ID!) { createPreviewToken(pageId: $id) { token { token urlPath } } }",
                            {"id": source["id"]}, Role.EDITOR))["createPreviewToken"]["token"]
    previewed = (await desk.data("query($p: String!, $t: String!) { page(urlPath: $p, previewToken: $t) "
                                 "{ ... on ArticlePage { body { ... on ParagraphBlock { html } } } } }",
                                 {"p": made["urlPath"], "t": made["token"]}))["page"]  # no token: the preview grants it
    assert previewed["body"][0]["html"] == f'<p>Soon: <a data-page-id="{draft["id"]}">the draft</a>.</p>'

    cached = await make_client(response_cache_bytes=1 << 20)
    assert (await cached_get(cached, source["url"])).headers["x-cache"] == "MISS"
    assert (await cached_get(cached, source["url"])).headers["x-cache"] == "HIT"
    assert (await desk.data(PUBLISH, {"id": draft["id"]}, Role.PUBLISHER))["publishPage"]["errors"] == []
    published = await cached_get(cached, source["url"])
    assert published.headers["x-cache"] == "MISS"
    assert published.json()["data"]["page"]["body"][0]["html"] == (
        f'<p>Soon: <a href="/news/not-yet/" data-page-id="{draft["id"]}">the draft</a>.</p>')


async def test_unpublish_and_delete_refuse_while_live_pages_link_unless_forced(client, make_client):
    desk = await Desk(client).setup()
    target = await desk.article("Target")
    other = await desk.article("Other")
    source = await desk.article("Source", f'<p><a data-page-id="{target["id"]}">Target</a> and '
                                          f'<a data-page-id="{other["id"]}">other</a>.</p>')
    draft_only = await desk.article("Draft linker", f'<p><a data-page-id="{target["id"]}">x</a></p>', publish=False)
    assert draft_only["id"]

    refused = (await desk.data(UNPUBLISH, {"id": target["id"]}, Role.PUBLISHER))["unpublishPage"]
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("force", "PAGE_IS_LINKED")]
    assert "/news/source/" in refused["errors"][0]["message"]
    assert refused["linkedFrom"] == [{"id": source["id"], "title": "Source", "url": "/news/source/"}]  # not the draft
    assert (await models.Page.get(id=ids.decode(target["id"])[1])).live
    # A section whose subtree holds the linking page too goes down without force.
    inner = await desk.article("Inner target", section=desk.world)
    await desk.article("Inner source", f'<p><a data-page-id="{inner["id"]}">x</a></p>', section=desk.world)
    assert (await desk.data(UNPUBLISH, {"id": ids.global_id(desk.world)}, Role.PUBLISHER))["unpublishPage"]["errors"] == []

    cached = await make_client(response_cache_bytes=1 << 20)
    assert (await cached_get(cached, source["url"])).headers["x-cache"] == "MISS"
    assert (await cached_get(cached, source["url"])).headers["x-cache"] == "HIT"
    forced = (await desk.data(UNPUBLISH, {"id": target["id"], "force": True}, Role.PUBLISHER))["unpublishPage"]
    assert forced["errors"] == [] and forced["status"]["live"] is False
    assert [page["id"] for page in forced["linkedFrom"]] == [source["id"]]
    after = await cached_get(cached, source["url"])
    assert after.headers["x-cache"] == "MISS"
    assert after.json()["data"]["page"]["body"][0]["html"] == (
        f'<p>Target and <a href="/news/other/" data-page-id="{other["id"]}">other</a>.</p>')

    refused = (await desk.data(DELETE, {"id": other["id"]}, Role.PUBLISHER))["deletePage"]
    assert [e["code"] for e in refused["errors"]] == ["PAGE_IS_LINKED"] and refused["deletedIds"] == []
    assert [page["url"] for page in refused["linkedFrom"]] == ["/news/source/"]
    deleted = (await desk.data(DELETE, {"id": other["id"], "force": True}, Role.PUBLISHER))["deletePage"]
    assert deleted["errors"] == [] and deleted["deletedIds"] == [other["id"]]
    assert (await cached_get(cached, source["url"])).json()["data"]["page"]["body"][0]["html"] == "<p>Target and other.</p>"
    # The next save of the linking page drops the link to the deleted page and keeps the one to the unpublished page.
    saved = (await desk.data(UPDATE, {"id": source["id"], "input": {"summary": "Edited"}}, Role.EDITOR))["updateArticle"]
    assert saved["errors"] == []
    assert saved["revision"]["content"]["body"][0]["value"]["html"] == (
        f'<p><a data-page-id="{ids.decode(target["id"])[1]}">Target</a> and other.</p>')


async def test_editors_read_the_reference_index_and_readers_do_not(client):
    desk = await Desk(client).setup()
    hero = await models.Image.create(url="/media/hero.jpg", width=800, height=600, alt="Hero", title="Hero")
    inline = await models.Image.create(url="/media/inline.jpg", width=800, height=600, alt="Inline", title="Inline")
    target = await desk.article("Target")
    made = (await desk.data(CREATE, {"input": {
        "sectionId": ids.global_id(desk.news), "title": "Source", "heroImageId": str(hero.id),
        "body": [{"paragraph": {"html": f'<p><a data-page-id="{target["id"]}">Target</a></p>'}},
                 {"image": {"imageId": str(inline.id)}}],
    }}, Role.EDITOR))["createArticle"]
    source = made["article"]["id"]
    assert (await desk.data(PUBLISH, {"id": source}, Role.PUBLISHER))["publishPage"]["errors"] == []
    # A draft drops the link: the published content still has it.
    body = [{"paragraph": {"html": "<p>No link now.</p>"}}, {"image": {"imageId": str(inline.id)}}]
    assert (await desk.data(UPDATE, {"id": source, "input": {"body": body}}, Role.EDITOR))["updateArticle"]["errors"] == []

    found = await desk.data(REFERENCES, {"pageId": source, "imageId": str(hero.id)}, Role.EDITOR)
    refs = {(r["kind"], r["field"]): r for r in found["pageStatus"]["references"]}
    assert set(refs) == {("HERO_IMAGE", "heroImage"), ("LINK", "body.0"), ("IMAGE_BLOCK", "body.1")}
    assert refs[("LINK", "body.0")]["targetPage"] == {"id": target["id"], "title": "Target", "url": "/news/target/", "live": True}
    assert (refs[("LINK", "body.0")]["inLiveContent"], refs[("LINK", "body.0")]["inLatestRevision"]) == (True, False)
    assert (refs[("IMAGE_BLOCK", "body.1")]["inLiveContent"], refs[("IMAGE_BLOCK", "body.1")]["inLatestRevision"]) == (True, True)
    assert refs[("HERO_IMAGE", "heroImage")]["targetImage"] == {"id": str(hero.id), "title": "Hero"}
    assert found["image"]["usage"] == [{"kind": "HERO_IMAGE", "field": "heroImage", "sourceLive": True, "inLiveContent": True,
                                        "source": {"id": source, "title": "Source", "url": "/news/source/"}}]
    linked = await desk.data(REFERENCES, {"pageId": target["id"], "imageId": str(inline.id)}, Role.EDITOR)
    assert [(r["source"]["id"], r["sourceLive"], r["inLiveContent"], r["inLatestRevision"]) for r in linked["pageStatus"]["linkedFrom"]] == [
        (source, True, True, False)]
    assert [r["kind"] for r in linked["image"]["usage"]] == ["IMAGE_BLOCK"]

    # Readers: the fields answer null with a coded error; the page itself still reads.
    response = await client.post("/graphql", json={"query": '{ page(urlPath: "/news/target/") { title references { kind } '
                                                            "linkedFrom { field } } }"})
    body = response.json()
    assert body["data"]["page"] == {"title": "Target", "references": None, "linkedFrom": None}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}
    as_editor = await desk.data('{ page(urlPath: "/news/target/") { linkedFrom { source { id } } } }', role=Role.EDITOR)
    assert as_editor["page"]["linkedFrom"] == [{"source": {"id": source}}]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


async def test_import_turns_links_to_imported_and_existing_pages_into_references(client, gql, database_url, tmp_path):
    desk = await Desk(client).setup()
    existing = await desk.article("Existing story")
    folder = tmp_path / "articles"
    folder.mkdir()
    # a.md is imported first and links forward to b.md's path, and to a page already there.
    _write(folder / "a.md", "---\ntitle: First\nsection: news\nslug: first\n---\n\nRead [the second](/news/second/) and "
                            "[the old one](http://127.0.0.1:8001/news/existing-story/) or [elsewhere](https://example.org/x/).\n")
    _write(folder / "b.md", "---\ntitle: Second\nsection: news\nslug: second\n---\n\nBack to [the first](/news/first/).\n")
    result = run_cli("import", str(folder), "--quiet", database_url=database_url, MASTHEAD_PUBLIC_BASE_URL="http://127.0.0.1:8001")
    assert "2 created" in result.stdout, result.stdout + result.stderr
    first = (await gql(READ, {"path": "/news/first/"}))["page"]
    second = (await gql(READ, {"path": "/news/second/"}))["page"]
    assert first["body"][0]["html"] == (
        f'<p>Read <a href="/news/second/" data-page-id="{second["id"]}">the second</a> and '
        f'<a href="/news/existing-story/" data-page-id="{existing["id"]}">the old one</a> or '
        f'<a href="https://example.org/x/" rel="noopener noreferrer">elsewhere</a>.</p>')
    assert second["body"][0]["html"] == f'<p>Back to <a href="/news/first/" data-page-id="{first["id"]}">the first</a>.</p>'
    again = run_cli("import", str(folder), "--quiet", database_url=database_url, MASTHEAD_PUBLIC_BASE_URL="http://127.0.0.1:8001")
    assert "0 created, 0 updated, 2 unchanged" in again.stdout, again.stdout + again.stderr

    # WordPress: a post links to another post's permalink (and its ?p= guid), which the export gives in <link>.
    wxr = _write(tmp_path / "blog.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wp="http://wordpress.org/export/1.2/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/">
<channel><title>Blog</title><link>https://blog.example.com</link><wp:base_site_url>https://blog.example.com</wp:base_site_url>
{_post(1, "Harbour opens", "harbour-opens", '<p>Later: <a href="https://blog.example.com/2024/05/harbour-closes/">it closed</a>, '
                                            'see <a href="https://blog.example.com/?p=2">again</a>.</p>')}
{_post(2, "Harbour closes", "harbour-closes", '<p>Before: <a href="https://blog.example.com/2024/05/harbour-opens">it opened</a>.</p>')}
</channel></rss>""")
    result = run_cli("import", str(wxr), "--quiet", database_url=database_url)
    assert "2 created" in result.stdout, result.stdout + result.stderr
    opens = (await gql(READ, {"path": "/news/harbour-opens/"}))["page"]
    closes = (await gql(READ, {"path": "/news/harbour-closes/"}))["page"]
    assert opens["body"][0]["html"] == (
        f'<p>Later: <a href="/news/harbour-closes/" data-page-id="{closes["id"]}">it closed</a>, '
        f'see <a href="/news/harbour-closes/" data-page-id="{closes["id"]}">again</a>.</p>')
    assert closes["body"][0]["html"] == f'<p>Before: <a href="/news/harbour-opens/" data-page-id="{opens["id"]}">it opened</a>.</p>'
    again = run_cli("import", str(wxr), "--quiet", database_url=database_url)
    assert "0 created, 0 updated, 2 unchanged" in again.stdout, again.stdout + again.stderr


def _post(post_id: int, title: str, slug: str, html: str) -> str:
    return f"""<item><title>{title}</title><link>https://blog.example.com/2024/05/{slug}/</link>
<guid isPermaLink="false">https://blog.example.com/?p={post_id}</guid><dc:creator>ed</dc:creator>
<content:encoded><![CDATA[{html}]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{post_id}</wp:post_id><wp:post_date_gmt>2024-05-0{post_id} 08:00:00</wp:post_date_gmt>
<wp:post_name>{slug}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<wp:comment_status>open</wp:comment_status><category domain="category" nicename="news"><![CDATA[News]]></category></item>"""


async def test_the_demo_site_links_by_reference(demo_site, gql):
    budget = (await gql(READ, {"path": "/politics/budget-2027-tram-extension-parking-freeze/"}))["page"]
    plan = (await gql('{ page(urlPath: "/politics/council-approves-harbour-district-housing-plan/") { id } }'))["page"]
    html = "".join(block.get("html", "") for block in budget["body"])
    assert f'<a href="/politics/council-approves-harbour-district-housing-plan/" data-page-id="{plan["id"]}">' in html


@pytest.mark.parametrize("kind", BACKENDS)
async def test_the_migration_indexes_the_images_of_existing_pages(kind, scratch_database):
    """Pages written before migration 0020 get their rows: hero images and image blocks of their published content."""
    import os
    import subprocess
    import sys

    from tests.test_media_access import BEFORE, _rows

    url = await scratch_database(kind, migrated=False)
    made = subprocess.run([sys.executable, "-c", BEFORE, url, "masthead.0018_feed_indexes"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert made.returncode == 0, made.stderr
    one, two, hero, inline = map(int, made.stdout.split())
    run_cli("migrate", database_url=url)
    assert await _rows(url, "SELECT page_id, content, kind, field, target_image_id FROM page_reference "
                            "ORDER BY page_id, kind, field") == [
        (one, "live", "hero", "hero_image", hero), (one, "live", "image", "body.0", inline),
        (two, "live", "hero", "hero_image", hero), (two, "live", "image", "body.1", hero)]
