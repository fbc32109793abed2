"""The example site in a real browser: headless Chromium, the site and the API each in its own process.

One API (`masthead serve`, the demo newsroom, the site's manifest registered and
nothing else accepted from anonymous clients), one site (`python -m examples.newsroom`)
and one browser per database backend. Screenshots go to tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conftest import BACKENDS, Server, free_port, run_cli
from examples.newsroom.manifest import apollo_manifest, build
from fixtures_server import Process
from newsroom_desk import Desk, full_article

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
SUMMIT = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
WORD = "quillwort"  # in one body paragraph of the test's article, nowhere else
ARTICLE = """query($p: String!) { page(urlPath: $p) { id title url canonicalUrl ancestors { title url } ... on ArticlePage {
  headline publishedAt source body { __typename ... on ParagraphBlock { html } ... on HeadingBlock { text level }
  ... on QuoteBlock { text attribution } ... on ImageBlock { caption image { alt credit } } ... on EmbedBlock { url title } }
  related(first: 4) { title url } commentCount
  comments(first: 50) { edges { node { authorName body replies { authorName body } } } } } }
  latest: articles(first: 5) { edges { node { title url } } }
  site { name locale socialLinks { network url } } }"""
WORLD = '{ articles(section: "world-news", first: 30) { totalCount edges { node { title url } } } }'

try:
    import axe_playwright_python  # noqa: F401
    import playwright  # noqa: F401
    MISSING = None
except ImportError as error:
    MISSING = f"{error.name} is not installed (make test installs the test extras)"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"),
    pytest.mark.skipif(MISSING is not None, reason=MISSING or ""),
]


class Site(Process):
    """`python -m examples.newsroom` against an API, on its own port."""

    def __init__(self, port: int, api: str) -> None:
        self.port, self.base = port, f"http://127.0.0.1:{port}"
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "NEWSROOM_API_URL": api, "FRONTEND_PORT": str(port), "NEWSROOM_PAGE_SIZE": "3",
               "PYTHONPATH": path}
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([sys.executable, "-m", "examples.newsroom"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.wait_until(lambda: httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200, "the newsroom site")


class Stack:
    def __init__(self, kind: str, url: str, api: Server, site: Site, browser, desk: Desk, moderator: Desk) -> None:
        self.kind, self.url, self.api, self.site, self.browser = kind, url, api, site, browser
        self.desk, self.moderator = desk, moderator
        self.article_id = self.article_url = ""
        self.api_env: dict[str, str] = {}

    async def page(self):
        page = await self.browser.new_page(viewport={"width": 1280, "height": 900})
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    async def shoot(self, page, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"newsroom-{self.kind}-{name}.png", full_page=True)


@pytest.fixture(scope="module", params=BACKENDS)
async def stack(request, scratch_database, tmp_path_factory):
    from playwright.async_api import async_playwright

    kind = request.param
    url = await scratch_database(kind)
    site_port = free_port()
    env = {"MASTHEAD_CORS_ORIGINS": f"http://127.0.0.1:{site_port}", "MASTHEAD_COMMENT_MIN_SECONDS": "0",
           "MASTHEAD_TRUSTED_DOCUMENTS": "only", "MASTHEAD_MEDIA_DIR": str(tmp_path_factory.mktemp("media"))}
    api = Server(url, "--seed-demo", env=env)  # migrates and loads the demo newsroom, as make frontend does
    api.wait()
    manifest = tmp_path_factory.mktemp("newsroom") / "operations.json"
    manifest.write_text(json.dumps(apollo_manifest(build())))
    moderation = [str(ROOT / "schema" / "operations" / f"{name}.graphql") for name in ("ModerationQueue", "ModerateComment")]
    with ThreadPoolExecutor() as pool:  # three commands, each mostly Python starting up
        commands = [pool.submit(run_cli, *args, database_url=url) for args in (
            ("operations", "register", str(manifest), *moderation),
            ("token", "create", "--role", "publisher", "--name", "desk"),
            ("token", "create", "--role", "moderator", "--name", "mod"))]
        publisher, moderator = (command.result().stdout.split()[-1] for command in commands[1:])
    site = Site(site_port, api.base)
    http = httpx.AsyncClient(base_url=api.base, timeout=10)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                           args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        stack = Stack(kind, url, api, site, browser, Desk(http, publisher), Desk(http, moderator))
        stack.api_env = env
        summit = await stack.desk.page_id(SUMMIT)
        stack.article_id, stack.article_url = await full_article(stack.desk, "Harbour accord signed", WORD, [summit])
        try:
            yield stack
        finally:
            await browser.close()
            await http.aclose()
            for process in (site, stack.api):
                process.stop()
                process.log.close()


async def no_serious_violations(page) -> None:
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    serious = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []


async def test_the_home_page_lists_every_section(stack):
    sections = (await stack.desk.query("{ sections { title url } }"))["sections"]
    page = await stack.page()
    await page.goto(stack.site.base + "/")
    nav = page.get_by_role("navigation", name="Sections")
    for section in sections:
        assert await nav.get_by_role("link", name=section["title"], exact=True).get_attribute("href") == section["url"]
    fronts = page.locator("section.fronts h3")
    assert await fronts.all_inner_texts() == [section["title"] for section in sections]
    await stack.shoot(page, "home")
    await no_serious_violations(page)
    assert page.errors == []
    await page.close()


async def test_a_section_paginates(stack):
    from playwright.async_api import expect

    world = (await stack.desk.query(WORLD))["articles"]
    titles = [edge["node"]["title"] for edge in world["edges"]]
    pages = -(-world["totalCount"] // 3)
    assert pages >= 3
    page = await stack.page()
    await page.goto(stack.site.base + "/world-news/")
    pager = page.get_by_role("navigation", name="Pagination")
    await expect(pager).to_contain_text(f"Page 1 of {pages}")
    assert await page.locator("main h2.card-title").all_inner_texts() == titles[:3]
    await stack.shoot(page, "section")
    await no_serious_violations(page)
    await pager.get_by_role("link", name="Next page").click()
    await expect(pager).to_contain_text(f"Page 2 of {pages}")
    assert page.url.endswith("/world-news/?page=2")
    assert await page.locator("main h2.card-title").all_inner_texts() == titles[3:6]
    await page.close()


async def test_the_article_page_shows_every_part_with_the_apis_values(stack):
    from playwright.async_api import expect

    data = await stack.desk.query(ARTICLE, p=stack.article_url)
    article, site = data["page"], data["site"]
    page = await stack.page()
    await page.goto(stack.site.base + stack.article_url, wait_until="networkidle")
    crumbs = page.get_by_role("navigation", name="Breadcrumb").get_by_role("link")
    assert await crumbs.all_inner_texts() == [a["title"] for a in article["ancestors"]] + [article["title"]]
    assert await page.locator("h1").inner_text() == article["title"]
    assert await page.locator(".display-headline").inner_text() == article["headline"]
    assert await page.locator(".article-meta time").get_attribute("datetime") == article["publishedAt"]
    assert await page.locator(".source").inner_text() == f"SOURCES {article['source']}"  # the label is upper-cased by CSS
    body = page.locator(".article-body")
    blocks = article["body"]
    paragraphs = [b["html"].removeprefix("<p>").removesuffix("</p>") for b in blocks if b["__typename"] == "ParagraphBlock"]
    assert await body.locator(":scope > p:not(.embed)").all_inner_texts() == paragraphs
    assert await body.locator("h2").all_inner_texts() == [b["text"] for b in blocks if b["__typename"] == "HeadingBlock"]
    quote = next(b for b in blocks if b["__typename"] == "QuoteBlock")
    assert await body.locator("blockquote").inner_text() == quote["text"]
    image = next(b for b in blocks if b["__typename"] == "ImageBlock")
    picture = body.locator("figure.picture img")
    assert await picture.get_attribute("alt") == image["image"]["alt"]
    assert "/media/renditions/" in await picture.get_attribute("srcset")
    await picture.scroll_into_view_if_needed()
    await expect(picture).to_have_js_property("complete", True)
    assert await picture.evaluate("img => img.naturalWidth") > 0  # the browser loaded it from the API
    assert await body.locator("figure.picture figcaption").inner_text() == f"{image['caption']} {image['image']['credit']}"
    embed = next(b for b in blocks if b["__typename"] == "EmbedBlock")
    assert await body.get_by_role("link", name=embed["title"]).get_attribute("href") == embed["url"]
    hero = page.locator(".hero img")
    assert await hero.evaluate("img => img.naturalWidth") > 0
    logo = page.locator(".brand-name img")
    assert await logo.get_attribute("alt") == site["name"]
    assert await logo.evaluate("img => img.complete && img.naturalWidth") > 0
    related = page.get_by_role("region", name="Related articles").locator("h3 a")
    assert await related.all_inner_texts() == [r["title"] for r in article["related"]]
    thread = page.locator("#comment-thread > li")
    comments = [edge["node"] for edge in article["comments"]["edges"]]
    assert await thread.locator(":scope > article .comment-body").all_inner_texts() == [c["body"] for c in comments]
    first_replies = thread.first.locator(".replies .comment-body")
    assert await first_replies.all_inner_texts() == [r["body"] for r in comments[0]["replies"]]
    assert await page.locator("#comments-heading").inner_text() == f"Comments ({article['commentCount']})"
    form = page.locator("#comment-form")
    for label in ("Name", "Email (never shown)", "Comment"):
        await expect(form.get_by_label(label, exact=True)).to_be_visible()
    await expect(form.get_by_label("Leave this field empty")).to_be_hidden()  # the honeypot
    assert await form.locator("input[name=form_token]").get_attribute("value")
    latest = page.get_by_role("region", name="Latest posts").get_by_role("link")
    assert await latest.all_inner_texts() == [e["node"]["title"] for e in data["latest"]["edges"]]
    connected = page.get_by_role("region", name="Stay connected").get_by_role("link")
    assert [await link.get_attribute("href") for link in await connected.all()] == [s["url"] for s in site["socialLinks"]]
    ld = json.loads(await page.locator("script[type='application/ld+json']").inner_text())
    assert (ld["@type"], ld["headline"], ld["datePublished"]) == ("NewsArticle", article["headline"], article["publishedAt"])
    assert ld["mainEntityOfPage"]["@id"] == article["canonicalUrl"]
    assert await page.locator("html").get_attribute("lang") == site["locale"]
    assert await page.locator("link[rel=canonical]").get_attribute("href") == article["canonicalUrl"]
    assert await page.locator("meta[property='og:url']").get_attribute("content") == article["canonicalUrl"]
    await stack.shoot(page, "article")
    await no_serious_violations(page)
    assert page.errors == []
    await page.close()


async def test_the_demo_newsrooms_pictures_load(stack):
    """The demo's own images are files the API serves: a demo article's hero (a rendition from its srcset),
    the logo and an author's portrait load in the browser instead of showing their alt text."""
    from playwright.async_api import expect

    data = await stack.desk.query('query($p: String!) { page(urlPath: $p) { ... on ArticlePage { heroImage { alt } '
                                  "authors { url avatar { alt } } } } site { name } }", p=SUMMIT)
    article, site = data["page"], data["site"]
    page = await stack.page()
    await page.goto(stack.site.base + SUMMIT, wait_until="networkidle")
    hero, logo = page.locator(".hero img"), page.locator(".brand-name img")
    assert await hero.get_attribute("alt") == article["heroImage"]["alt"]
    assert await logo.get_attribute("alt") == site["name"]
    for picture in (hero, logo):
        await expect(picture).to_have_js_property("complete", True)
        assert await picture.evaluate("img => img.naturalWidth") > 0, await picture.get_attribute("alt")
    assert "/media/renditions/" in await hero.evaluate("img => img.currentSrc")  # chosen from the srcset
    await stack.shoot(page, "demo-article")
    author = next(a for a in article["authors"] if a["avatar"])
    await page.goto(stack.site.base + author["url"], wait_until="networkidle")
    avatar = page.locator("img.avatar")
    assert await avatar.get_attribute("alt") == author["avatar"]["alt"]
    assert await avatar.evaluate("img => img.complete && img.naturalWidth") > 0
    assert page.errors == []
    await page.close()


