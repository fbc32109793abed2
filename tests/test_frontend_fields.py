"""What decoupled frontends asked for (issue 12): ids and URLs for tags and authors, avatars, the
site's origin, logo and locale, captions, canonical URLs, Open Graph images and unambiguous comment
counts; each read through GraphQL over HTTP, purged when it changes, and batched."""

from __future__ import annotations

import base64
import io
import json
import re
from collections import Counter

import pytest
from PIL import Image as PILImage

from service import auth, comments, ids, models, pages
from service.models import CommentStatus, Role
from service.settings import DEFAULT_PUBLIC_BASE_URL, Settings

BODY = [{"type": "paragraph", "value": {"html": "<p>Words about the harbour.</p>"}}]

PAGE = """query($p: String!) {
  page(urlPath: $p) {
    __typename id url canonicalUrl ogImage { url width height }
    ... on ArticlePage {
      commentCount commentThreadCount comments(first: 1) { totalCount }
      heroImage { id caption credit } heroCaption
      tags { id name slug url }
      authors { id slug url bio avatar { id url alt } }
    }
  }
  site { name baseUrl locale tagPathPrefix authorPathPrefix logo { id url width height } }
}"""

SETTINGS = """mutation($input: SiteSettingsInput!) {
  updateSiteSettings(input: $input) {
    site { baseUrl locale tagPathPrefix authorPathPrefix logo { id } }
    errors { field code message }
  }
}"""

UPLOAD = """mutation($file: Upload!, $caption: String!) {
  uploadImage(file: $file, alt: "A picture", credit: "Desk", caption: $caption) { image { id caption } errors { code } }
}"""


