"""GraphiQL opens with every example operation as a tab, its variables filled from the site, and they run."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest
from graphql import parse
from PIL import Image as PILImage

from service import auth, comments, events, models
from service.models import CommentStatus, Role
from test_query_counts import WebSocket

OPERATIONS = Path(__file__).resolve().parent.parent / "schema" / "operations"
BLOCK = re.compile(r'<script type="application/json" id="graphiql-examples">(.*?)</script>', re.DOTALL)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def operation_names() -> dict[str, str]:
    """Each operation file (path without .graphql) and the name of the operation in it."""
    return {path.relative_to(OPERATIONS).with_suffix("").as_posix(): parse(path.read_text()).definitions[0].name.value
            for path in sorted(OPERATIONS.rglob("*.graphql"))}


def leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    elif value is not None:
        yield value


def escaped(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


async def open_tabs(client) -> tuple[str, list[dict]]:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"  # a fresh form token and this site's values
    assert "script-src 'self'" in page.headers["content-security-policy"]
    found = BLOCK.search(page.text)
    assert found is not None, "no example tabs in the page"
    assert "</" not in found[1] and "<" not in found[1]  # nothing in the data block can close it
    return page.text, json.loads(found[1])


async def test_the_page_holds_every_operation_with_its_variables(demo_site):
    text, tabs = await open_tabs(demo_site)
    names = operation_names()
    assert [tab["name"] for tab in tabs][:7] == ["HomePage", "ArticlePage", "SectionPage", "ArticleList", "Node",
                                                 "AddComment", "CommentAdded"]  # the contract first
    assert sorted(tab["name"] for tab in tabs) == sorted(names)
    for tab in tabs:
        document = (OPERATIONS / f"{tab['name']}.graphql").read_text()
        assert tab["query"].endswith(document), tab["name"]  # the file as written, a note at most before it
        assert names[tab["name"]] in text
        for value in leaves(tab["variables"]):  # each value as the page's data block spells it
            assert escaped(json.dumps(value, ensure_ascii=False)) in text, (tab["name"], value)
        if tab["headers"]:
            headers = json.loads(tab["headers"])
            assert re.fullmatch(r"Bearer <a (moderator|editor|publisher|admin) token: masthead token create --role "
                                r"\1 --name graphiql>", headers["Authorization"]), headers
            assert tab["query"].startswith("# Needs a ")
    article = next(tab for tab in tabs if tab["name"] == "ArticlePage")["variables"]["urlPath"]
    assert await models.Page.exists(url_path=article, live=True)
    assert "GraphiQL" in text and "/static/graphiql/init.js" in text


async def test_every_tab_runs_on_the_demo_site(demo_site, make_client):
    """Readers' tabs answer data without errors; tabs that need a role answer a coded auth error."""
    _, tabs = await open_tabs(demo_site)
    # The form token is checked against MASTHEAD_COMMENT_MIN_SECONDS: a reader's app without the wait.
    reader = await make_client(comment_min_seconds=0)
    for tab in tabs:
        kind = parse(tab["query"]).definitions[0].operation.value
        if kind == "subscription":
            continue
        headers = json.loads(tab["headers"]) if tab["headers"] else {}
        if tab["name"] == "editorial/UploadImage":  # GraphiQL cannot attach files; a multipart client can
            picture = io.BytesIO()
            PILImage.new("RGB", (64, 48), (10, 120, 200)).save(picture, "PNG")
            response = await demo_site.post("/graphql", headers=headers, data={
                "operations": json.dumps({"query": tab["query"], "variables": tab["variables"]}),
                "map": json.dumps({"0": ["variables.file"]})}, files={"0": ("blue.png", picture.getvalue(), "image/png")})
        else:
            response = await reader.post("/graphql", json={"query": tab["query"], "variables": tab["variables"]}, headers=headers)
        body = response.json()
        codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
        payload = next(iter((body.get("data") or {}).values()), None)
        payload_codes = [error["code"] for error in payload.get("errors", [])] if isinstance(payload, dict) else []
        if tab["name"] == "editorial/PreviewPage":  # the token comes from CreatePreviewToken: the placeholder is refused
            assert codes == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["argument"] == "previewToken", body
        elif headers:
            assert set(codes or payload_codes) == {"UNAUTHENTICATED"}, (tab["name"], body)
        else:
            assert codes == [] and payload_codes == [] and payload is not None, (tab["name"], body)
    assert await models.Comment.filter(author_name="A GraphiQL reader", status=CommentStatus.PENDING).exists()