async def test_a_related_link_navigates(stack):
    from playwright.async_api import expect

    data = await stack.desk.query(ARTICLE, p=stack.article_url)
    target = data["page"]["related"][0]
    page = await stack.page()
    await page.goto(stack.site.base + stack.article_url)
    await page.get_by_role("region", name="Related articles").get_by_role("link", name=target["title"]).click()
    await expect(page.locator("h1")).to_have_text(target["title"])
    assert page.url == stack.site.base + target["url"]
    await page.close()


async def test_a_comment_awaits_moderation_then_appears_live_once_approved(stack):
    from playwright.async_api import expect

    body = "Watching the accord from the browser."
    page = await stack.page()
    await page.goto(stack.site.base + stack.article_url)
    form = page.locator("#comment-form")
    await form.get_by_label("Name", exact=True).fill("Live Reader")
    await form.get_by_label("Email (never shown)").fill("live@example.com")
    await form.get_by_label("Comment", exact=True).fill(body)
    await form.get_by_role("button", name="Post comment").click()
    await expect(page.locator("#comment-posted")).to_contain_text("awaiting moderation")
    await expect(page.locator("#comment-thread")).not_to_contain_text(body)
    await expect(page.locator("#comments")).to_have_attribute("data-live", "subscribed")
    await page.evaluate("window.stillTheSamePage = true")
    await asyncio.sleep(0.5)  # graphql-transport-ws does not acknowledge a subscription
    await stack.moderator.approve(await stack.moderator.pending_id(body))
    await expect(page.locator("#comment-thread")).to_contain_text(body, timeout=10_000)
    assert await page.evaluate("window.stillTheSamePage") is True  # no reload
    await expect(page.locator("#live-status")).to_have_text("New comment from Live Reader.")
    assert page.errors == []
    await page.close()