def picture(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


class Desk:
    """Sends GraphQL over HTTP as anonymous readers and as staff with tokens of each role."""

    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[Role, str] = {}

    async def headers(self, role: Role | None) -> dict[str, str]:
        if role is None:
            return {}
        if role not in self.tokens:
            self.tokens[role], _ = await auth.create_token(name=f"desk-{role.value}", role=role)
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def send(self, query: str, variables: dict | None = None, role: Role | None = None, client=None) -> dict:
        response = await (client or self.client).post("/graphql", json={"query": query, "variables": variables or {}},
                                                      headers=await self.headers(role))
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def upload(self, data: bytes, caption: str = "") -> str:
        response = await self.client.post("/graphql", headers=await self.headers(Role.EDITOR), data={
            "operations": json.dumps({"query": UPLOAD, "variables": {"file": None, "caption": caption}}),
            "map": json.dumps({"0": ["variables.file"]}),
        }, files={"0": ("picture.png", data, "image/png")})
        image = response.json()["data"]["uploadImage"]
        assert image["errors"] == [], image
        return image["image"]["id"]

    async def settings(self, role: Role | None = Role.ADMIN, **values) -> dict:
        return (await self.send(SETTINGS, {"input": values}, role))["updateSiteSettings"]


async def newsroom(hero: models.Image | None = None, hero_caption: str = ""):
    home = await pages.create_home(title="Home")
    world = await pages.create_section(parent=home, title="World", slug="world")
    ria = await models.Author.create(name="Ria Reporter", slug="ria", bio="Covers the port.")
    article = await pages.create_article(section=world, title="Harbour talks", slug="harbour-talks", body=BODY,
                                         tags=["harbour"], authors=[ria], hero_image=hero, hero_caption=hero_caption)
    return home, world, article, ria


async def test_urls_follow_the_site_settings_and_their_defaults(client):
    desk = Desk(client)
    home, world, article, ria = await newsroom()
    data = await desk.send(PAGE, {"p": article.url_path})
    assert data["site"]["baseUrl"] == DEFAULT_PUBLIC_BASE_URL == "http://127.0.0.1:8001"
    assert (data["site"]["locale"], data["site"]["tagPathPrefix"], data["site"]["authorPathPrefix"]) == ("en", "/tags/", "/authors/")
    assert data["site"]["logo"] is None
    page = data["page"]
    assert page["canonicalUrl"] == "http://127.0.0.1:8001/world/harbour-talks/"
    assert page["tags"] == [{"id": ids.to_global_id("Tag", (await models.Tag.get(slug="harbour")).id), "name": "Harbour",
                             "slug": "harbour", "url": "/tags/harbour/"}]
    assert page["authors"] == [{"id": str(ria.id), "slug": "ria", "url": "/authors/ria/", "bio": "Covers the port.", "avatar": None}]
    assert page["ogImage"] is None  # no hero image and no logo
    for path in ("/", "/world/"):
        shown = (await desk.send(PAGE, {"p": path}))["page"]
        assert shown["canonicalUrl"] == "http://127.0.0.1:8001" + path and shown["ogImage"] is None

    changed = await desk.settings(baseUrl="HTTPS://News.Example.com/", locale="pt-br", tagPathPrefix="topics",
                                  authorPathPrefix="/people/staff/")
    assert changed == {"site": {"baseUrl": "https://news.example.com", "locale": "pt-BR", "tagPathPrefix": "/topics/",
                                "authorPathPrefix": "/people/staff/", "logo": None}, "errors": []}
    page = (await desk.send(PAGE, {"p": article.url_path}))["page"]
    assert page["canonicalUrl"] == "https://news.example.com/world/harbour-talks/"
    assert page["tags"][0]["url"] == "/topics/harbour/" and page["authors"][0]["url"] == "/people/staff/ria/"
    # An empty baseUrl hands the origin back to MASTHEAD_PUBLIC_BASE_URL.
    assert (await desk.settings(baseUrl=""))["site"]["baseUrl"] == DEFAULT_PUBLIC_BASE_URL
    assert (await desk.settings(baseUrl=None))["errors"] == []


async def test_site_settings_refuse_what_a_frontend_could_not_use(client):
    desk = Desk(client)
    await newsroom()
    refusals = [
        ({"baseUrl": "https://news.example.com/news/"}, "baseUrl", "INVALID_URL"),
        ({"baseUrl": "https://news.example.com?x=1"}, "baseUrl", "INVALID_URL"),
        ({"baseUrl": "ftp://news.example.com"}, "baseUrl", "INVALID_URL"),
        ({"baseUrl": "news.example.com"}, "baseUrl", "INVALID_URL"),
        ({"baseUrl": "https://user:secret@news.example.com"}, "baseUrl", "INVALID_URL"),
        ({"locale": "english!"}, "locale", "INVALID"),
        ({"locale": "e"}, "locale", "INVALID"),
        ({"tagPathPrefix": "/Tags here/"}, "tagPathPrefix", "INVALID"),
        ({"authorPathPrefix": "/"}, "authorPathPrefix", "INVALID"),
        ({"logoImageId": "999999"}, "logoImageId", "NOT_FOUND"),
        ({"logoImageId": "not-a-number"}, "logoImageId", "INVALID"),
    ]
    for values, field, code in refusals:
        answer = await desk.settings(**values, name="Renamed")
        assert answer["site"] is None and [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)], values
    site = (await desk.send(PAGE, {"p": "/"}))["site"]
    assert site["name"] == "Masthead" and site["baseUrl"] == DEFAULT_PUBLIC_BASE_URL  # nothing was stored
    assert (await desk.settings(Role.EDITOR, locale="de"))["errors"][0]["code"] == "PERMISSION_DENIED"
    assert (await desk.settings(None, locale="de"))["errors"][0]["code"] == "UNAUTHENTICATED"
    assert (await desk.settings(locale="sr-latn-rs"))["site"]["locale"] == "sr-Latn-RS"


async def test_the_default_origin_is_masthead_public_base_url(client, make_client):
    await newsroom()
    other = await make_client(public_base_url="https://courier.example.org")
    data = await Desk(other).send(PAGE, {"p": "/world/"})
    assert data["site"]["baseUrl"] == "https://courier.example.org"
    assert data["page"]["canonicalUrl"] == "https://courier.example.org/world/"
    assert Settings.from_env({"MASTHEAD_PUBLIC_BASE_URL": "https://News.Example.com/"}).public_base_url == "https://news.example.com"
    with pytest.raises(ValueError):
        Settings.from_env({"MASTHEAD_PUBLIC_BASE_URL": "https://news.example.com/path"})


