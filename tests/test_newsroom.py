"""The example site (examples/newsroom) over the API, both as ASGI apps on the session's database.

The browser tests (test_newsroom_browser.py) drive the same site in real processes;
these check what a page's HTML and the site's requests to the API say.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from graphql import TypeInfo, TypeInfoVisitor, Visitor, build_schema, get_named_type, parse, validate, visit
from graphql.type import GraphQLInterfaceType, GraphQLObjectType
from PIL import Image as PILImage

from examples.newsroom.app import create_app as create_site
from examples.newsroom.manifest import apollo_manifest, build
from examples.newsroom.settings import Settings as SiteSettings
from newsroom_desk import Desk, full_article
from newsroom_html import parse as parse_html
from service import auth, models
from service.app import create_app, register_operations
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SUMMIT = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
WORLD = "query($first: Int!) { articles(section: \"world-news\", first: $first) { totalCount edges { node { title } } } }"


class Recorder(httpx.AsyncBaseTransport):
    """The site's requests to the API, and the API's answers, as they went."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.sent.append((request, response))
        return response


@pytest.fixture
async def api(demo_site, database_url, media_dir):
    """API apps with other settings on the session's database (the demo newsroom loaded, its pictures in media_dir)."""
    made = []

    def make(**overrides):
        settings = Settings(database_url=database_url, background_jobs=False, rate_points=0, response_cache_bytes=0,
                            media_dir=media_dir)
        app = create_app(replace(settings, **overrides))
        made.append(app)
        return app

    yield make
    for app in made:
        await app.state.budget.aclose()
        await app.state.render_budget.aclose()


@pytest.fixture
async def site(api):
    """The example site over an API app; `site(**api_settings)` -> (client, recorder, api app)."""
    opened = []

    async def make(*, page_size: int = 3, api_app=None, **overrides):
        api_app = api_app or api(**overrides)
        recorder = Recorder(httpx.ASGITransport(app=api_app))
        app = create_site(SiteSettings(api_url="http://api.test", page_size=page_size), transport=recorder)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://site.test")
        opened.append((client, app))
        return client, recorder, api_app

    yield make
    for client, app in opened:
        await client.aclose()
        await app.state.newsroom.api.aclose()


async def desk_for(api_app) -> Desk:
    raw, _ = await auth.create_token(name="desk", role=models.Role.PUBLISHER)
    return Desk(httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url="http://api.test"), raw)


# -- the operations ---------------------------------------------------------------------


def test_every_operation_is_valid_and_selects_id_wherever_a_type_has_one():
    """Valid against the committed SDL, and normalisable: Apollo's cache keys objects by `id`."""
    schema = build_schema((ROOT / "schema" / "schema.graphql").read_text())
    missing: list[str] = []

    class SelectsIds(Visitor):
        def __init__(self, info: TypeInfo, name: str) -> None:
            super().__init__()
            self.info, self.name = info, name

        def enter_selection_set(self, node, key, parent, *_):
            kind = get_named_type(self.info.get_parent_type() if parent is None else self.info.get_type())
            if not isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType)) or "id" not in kind.fields:
                return
            if getattr(parent, "kind", "") in ("inline_fragment", "fragment_definition", "operation_definition"):
                return
            names = {s.name.value for s in node.selections if s.kind == "field"}
            spreads = [s for s in node.selections if s.kind == "fragment_spread"]
            if "id" not in names and not spreads:
                missing.append(f"{self.name}: {kind.name} at {getattr(parent, 'name', None) and parent.name.value}")

    for operation in build().values():
        document = parse(operation.document)
        assert validate(schema, document) == [], operation.name
        info = TypeInfo(schema)
        visit(document, TypeInfoVisitor(info, SelectsIds(info, operation.name)))
    assert missing == []


async def test_reads_are_registered_documents_sent_by_get(site, database_url, tmp_path):
    """The trusted-documents flow: the manifest registered, the API accepting nothing else, every read a cacheable GET."""
    manifest = tmp_path / "newsroom.json"
    manifest.write_text(json.dumps(apollo_manifest(build())))
    result = await register_operations([manifest])
    assert result.problems == [] and result.added + result.known == len(build())
    client, recorder, _ = await site(trusted_documents="only")
    for path in ("/", "/world-news/", "/world-news/?page=2", SUMMIT, "/tags/shipping/", "/authors/joel-carver/",
                 "/search?q=grain"):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text[-500:])
    hashes = {op.sha256 for op in build().values()}
    for request, response in recorder.sent:
        assert request.method == "GET" and "query" not in request.url.params
        assert request.url.params["documentId"].removeprefix("sha256:") in hashes
        assert response.status_code == 200 and "errors" not in response.json()
        assert response.headers["cache-control"].startswith("public")