async def test_search_finds_a_word_from_a_body_paragraph(stack):
    from playwright.async_api import expect

    page = await stack.page()
    await page.goto(stack.site.base + "/")
    await page.get_by_role("searchbox", name="Search articles").fill(WORD)
    await page.get_by_role("button", name="Search").click()
    results = page.locator("article.result")
    await expect(results).to_have_count(1)
    assert await results.locator("h2").inner_text() == "Harbour accord signed"
    assert await results.locator("mark").all_inner_texts() == [WORD]
    await stack.shoot(page, "search")
    await page.close()


async def test_a_renamed_articles_old_url_redirects(stack):
    page_id, old = await stack.desk.article("/business/", "Ferry timetable changes")
    await stack.desk.update(page_id, slug="ferry-timetable-winter")
    new = await stack.desk.publish(page_id)
    page = await stack.page()
    response = await page.goto(stack.site.base + old)
    assert response.status == 200 and page.url == stack.site.base + new
    assert (await response.request.redirected_from.response()).status == 301
    assert await page.locator("h1").inner_text() == "Ferry timetable changes"
    await page.close()


async def test_a_preview_link_shows_an_unpublished_draft(stack):
    page_id = await stack.desk.draft("/politics/", "Draft: council budget leak", summary="Not for readers yet.")
    token, path = await stack.desk.preview(page_id)
    page = await stack.page()
    assert (await page.goto(stack.site.base + path)).status == 404
    response = await page.goto(f"{stack.site.base}/preview?token={token}&path={path}")
    assert response.status == 200 and response.headers["cache-control"] == "private, no-store"
    assert await page.locator("h1").inner_text() == "Draft: council budget leak"
    assert "unpublished draft" in await page.locator(".preview-banner").inner_text()
    await stack.shoot(page, "preview")
    await page.close()


async def test_an_api_outage_gives_a_friendly_503_page(stack):
    stack.api.stop()
    try:
        page = await stack.page()
        for path in ("/", stack.article_url):
            response = await page.goto(stack.site.base + path)
            assert response.status == 503
            await page.get_by_role("heading", name="We'll be right back").wait_for()
            assert "Traceback" not in await page.content()
        await stack.shoot(page, "outage")
        await page.close()
    finally:  # the API comes back on its port, for any test after this one
        stack.api.log.close()
        stack.api = Server(stack.url, env=stack.api_env, port=stack.api.port)
        stack.api.wait()