async def test_a_tag_is_a_node_while_a_public_article_carries_it(client):
    desk = Desk(client)
    _, world, article, _ = await newsroom()
    await pages.create_article(section=world, title="Unseen", body=BODY, tags=["embargoed"], live=False)
    harbour, embargoed = await models.Tag.get(slug="harbour"), await models.Tag.get(slug="embargoed")
    node = "query($id: ID!) { node(id: $id) { __typename id ... on Tag { name slug url } } }"
    found = (await desk.send(node, {"id": ids.to_global_id("Tag", harbour.id)}))["node"]
    assert found == {"__typename": "Tag", "id": ids.to_global_id("Tag", harbour.id), "name": "Harbour", "slug": "harbour",
                     "url": "/tags/harbour/"}
    assert base64.b64decode(found["id"]).decode() == f"Tag:{harbour.id}"
    assert (await desk.send(node, {"id": ids.to_global_id("Tag", embargoed.id)}))["node"] is None
    assert (await desk.send(node, {"id": ids.to_global_id("Tag", 999999)}))["node"] is None
    response = await client.post("/graphql", json={"query": node, "variables": {"id": "VGFnOmFiYw=="}})  # "Tag:abc"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_comment_counts_say_what_they_count(client):
    """2 threads with 3 replies approved, 1 comment pending: 5 comments, 2 threads, 2 in the connection."""
    desk = Desk(client)
    _, _, article, _ = await newsroom()

    async def post(parent=None):
        return await comments.store_comment(article=article, parent=parent, author_name="Reader",
                                            author_email="reader@example.com", body="A thought.")

    first, second = await post(), await post()
    replies = [await post(first), await post(first), await post(second)]
    await post()  # stays pending
    moderate = "mutation($id: ID!) { moderateComment(id: $id, action: APPROVE) { errors { code } } }"
    for comment in (first, second, *replies):
        assert (await desk.send(moderate, {"id": ids.global_id(comment)}, Role.MODERATOR))["moderateComment"]["errors"] == []
    page = (await desk.send(PAGE, {"p": article.url_path}))["page"]
    assert (page["commentCount"], page["commentThreadCount"], page["comments"]["totalCount"]) == (5, 2, 2)
    assert await models.Comment.filter(article_id=article.id, status=CommentStatus.PENDING).count() == 1