async def test_an_api_without_the_manifest_learns_the_documents_once(site):
    client, recorder, _ = await site()
    assert (await client.get("/")).status_code == 200
    first = [request.url.params for request, _ in recorder.sent]
    assert "query" not in first[0] and "query" in first[1]  # by hash, unknown; then with the document (APQ)
    recorder.sent.clear()
    assert (await client.get("/")).status_code == 200
    assert ["query" in request.url.params for request, _ in recorder.sent] == [False]


# -- pages ------------------------------------------------------------------------------


async def test_home_lists_sections_and_the_lead_and_a_section_paginates(site, gql):
    client, _, _ = await site()
    data = await gql("{ sections { title url } articles(first: 1) { edges { node { title url } } } }")
    home = parse_html((await client.get("/")).text)
    nav = home.one("nav", aria_label="Sections")
    assert [a.text for a in nav.all("a")] == ["Home", *[s["title"] for s in data["sections"]]]
    lead = home.one("section", class_="lead")
    assert lead.one("h3").one("a").attrs["href"] == data["articles"]["edges"][0]["node"]["url"]

    world = (await gql(WORLD, {"first": 9}))["articles"]
    titles = [edge["node"]["title"] for edge in world["edges"]]
    pages = -(-world["totalCount"] // 3)
    for number in range(1, pages + 1):
        page = parse_html((await client.get(f"/world-news/?page={number}")).text)
        assert page.one("nav", aria_label="Pagination").one("p").text == f"Page {number} of {pages}"
        listed = [h.text for h in page.all("h2", class_="card-title")]
        assert listed == titles[(number - 1) * 3:number * 3]
    for bad in (f"?page={pages + 1}", "?page=0", "?page=two"):
        assert (await client.get(f"/world-news/{bad}")).status_code == 404


async def test_tag_and_author_pages_list_their_articles_page_by_page(site, gql):
    client, _, _ = await site()
    shipping = (await gql('{ articles(tag: "shipping", first: 30) { totalCount edges { node { title } } } }'))["articles"]
    titles, pages = [e["node"]["title"] for e in shipping["edges"]], -(-shipping["totalCount"] // 3)
    assert pages >= 2
    second = parse_html((await client.get("/tags/shipping/?page=2")).text)
    assert second.one("h1").text == "Shipping"
    assert second.one("nav", aria_label="Pagination").one("p").text == f"Page 2 of {pages}"
    assert [h.text for h in second.all("h2", class_="card-title")] == titles[3:6]
    author = (await gql('{ articles(author: "joel-carver", first: 1) { edges { node { authors { slug name bio } } } } }'))
    joel = next(a for a in author["articles"]["edges"][0]["node"]["authors"] if a["slug"] == "joel-carver")
    page = parse_html((await client.get("/authors/joel-carver/")).text)
    assert page.one("h1").text == joel["name"] and page.one("p", class_="standfirst").text == joel["bio"]
    for missing in ("/tags/no-such-tag/", "/authors/nobody/", "/tags/shipping/?page=99", "/tags/a/b/"):
        assert (await client.get(missing)).status_code == 404, missing


async def test_tag_pages_move_with_the_site_settings(site):
    client, _, api_app = await site()
    raw, _ = await auth.create_token(name="admin", role=models.Role.ADMIN)
    admin = Desk(httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url="http://api.test"), raw)
    await admin.run("mutation { updateSiteSettings(input: {tagPathPrefix: \"/topics/\"}) { errors { field code message } } }")
    shown = parse_html((await client.get(SUMMIT)).text)
    assert "/topics/shipping/" in [a.attrs["href"] for a in shown.one("ul", class_="tags").all("a")]
    assert parse_html((await client.get("/topics/shipping/")).text).one("h1").text == "Shipping"
    assert (await client.get("/tags/shipping/")).status_code == 404


async def test_the_article_page_shows_the_apis_values(site, gql):
    client, _, api_app = await site()
    desk = await desk_for(api_app)
    related = await desk.page_id(SUMMIT)
    _, url = await full_article(desk, "Harbour accord signed", "quillwort", [related])
    article = (await gql(
        'query($p: String!) { page(urlPath: $p) { id title url canonicalUrl ogImage { url width height } '
        "... on ArticlePage { headline summary publishedAt source heroCaption section { title } "
        "authors { name url } tags { name url } commentCount related(first: 4) { url } } } "
        "site { baseUrl locale name logo { rendition(width: 320) { url } } } }",
        {"p": url}))
    article, site_settings = article["page"], article["site"]
    response = await client.get(url)
    assert response.status_code == 200 and response.headers["cache-control"] == "private, no-cache"
    page = parse_html(response.text)
    crumbs = page.one("nav", aria_label="Breadcrumb")
    assert [a.text for a in crumbs.all("a")] == ["Home", "World", article["title"]]
    assert page.one("h1").text == article["title"]
    assert page.one("p", class_="display-headline").text == article["headline"]
    assert page.one("p", class_="article-meta").one("time").attrs["datetime"] == article["publishedAt"]
    assert page.one("p", class_="source").text == f"Sources {article['source']}"
    body = page.one("div", class_="article-body")
    assert [p.text for p in body.all("p") if "embed" not in p.attrs.get("class", "")] == [
        "The first paragraph sets the scene on the quay.", "Negotiators signed a quillwort accord after a long night.",
        "We will keep talking."]
    image = body.one("img")
    assert "/media/renditions/" in image.attrs["srcset"] and image.attrs["srcset"].count("w,") == 3
    assert image.attrs["alt"] == "Delegates walking along the quay"
    caption = body.one("figure", class_="picture").one("figcaption")
    assert caption.text == "Delegates on the quay after the signing. Photo: Test Wire"
    assert body.one("figure", class_="quote").one("figcaption").text == "A spokesperson"
    assert body.one("p", class_="embed").one("a").attrs["href"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    related_links = [h.one("a").attrs["href"] for h in page.one("section", class_="related").all("h3")]
    assert related_links == [r["url"] for r in article["related"]]
    thread = page.one("ol", id="comment-thread")
    assert [c.text for c in thread.all("div", class_="comment-body")] == [
        "A first reader's view of the accord.", "A reply to the first reader.", "A second thread on the same story."]
    assert page.one("h2", id="comments-heading").text == f"Comments ({article['commentCount']})"
    form = page.one("form", id="comment-form")
    for field in ("comment-name", "comment-email", "comment-body", "comment-website"):
        assert form.one("label", for_=field) and form.all(id=field)
    assert form.one("input", name="form_token").attrs["value"]
    assert [a.attrs["href"] for a in page.one("ul", class_="tags").all("a")] == [t["url"] for t in article["tags"]]
    assert page.one("span", class_="byline").one("a").attrs["href"] == article["authors"][0]["url"]
    # The head: language, canonical link, Open Graph and JSON-LD, from API fields.
    assert page.one("html").attrs["lang"] == site_settings["locale"]
    assert page.one("link", rel="canonical").attrs["href"] == article["canonicalUrl"]
    assert article["canonicalUrl"] == site_settings["baseUrl"] + url
    og = {m.attrs["property"]: m.attrs["content"] for m in page.all("meta") if "property" in m.attrs}
    assert og["og:url"] == article["canonicalUrl"] and og["og:type"] == "article"
    assert og["og:image"] == "http://api.test" + article["ogImage"]["url"]  # media are paths on the API
    assert (og["og:image:width"], og["og:image:height"]) == ("1200", "630")
    data = json.loads(page.one("script", type="application/ld+json").text)
    assert data["@type"] == "NewsArticle" and data["headline"] == article["headline"]
    assert data["datePublished"] == article["publishedAt"] and data["articleSection"] == "World"
    assert data["mainEntityOfPage"]["@id"] == article["canonicalUrl"] and data["image"] == [og["og:image"]]
    assert data["author"] == [{"@type": "Person", "name": a["name"], "url": site_settings["baseUrl"] + a["url"]}
                              for a in article["authors"]]
    assert data["keywords"] == [t["name"] for t in article["tags"]]
    assert data["publisher"]["name"] == site_settings["name"]
    assert data["publisher"]["logo"]["url"] == "http://api.test" + site_settings["logo"]["rendition"]["url"]


async def test_the_logo_and_a_demo_articles_pictures_are_files_the_api_serves(site, gql):
    """The demo's pictures are real files: every URL the page puts in <img> (and og:image) answers with an image."""
    client, _, api_app = await site()
    name = (await gql("{ site { name } }"))["site"]["name"]
    page = parse_html((await client.get(SUMMIT)).text)
    logo = page.one("p", class_="brand-name").one("img")
    assert logo.attrs["alt"] == name
    home = parse_html((await client.get("/")).text)
    assert home.one("h1", class_="brand-name").one("img").attrs["alt"] == name  # the home page's heading is the logo
    hero = page.one("div", class_="hero").one("img")
    candidates = [part.split(" ") for part in hero.attrs["srcset"].split(", ")]
    assert len({url for url, _ in candidates}) == len(candidates) == 4  # several renditions, not one URL four times
    og = next(m.attrs["content"] for m in page.all("meta") if m.attrs.get("property") == "og:image")
    wanted = [(logo.attrs["src"], int(logo.attrs["width"])), (hero.attrs["src"], int(hero.attrs["width"])), (og, 1200)]
    wanted += [(url, int(width.removesuffix("w"))) for url, width in candidates]
    wanted += [(url, int(width.removesuffix("w"))) for url, width in
               (part.split(" ") for part in logo.attrs["srcset"].split(", "))]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url="http://api.test") as api:
        for url, width in wanted:
            assert url.startswith("http://api.test/media/"), url  # media are paths on the API
            response = await api.get(url)
            assert response.status_code == 200 and response.headers["content-type"].startswith("image/"), url
            assert PILImage.open(io.BytesIO(response.content)).width == width, url


async def test_unknown_paths_404_old_paths_301_and_the_slash_is_added(site):
    client, _, api_app = await site()
    desk = await desk_for(api_app)
    page_id, old = await desk.article("/world-news/", "A story that will be renamed")
    await desk.update(page_id, slug="renamed-story")
    new = await desk.publish(page_id)
    assert new != old
    moved = await client.get(old + "?utm=x")
    assert moved.status_code == 301 and moved.headers["location"] == new + "?utm=x"
    assert (await client.get(new.rstrip("/"))).headers["location"] == new
    missing = await client.get("/no/such/page/")
    assert missing.status_code == 404 and "Page not found" in missing.text and "Traceback" not in missing.text


async def test_a_preview_link_shows_the_draft_and_is_never_cached(site):
    client, _, api_app = await site()
    desk = await desk_for(api_app)
    page_id = await desk.draft("/world-news/", "An embargoed draft", summary="Not for readers yet.")
    token, path = await desk.preview(page_id)
    assert (await client.get(path)).status_code == 404  # readers cannot see it
    shown = await client.get("/preview", params={"token": token, "path": path})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "private, no-store"
    page = parse_html(shown.text)
    assert page.one("h1").text == "An embargoed draft" and "unpublished draft" in page.one("p", class_="preview-banner").text
    assert page.one("meta", name="robots").attrs["content"] == "noindex, nofollow"
    assert not page.all("form", id="comment-form")
    forged = await client.get("/preview", params={"token": token[:-4] + "AAAA", "path": path})
    assert forged.status_code == 403 and forged.headers["cache-control"] == "no-store"
    assert (await client.get("/preview", params={"token": token})).status_code == 400


async def test_search_highlights_a_word_found_in_a_body_paragraph(site):
    client, _, api_app = await site()
    desk = await desk_for(api_app)
    await desk.article("/science/", "Estuary survey", body=[{"paragraph": {"html": "<p>Divers counted marbled"
                                                                                     " sandworms near the pier.</p>"}}])
    page = parse_html((await client.get("/search", params={"q": "sandworm"})).text)
    (result,) = page.all("article", class_="result")
    assert result.one("h2").text == "Estuary survey"
    assert [m.text for m in result.all("mark")] == ["sandworms"]
    assert "Divers counted marbled sandworms near the pier." in result.one("p", class_="snippet").text


# -- the comment form without JavaScript --------------------------------------------------


async def test_the_comment_form_shows_typed_errors_the_pending_message_and_a_countdown(site):
    client, _, api_app = await site(comment_min_seconds=0, comment_rate_client=(1, 60))
    page = parse_html((await client.get(SUMMIT)).text)
    form = page.one("form", id="comment-form")
    hidden = {i.attrs["name"]: i.attrs["value"] for i in form.all("input", type="hidden")}

    # The API names the field at fault and says what is wrong; the page puts it next to that field.
    for values, field, message in (({"name": "", "email": "x@example.com", "body": "Hi"}, "name", "Your name is required."),
                                   ({"name": "Form reader", "email": "not-an-email", "body": "Hi"}, "email", None),
                                   ({"name": "Form reader", "email": "x@example.com", "body": ""}, "body", None)):
        refused = await client.post(SUMMIT, data={**hidden, **values})
        assert refused.status_code == 422
        page = parse_html(refused.text)
        flagged = [e.attrs["id"] for e in page.all() if e.attrs.get("aria-invalid") == "true"]
        assert flagged == [f"comment-{field}"]
        error = page.one("p", id=f"comment-{field}-error")
        assert page.one(id=f"comment-{field}").attrs["aria-describedby"] == f"comment-{field}-error"
        assert error.text == message if message else error.text
        assert page.one("input", id="comment-email").attrs["value"] == values["email"]  # what was typed stays

    posted = await client.post(SUMMIT, data={**hidden, "name": "Form reader", "email": "form@example.com",
                                             "body": "Posted without any script.", "website": ""})
    assert posted.status_code == 200 and "awaiting moderation" in parse_html(posted.text).one(id="comment-posted").text
    stored = await models.Comment.get(body="Posted without any script.")
    assert stored.status == models.CommentStatus.PENDING

    again = parse_html(posted.text).one("form", id="comment-form")
    hidden = {i.attrs["name"]: i.attrs["value"] for i in again.all("input", type="hidden")}
    limited = await client.post(SUMMIT, data={**hidden, "name": "Form reader", "email": "form@example.com",
                                              "body": "And a second one straight away."})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    countdown = parse_html(limited.text).one("span", class_="countdown")
    assert countdown.attrs["data-countdown"] == limited.headers["retry-after"]


async def test_a_filled_honeypot_is_kept_as_spam_and_the_reader_is_not_told(site):
    client, _, _ = await site(comment_min_seconds=0)
    form = parse_html((await client.get(SUMMIT)).text).one("form", id="comment-form")
    hidden = {i.attrs["name"]: i.attrs["value"] for i in form.all("input", type="hidden")}
    posted = await client.post(SUMMIT, data={**hidden, "name": "Bot", "email": "bot@example.com",
                                             "body": "Buy now.", "website": "https://spam.example"})
    assert posted.status_code == 200 and "awaiting moderation" in posted.text
    assert (await models.Comment.get(body="Buy now.")).status == models.CommentStatus.SPAM


# -- the API away ---------------------------------------------------------------------------


async def test_an_api_outage_is_a_friendly_503(site):
    from fixtures_server import free_port

    app = create_site(SiteSettings(api_url=f"http://127.0.0.1:{free_port()}", timeout=2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://site.test") as client:
        for path in ("/", SUMMIT, "/search?q=port"):
            response = await client.get(path)
            assert response.status_code == 503 and response.headers["retry-after"] == "30"
            assert response.headers["cache-control"] == "no-store"
            assert "We&#39;ll be right back" in response.text and "Traceback" not in response.text
            assert re.search(r"<h1>[^<]+</h1>", response.text)
    await app.state.newsroom.api.aclose()


async def test_the_site_passes_on_the_apis_feeds_and_sitemaps(site):
    """A sitemap may list only URLs of the host serving it: the site serves the API's documents, links on the site."""
    client, _, api_app = await site()
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url="http://api.test")
    page = parse_html((await client.get("/")).text)
    feeds = {link.attrs["type"]: link.attrs["href"] for link in page.all("link", rel="alternate")}
    assert feeds == {"application/rss+xml": "/feeds/rss.xml", "application/atom+xml": "/feeds/atom.xml"}
    for path in ("/feeds/rss.xml", "/feeds/world-news/atom.xml", "/sitemap.xml", "/sitemaps/sections.xml"):
        passed, direct = await client.get(path), await api.get(path)
        assert passed.status_code == 200 and passed.content == direct.content, path
        for name in ("content-type", "cache-control", "etag"):
            assert passed.headers[name] == direct.headers[name], (path, name)
        assert b"http://127.0.0.1:8001/" in passed.content  # the site's own origin (the API's default base URL)
        again = await client.get(path, headers={"If-None-Match": passed.headers["etag"]})
        assert again.status_code == 304 and again.headers["etag"] == passed.headers["etag"]
    assert (await client.get("/feeds/nowhere/rss.xml")).status_code == 404
    await api.aclose()