async def test_tabs_that_need_a_role_run_with_its_token(demo_site):
    _, tabs = await open_tabs(demo_site)
    by_name = {tab["name"]: tab for tab in tabs}

    async def run(name: str, role: Role, variables: dict | None = None) -> dict:
        raw, _ = await auth.create_token(name=f"graphiql-{role.value}", role=role)
        tab = by_name[name]
        response = await demo_site.post("/graphql", json={"query": tab["query"], "variables": variables or tab["variables"]},
                                        headers={"Authorization": f"Bearer {raw}"})
        body = response.json()
        assert "errors" not in body, (name, body)
        payload = next(iter(body["data"].values()))
        assert not (isinstance(payload, dict) and payload.get("errors")), (name, payload)
        return body["data"]

    assert (await run("ModerationQueue", Role.MODERATOR))["commentQueue"]["edges"]
    assert (await run("editorial/CreateArticle", Role.EDITOR))["createArticle"]["article"]["url"]
    assert (await run("editorial/UpdateArticle", Role.EDITOR))["updateArticle"]["revision"]["number"] == 1
    token = (await run("editorial/CreatePreviewToken", Role.EDITOR))["createPreviewToken"]["token"]
    preview = await run("editorial/PreviewPage", Role.EDITOR, {**by_name["editorial/PreviewPage"]["variables"],
                                                               "previewToken": token["token"]})
    assert preview["page"]["summary"] == "A new standfirst, saved as a draft."
    assert (await run("editorial/Revisions", Role.EDITOR))["revisions"]["totalCount"] == 1
    assert (await run("ModerateComment", Role.MODERATOR))["moderateComment"]["comment"]["status"] == "APPROVED"


async def test_the_subscription_tab_delivers_an_approved_comment(demo_site):
    _, tabs = await open_tabs(demo_site)
    tab = next(tab for tab in tabs if tab["name"] == "CommentAdded")
    article_id = int(base64.b64decode(tab["variables"]["articleId"]).decode().split(":")[1])
    pending = await comments.store_comment(article=await models.Page.get(id=article_id), author_name="Live",
                                           author_email="live@example.com", body="Seen live.", status=CommentStatus.PENDING)
    socket = WebSocket(demo_site._transport.app)
    await socket.open()
    await socket.send({"type": "connection_init"})
    assert (await socket.receive())["type"] == "connection_ack"
    await socket.send({"id": "1", "type": "subscribe", "payload": {"query": tab["query"], "variables": tab["variables"]}})
    while not events.broker.subscribers(article_id):
        await asyncio.sleep(0.01)
    await comments.moderate(pending.id, "approve")
    message = await socket.receive()
    assert message["type"] == "next" and "errors" not in message["payload"], message
    assert message["payload"]["data"]["commentAdded"]["body"] == "Seen live."
    await socket.close()


def test_the_example_tabs_stay_literal_in_the_template():
    from schema import graphiql

    template = (OPERATIONS.parent / "graphiql.html").read_text()
    assert graphiql.DATA_BLOCK in template  # the server fills it; init.js reads it


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
async def test_graphiql_opens_on_the_example_tabs_and_runs_one(scratch_database, serve):
    from playwright.async_api import async_playwright, expect

    url = await scratch_database("sqlite")
    server = serve(url, "--seed-demo")
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                           args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.add_init_script(
                "window.__csp=[];document.addEventListener('securitypolicyviolation',"
                "e=>window.__csp.push(e.violatedDirective+' '+e.blockedURI));"
            )
            await page.goto(f"{server.base}/graphql", wait_until="networkidle")
            tabs = page.locator(".graphiql-tab")
            await expect(tabs.first).to_contain_text("HomePage", timeout=20_000)
            assert await tabs.count() == len(operation_names())
            await tabs.filter(has_text="ArticlePage").first.click()
            await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_contain_text("query ArticlePage", timeout=20_000)
            await page.wait_for_timeout(500)  # GraphiQL reads a switched tab's operation name after a 100 ms debounce
            await page.click(".graphiql-execute-button")
            await expect(page.locator(".graphiql-response .CodeMirror")).to_contain_text('"__typename": "ArticlePage"', timeout=20_000)
            await tabs.filter(has_text="ModerationQueue").first.click()
            await page.get_by_text("Headers", exact=True).click()
            await expect(page.locator(".graphiql-editor-tool .CodeMirror").last).to_contain_text("masthead token create --role moderator")
            assert await page.evaluate("window.__csp") == []
            assert errors == []
            # A link's query opens in front, as before.
            await page.goto(f"{server.base}/graphql?q={urllib.parse.quote('query Linked { site { name } }')}", wait_until="networkidle")
            await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_contain_text("Linked", timeout=20_000)
        finally:
            await browser.close()