async def test_captions_and_the_open_graph_card(client):
    desk = Desk(client)
    hero_id = await desk.upload(picture(1600, 1000), caption="Cranes over the east quay.")
    _, world, article, _ = await newsroom(hero=await models.Image.get(id=int(hero_id)))
    page = (await desk.send(PAGE, {"p": article.url_path}))["page"]
    assert page["heroImage"] == {"id": hero_id, "caption": "Cranes over the east quay.", "credit": "Desk"}
    assert page["heroCaption"] == "Cranes over the east quay."  # the library's caption when the article has none
    card = page["ogImage"]
    assert (card["width"], card["height"]) == (1200, 630) and card["url"].startswith(f"/media/renditions/{hero_id}/1200x630-fill-")
    served = await client.get(card["url"])
    assert served.status_code == 200 and served.headers["cache-control"].startswith("public")
    assert PILImage.open(io.BytesIO(served.content)).size == (1200, 630)
    tampered = await client.get(card["url"].replace("1200x630", "1200x640"))
    assert tampered.status_code == 404  # still signed: no other size than the API offers

    update = """mutation($id: ID!, $input: UpdateArticleInput!) { updateArticle(id: $id, input: $input) { errors { code } } }"""
    publish = "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }"
    await desk.send(update, {"id": ids.global_id(article), "input": {"heroCaption": "Talks resumed at noon."}}, Role.EDITOR)
    assert (await desk.send(PAGE, {"p": article.url_path}))["page"]["heroCaption"] == "Cranes over the east quay."  # a draft
    await desk.send(publish, {"id": ids.global_id(article)}, Role.PUBLISHER)
    assert (await desk.send(PAGE, {"p": article.url_path}))["page"]["heroCaption"] == "Talks resumed at noon."
    image = """mutation($id: ID!, $input: UpdateImageInput!) { updateImage(id: $id, input: $input) {
      image { caption credit } errors { field code } } }"""
    changed = (await desk.send(image, {"id": hero_id, "input": {"caption": "New library caption.", "credit": "Wire"}}, Role.EDITOR))
    assert changed["updateImage"] == {"image": {"caption": "New library caption.", "credit": "Wire"}, "errors": []}
    page = (await desk.send(PAGE, {"p": article.url_path}))["page"]
    assert page["heroCaption"] == "Talks resumed at noon." and page["heroImage"]["caption"] == "New library caption."
    too_long = await desk.send(image, {"id": hero_id, "input": {"caption": "x" * 1001}}, Role.EDITOR)
    assert too_long["updateImage"]["errors"] == [{"field": "caption", "code": "TOO_LONG"}]
    missing = await desk.send(image, {"id": "999999", "input": {"caption": "?"}}, Role.EDITOR)
    assert missing["updateImage"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert (await desk.send(image, {"id": hero_id, "input": {"caption": "?"}}))["updateImage"]["errors"][0]["code"] == "UNAUTHENTICATED"

    # Pages without a hero show the logo, fitted inside 1200x630; the logo is public once it is the logo.
    logo_id = await desk.upload(picture(2000, 500))
    section = (await desk.send(PAGE, {"p": world.url_path}))["page"]
    assert section["ogImage"] is None
    assert (await desk.settings(logoImageId=logo_id))["site"]["logo"] == {"id": logo_id}
    data = await desk.send(PAGE, {"p": world.url_path})
    assert data["site"]["logo"]["id"] == logo_id and (data["page"]["ogImage"]["width"], data["page"]["ogImage"]["height"]) == (1200, 300)
    logo = await client.get(data["page"]["ogImage"]["url"])
    assert logo.status_code == 200 and PILImage.open(io.BytesIO(logo.content)).size == (1200, 300)
    assert (await client.get(data["site"]["logo"]["url"])).status_code == 200
    assert (await desk.settings(logoImageId=None))["site"]["logo"] is None
    assert (await client.get(data["site"]["logo"]["url"])).status_code == 404  # an unused upload again


async def test_avatars_logo_and_captions_purge_what_showed_them(client, make_client):
    desk = Desk(client)
    hero_id = await desk.upload(picture(800, 600), caption="First caption.")
    portrait_id = await desk.upload(picture(640, 640))
    _, world, article, ria = await newsroom(hero=await models.Image.get(id=int(hero_id)))
    cached = await make_client(response_cache_bytes=1 << 20)

    async def read(path: str):
        response = await cached.get("/graphql", params={"query": PAGE, "variables": json.dumps({"p": path})},
                                    headers={"Accept": "application/json"})
        return response.headers["x-cache"], response.headers.get("surrogate-key", "").split(), response.json()["data"]

    status, keys, data = await read(article.url_path)
    assert status == "MISS" and {f"img:{hero_id}", f"author:{ria.id}", "site", f"tag:{(await models.Tag.get(slug='harbour')).id}"} <= set(keys)
    assert (await read(article.url_path))[0] == "HIT"
    portrait = await client.get((await desk.send("{ images(first: 5) { id url } }", role=Role.EDITOR))["images"][0]["url"].split("?")[0])
    assert portrait.status_code == 404  # nobody shows it yet

    author = """mutation($id: ID!, $input: UpdateAuthorInput!) { updateAuthor(id: $id, input: $input) {
      author { id bio avatar { id } } errors { field code } } }"""
    answer = await desk.send(author, {"id": str(ria.id), "input": {"avatarImageId": portrait_id, "bio": "Port and shipping."}}, Role.EDITOR)
    assert answer["updateAuthor"] == {"author": {"id": str(ria.id), "bio": "Port and shipping.", "avatar": {"id": portrait_id}}, "errors": []}
    status, keys, data = await read(article.url_path)
    assert status == "MISS" and data["page"]["authors"][0]["avatar"]["id"] == portrait_id and f"img:{portrait_id}" in keys
    assert (await client.get(data["page"]["authors"][0]["avatar"]["url"])).status_code == 200  # a credited author's avatar is public
    assert (await desk.send(author, {"id": "999999", "input": {"bio": "?"}}, Role.EDITOR))["updateAuthor"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    refused = await desk.send(author, {"id": str(ria.id), "input": {"avatarImageId": "999999"}}, Role.EDITOR)
    assert refused["updateAuthor"]["errors"] == [{"field": "avatarImageId", "code": "NOT_FOUND"}]

    assert (await read(article.url_path))[0] == "HIT"
    image = "mutation($id: ID!) { updateImage(id: $id, input: {caption: \"Second caption.\"}) { errors { code } } }"
    await desk.send(image, {"id": hero_id}, Role.EDITOR)
    status, _, data = await read(article.url_path)
    assert status == "MISS" and data["page"]["heroCaption"] == "Second caption."

    assert (await read(world.url_path))[0] == "MISS" and (await read(world.url_path))[0] == "HIT"
    await desk.settings(logoImageId=portrait_id)
    status, _, data = await read(world.url_path)
    assert status == "MISS" and data["site"]["logo"]["id"] == portrait_id and data["page"]["ogImage"] is not None

    await desk.send(author, {"id": str(ria.id), "input": {"avatarImageId": None}}, Role.EDITOR)
    status, _, data = await read(article.url_path)
    assert status == "MISS" and data["page"]["authors"][0]["avatar"] is None


FRONTEND_ARTICLE = """query($p: String!) {
  page(urlPath: $p) {
    id url canonicalUrl ogImage { url width height }
    ... on ArticlePage {
      commentCount commentThreadCount heroCaption heroImage { id caption credit }
      tags { id url } authors { id url bio avatar { id url alt } }
      related(first: 4) { id url canonicalUrl ogImage { url } tags { id url } authors { id url avatar { url } } }
    }
  }
  latest: articles(first: 5) { edges { node { id canonicalUrl tags { id url } authors { url avatar { url } } } } }
  site { baseUrl locale logo { url } }
}"""


async def test_the_new_fields_are_read_in_batches(client, sql_counter):
    """A frontend's article page with every new field: batches, not a statement per author, tag or image."""
    from conftest import truncate

    counts = []
    for size in (2, 6):
        await truncate()
        home = await pages.create_home(title="Home")
        world = await pages.create_section(parent=home, title="World", slug="world")
        images = [await models.Image.create(url=f"/media/x{n}.jpg", width=800, height=600, caption=f"c{n}") for n in range(size + 1)]
        authors = [await models.Author.create(name=f"A{n}", slug=f"a{n}", avatar=images[n]) for n in range(size)]
        await models.SiteSettings.create(name="Site", logo=images[-1])
        articles = [await pages.create_article(section=world, title=f"Story {n}", body=BODY, authors=authors,
                                               tags=[f"t{i}" for i in range(size)], hero_image=images[n % size])
                    for n in range(size + 4)]
        await pages.set_related(articles[-1], articles[:4])
        await Desk(client).send(FRONTEND_ARTICLE, {"p": articles[-1].url_path})  # related lists are cached per content version
        sql_counter.reset()
        data = await Desk(client).send(FRONTEND_ARTICLE, {"p": articles[-1].url_path})
        counts.append(sql_counter.count)
        by_table = Counter(re.search(r"\bFROM (\w+)", statement)[1] for statement in sql_counter.statements)
        # One batch per level that asks (the page, its related articles, the latest list): never one per item.
        assert max(by_table.values()) <= 3, by_table
        assert len(data["page"]["authors"]) == size and all(a["avatar"] for a in data["page"]["authors"])
        assert data["page"]["heroCaption"] and data["site"]["logo"]
    # Images, tags and authors (avatars ride with the authors) are read a batch per level; which level's
    # loads share a turn of the event loop, and so a batch, varies a little between runs (9 to 12 here, at
    # either size). The site settings are read once for every URL and the logo.
    assert abs(counts[0] - counts[1]) <= 3 and max(counts) <= 13, counts


async def test_captions_arrive_by_the_cli_and_by_import(demo_site, gql, database_url, tmp_path):
    from conftest import run_cli

    path = tmp_path / "photo.png"
    path.write_bytes(picture(640, 480))
    added = run_cli("images", "add", str(path), "--alt", "A quay", "--caption", "Dawn over the quay.",
                    database_url=database_url, MASTHEAD_MEDIA_DIR=str(tmp_path / "media"))
    image_id = int(re.search(r"Image (\d+):", added.stdout)[1])
    assert (await models.Image.get(id=image_id)).caption == "Dawn over the quay."
    story = tmp_path / "quay.md"
    story.write_text(
        "---\ntitle: Quay reopens\nsection: world-news\npublished_at: 2024-05-01T08:00:00Z\n"
        "hero_caption: Workers on the quay at first light.\n"
        "images:\n  - url: https://img.example/quay.jpg\n    alt: The quay\n    caption: The quay in spring.\n---\n\n"
        "The quay reopened.\n\n![Quay](https://img.example/quay.jpg)\n"
    )
    assert "1 created" in run_cli("import", str(story), "--quiet", database_url=database_url).stdout
    page = (await gql('{ page(urlPath: "/world-news/quay/") { ... on ArticlePage { heroCaption heroImage { caption } '
                      'body { ... on ImageBlock { image { caption } } } } } }'))["page"]
    assert page["heroCaption"] == "Workers on the quay at first light."
    assert page["heroImage"]["caption"] == "The quay in spring."
