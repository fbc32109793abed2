"""Embargoes and expiry hold everywhere: a page is public only while it and every
ancestor are live and inside their own windows.

The matrix: the section's window (none, embargoed until now + 5 days, expired a day
ago) x the article's window (the same three) x an editor's action (publish,
republish, schedule the section, clear its schedule, move the article into or out
of it). Each cell builds a small site, acts through the API, then checks every
public read path in one request (page, node, articles with each filter and
totalCount, search, related, sections, children, ancestors, comments, redirect),
addComment, the editor's `visible`, and every webhook payload queued on the way;
then records the passed boundaries (`record_transitions`) and checks again.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from service import auth, comments, drafts, ids, models, pages, publishing, redirects, visibility, webhooks
from service.models import CommentStatus, Role
from service.settings import Settings

WINDOWS = ("none", "future", "past")
ACTIONS = ("publish", "republish", "schedule_section", "clear_schedule", "move_into", "move_out")
BODY = [{"type": "paragraph", "value": {"html": "<p>The quokka census is in.</p>"}}]

READ = """
query Read($url: String!, $aid: ID!, $cid: ID!, $other: String!, $parent: String!, $slug: String!) {
  page(urlPath: $url) { id ... on ArticlePage { section { id } ancestors { id } comments { edges { node { id } } } } }
  node(id: $aid) { id }
  comment: node(id: $cid) { id }
  all: articles(first: 50) { totalCount edges { node { id } } }
  bySection: articles(section: $slug, first: 50) { totalCount edges { node { id } } }
  byTag: articles(tag: "zebrafinch", first: 50) { totalCount edges { node { id } } }
  byAuthor: articles(author: "ria-reporter", first: 50) { totalCount edges { node { id } } }
  bySearch: articles(search: "quokka", first: 50) { totalCount edges { node { id } } }
  other: page(urlPath: $other) { ... on ArticlePage { related(first: 5) { id } } }
  sections { id }
  home: page(urlPath: "/") { children { id } }
  parent: page(urlPath: $parent) { id ... on SectionPage { articles(first: 50) { totalCount edges { node { id } } } } }
  redirect(path: "/old-quokka/") { target }
}"""
ADD = """mutation($input: AddCommentInput!) { addComment(input: $input) { status errors { code field } } }"""
STATUS = "query($id: ID!) { pageStatus(id: $id) { visible goLiveAt expireAt } }"


def _window(name: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    return {"none": (None, None), "future": (now + timedelta(days=5), None), "past": (None, now - timedelta(days=1))}[name]


def _open(window: tuple[datetime | None, datetime | None], now: datetime) -> bool:
    start, end = window
    return (start is None or start <= now) and (end is None or end > now)


class Site:
    """A home, a section S (the one under test), an open section T, articles A (under test) and B."""

    def __init__(self, client) -> None:
        self.client = client
        self.now = datetime.now(timezone.utc)

    async def build(self, article_in: str) -> None:
        home = await pages.create_home(title="Home")
        self.s = await pages.create_section(parent=home, title="Embargo desk", slug="desk")
        self.t = await pages.create_section(parent=home, title="Open desk", slug="open")
        ria = await models.Author.create(name="Ria Reporter", slug="ria-reporter")
        self.b = await pages.create_article(section=self.t, title="Finch watch", body=[], tags=["zebrafinch"])
        self.a, _ = await drafts.draft_article({
            "section_id": (self.s if article_in == "S" else self.t).id, "title": "Quokka findings",
            "tags": ["zebrafinch"], "author_ids": [ria.id], "body": BODY, "published_at": "2024-07-16T09:00:00Z",
        }, "test")
        self.a_id = ids.global_id(self.a)
        self.comment = await comments.store_comment(article=self.a, author_name="Reader", author_email="r@example.com",
                                                    body="First!", status=CommentStatus.APPROVED)
        await redirects.add("/old-quokka/", page=self.a)
        await webhooks.register("http://127.0.0.1:9/", list(webhooks.EVENTS), allow_private=("127.0.0.1",))  # payloads are read from the queue; nothing is sent
        self.tokens = {role: (await auth.create_token(name=role.value, role=role))[0] for role in (Role.PUBLISHER, Role.EDITOR)}
        self.title = "Quokka findings"

    async def gql(self, query: str, variables: dict, role: Role | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def mutate(self, query: str, variables: dict) -> dict:
        data = await self.gql(query, variables, Role.PUBLISHER)
        payload = next(iter(data.values()))
        assert payload["errors"] == [], payload
        return payload

    async def set_window(self, page: models.Page, name: str) -> None:
        """Arrange a page's own window as time would have left it (the API refuses past expiries)."""
        go, expire = _window(name, self.now)
        await models.Page.filter(id=page.id).update(go_live_at=go, expire_at=expire)
        await visibility.refresh(page.id)

    async def publish(self, **window) -> None:
        variables = {"id": self.a_id, **{k: v.isoformat() if v else None for k, v in window.items()}}
        declared = "".join(f", ${k}: DateTime" for k in window)
        passed = "".join(f", {k}: ${k}" for k in window)
        await self.mutate(f"mutation($id: ID!{declared}) {{ publishPage(id: $id{passed}) {{ errors {{ code }} }} }}", variables)

    async def a_public(self) -> bool:
        url = (await models.Page.get(id=self.a.id)).url_path
        return (await self.gql("query($u: String!) { page(urlPath: $u) { id } }", {"u": url}))["page"] is not None

    async def step(self, action, announced: bool = True) -> None:
        """Run one step; no payload it queues may name the article unless readers could see it."""
        was = await self.a_public()
        seen = await models.WebhookDelivery.all().count()
        await action
        now_public = await self.a_public()
        url = (await models.Page.get(id=self.a.id)).url_path
        new = await models.WebhookDelivery.all().order_by("id").offset(seen)
        for delivery in new:
            text = json.dumps(delivery.payload)
            if self.title in text or "quokka-findings" in text:
                allowed = now_public if delivery.event == "page.published" else was
                assert allowed, f"{delivery.event} names a page readers cannot see: {text}"
            if delivery.payload["data"].get("id") == self.a_id:
                assert delivery.payload["data"]["public"] is ("urlPath" in delivery.payload["data"])
        if announced and now_public and not was:  # subscribers hear when the article appears
            assert any(d.event == "page.published" and d.payload["data"].get("urlPath") == url for d in new)

    async def check(self, public: bool, section_public: bool, parent: models.Page) -> None:
        parent = await models.Page.get(id=parent.id)
        a = await models.Page.get(id=self.a.id)
        got = await self.gql(READ, {
            "url": a.url_path, "aid": self.a_id, "cid": ids.to_global_id("Comment", self.comment.id),
            "other": self.b.url_path, "parent": parent.url_path, "slug": parent.slug,
        })
        parent_id = ids.global_id(parent)
        parent_public = section_public if parent.id == self.s.id else True
        if public:
            assert got["page"]["id"] == self.a_id and got["page"]["section"] == {"id": parent_id}
            assert [x["id"] for x in got["page"]["ancestors"]][-1] == parent_id
            assert got["page"]["comments"]["edges"] == [{"node": {"id": ids.to_global_id("Comment", self.comment.id)}}]
        else:
            assert got["page"] is None
        assert (got["node"] is not None) is public
        assert (got["comment"] is not None) is public
        listed = lambda key: [e["node"]["id"] for e in got[key]["edges"]]  # noqa: E731
        for key, others in (("all", 1), ("byTag", 1), ("byAuthor", 0), ("bySearch", 0),
                            ("bySection", 1 if parent.id == self.t.id else 0)):
            if key == "bySection" and not parent_public:
                others = 0
            assert (self.a_id in listed(key)) is public, key
            assert got[key]["totalCount"] == others + public, key
        assert (self.a_id in [x["id"] for x in got["other"]["related"]]) is public
        s_id = ids.global_id(self.s)
        assert (s_id in [x["id"] for x in got["sections"]]) is section_public
        assert (s_id in [x["id"] for x in got["home"]["children"]]) is section_public
        if parent_public:
            assert got["parent"]["id"] == parent_id
            assert (self.a_id in [e["node"]["id"] for e in got["parent"]["articles"]["edges"]]) is public
            assert got["parent"]["articles"]["totalCount"] == (1 if parent.id == self.t.id else 0) + public
        else:
            assert got["parent"] is None
        assert (got["redirect"] == {"target": a.url_path}) if public else got["redirect"] is None
        status = (await self.gql(STATUS, {"id": self.a_id}, Role.EDITOR))["pageStatus"]
        assert status["visible"] is public
        posted = (await self.gql(ADD, {"input": {
            "articleId": self.a_id, "authorName": "Ana", "authorEmail": f"ana{time.monotonic_ns()}@example.com",
            "body": "Interesting.", "formToken": comments.form_token(Settings(), self.a.id, time.time() - 30),
        }}))["addComment"]
        if public:
            assert posted["errors"] == [] and posted["status"] in ("PENDING", "APPROVED")
        else:
            assert posted["errors"] == [{"code": "NOT_FOUND", "field": "articleId"}]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("article_window", WINDOWS)
@pytest.mark.parametrize("section_window", WINDOWS)
async def test_embargo_matrix(client, section_window, article_window, action):
    site = Site(client)
    await site.build("T" if action == "move_into" else "S")
    now = site.now
    s_final = _window(section_window, now)
    a_window = _window(article_window, now)
    parent = site.s
    if action == "publish":
        await site.set_window(site.s, section_window)
        await site.set_window(site.a, article_window)  # a draft's stored window, which publishing keeps
        await site.step(site.publish())
    elif action == "republish":
        await site.set_window(site.s, section_window)
        await site.step(site.publish())
        await site.set_window(site.a, article_window)
        await site.step(site.mutate(
            'mutation($id: ID!) { updateArticle(id: $id, input: {summary: "Typo fixed"}) { errors { code } } }',
            {"id": site.a_id},
        ), announced=False)
        await site.step(site.publish())
    elif action == "schedule_section":
        await site.step(site.publish())
        await site.set_window(site.a, article_window)
        section = ids.global_id(site.s)
        query = "mutation($id: ID!, $go: DateTime, $exp: DateTime) { schedulePage(id: $id, goLiveAt: $go, expireAt: $exp) { errors { code } } }"
        if section_window == "none":  # only an expiry, well ahead: the section stays visible
            s_final = (None, now + timedelta(days=10))
            await site.step(site.mutate(query, {"id": section, "exp": s_final[1].isoformat()}))
        elif section_window == "future":
            await site.step(site.mutate(query, {"id": section, "go": s_final[0].isoformat()}))
        else:  # expired: a new start leaves the (kept) past expiry in force
            await site.set_window(site.s, "past")
            s_final = (now - timedelta(days=2), s_final[1])
            await site.step(site.mutate(query, {"id": section, "go": s_final[0].isoformat()}))
    elif action == "clear_schedule":
        await site.set_window(site.s, section_window)
        await site.step(site.publish())
        await site.set_window(site.a, article_window)
        query = "mutation($id: ID!) { schedulePage(id: $id, goLiveAt: null, expireAt: null) { errors { code } } }"
        await site.step(site.mutate(query, {"id": ids.global_id(site.s)}))
        s_final = (None, None)
    elif action in ("move_into", "move_out"):
        await site.set_window(site.s, section_window)
        await site.step(site.publish())
        await site.set_window(site.a, article_window)
        parent = site.s if action == "move_into" else site.t
        query = "mutation($id: ID!, $p: ID!) { movePage(id: $id, parentId: $p) { errors { code } } }"
        await site.step(site.mutate(query, {"id": site.a_id, "p": ids.global_id(parent)}))
    section_public = _open(s_final, now)
    public = _open(a_window, now) and (section_public if parent.id == site.s.id else True)

    # The article's own window is what its editor set, whatever happened to the section.
    stored = await models.Page.get(id=site.a.id)
    assert (stored.go_live_at, stored.expire_at) == a_window
    await site.check(public, section_public, parent)

    # Recording the passed boundaries changes nothing readers see, and announces nothing hidden.
    await site.step(publishing.record_transitions(), announced=False)
    await site.check(public, section_public, parent)


async def test_an_article_under_an_embargoed_section_appears_with_it(client):
    """Publishing into a section scheduled for tomorrow: hidden (no `section` null error), announced without
    its URL, then public and announced with its URL once the section's start has passed."""
    site = Site(client)
    await site.build("S")
    soon = datetime.now(timezone.utc) + timedelta(seconds=1)
    await site.mutate("mutation($id: ID!, $go: DateTime) { schedulePage(id: $id, goLiveAt: $go) { errors { code } } }",
                      {"id": ids.global_id(site.s), "go": soon.isoformat()})
    await site.publish()
    assert not await site.a_public()
    queued = await models.WebhookDelivery.filter(event="page.published").order_by("id")
    assert [d.payload["data"] for d in queued] == [{
        "id": site.a_id, "kind": "article", "public": False, "publicFrom": soon.isoformat(),
        "revision": queued[0].payload["data"]["revision"],
    }]
    await asyncio.sleep(max(0.0, (soon - datetime.now(timezone.utc)).total_seconds()) + 0.1)
    assert await site.a_public()  # at the section's start, with nothing recorded yet
    await publishing.record_transitions()
    await publishing.record_transitions()  # a second pass (another process) sends nothing more
    events = [(d.event, d.payload["data"].get("urlPath"), d.payload["data"].get("public"))
              for d in await models.WebhookDelivery.filter(event="page.published").order_by("id")]
    assert events[1:] == [("page.published", "/desk/", True), ("page.published", "/desk/quokka-findings/", True)]


async def test_a_section_schedule_leaves_its_pages_windows_alone(client):
    """Setting only expireAt on a section used to clear an article's five-day embargo."""
    site = Site(client)
    await site.build("S")
    future = datetime.now(timezone.utc) + timedelta(days=5)
    await site.publish(goLiveAt=future)
    expire = datetime.now(timezone.utc) + timedelta(days=30)
    await site.mutate("mutation($id: ID!, $exp: DateTime) { schedulePage(id: $id, expireAt: $exp) { errors { code } } }",
                      {"id": ids.global_id(site.s), "exp": expire.isoformat()})
    status = (await site.gql(STATUS, {"id": site.a_id}, Role.EDITOR))["pageStatus"]
    assert status["visible"] is False and datetime.fromisoformat(status["goLiveAt"]) == future
    assert not await site.a_public()
    # publishPage keeps the window unless asked; an explicit null clears that end.
    await site.publish()
    assert not await site.a_public()
    await site.publish(goLiveAt=None)
    assert await site.a_public()


MIGRATION_CHECK = """
import asyncio, importlib, json, pkgutil, sys
from datetime import datetime, timedelta, timezone
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from service import db, migrations
from service.settings import Settings

async def main(url):
    config = db.tortoise_config(Settings(database_url=url))
    name = next(m.name for m in pkgutil.iter_modules(migrations.__path__) if m.name.endswith("_embargo"))
    (app, before), = importlib.import_module(f"service.migrations.{name}").Migration.dependencies
    await migrate(config=config, target=f"{app}.{before}")
    await Tortoise.init(config=config)
    stamp = datetime.now(timezone.utc)
    columns = ("kind, parent_id, path, depth, position, slug, url_path, title, seo_title, search_description, live, description, "
               "headline, summary, source, reading_time, comments_enabled, body, body_text, comment_count, thread_count, created_at, go_live_at")
    rows = [("home", None, "/1/", 1, "home", "/", None), ("section", 1, "/1/2/", 2, "desk", "/desk/", stamp + timedelta(days=1)),
            ("article", 2, "/1/2/3/", 3, "story", "/desk/story/", None)]
    for kind, parent, path, depth, slug, url, go in rows:
        await db.execute(f"INSERT INTO page ({columns}) VALUES ($1, $2, $3, $4, 0, $5, $6, $5, '', '', $7, '', '', '', '', 0, $7, '[]', '', 0, 0, $8, $9)",
                         kind, parent, path, depth, slug, url, True, stamp, go)
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    found = await db.fetch("SELECT id, tree_live, public_from FROM page ORDER BY id")
    print(json.dumps([[r["id"], bool(r["tree_live"]), str(r["public_from"]) if r["public_from"] else None] for r in found]))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_existing_rows_are_filled_by_the_migration(kind, scratch_database):
    """Rows from before the migration get their effective columns: the section's start holds its article back."""
    import os
    import subprocess
    import sys

    from tests.conftest import BACKENDS

    if kind not in BACKENDS:
        pytest.skip("PostgreSQL is not reachable")
    url = await scratch_database(kind, migrated=False)
    done = subprocess.run([sys.executable, "-c", MIGRATION_CHECK, url], capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    (home, section, story) = json.loads(done.stdout.strip().splitlines()[-1])
    assert home == [1, True, None] and section[1] is True and section[2] is not None
    assert story == [3, True, section[2]]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_comment_added_refuses_an_article_below_an_embargoed_section(kind, scratch_database, serve, contract):
    """commentAdded for an article readers cannot see answers NOT_FOUND instead of waiting on it."""
    import httpx
    import websockets

    from tests.conftest import BACKENDS, run_cli

    if kind not in BACKENDS:
        pytest.skip("PostgreSQL is not reachable")
    url = await scratch_database(kind)
    server = serve(url, "--seed-demo")
    token = run_cli("token", "create", "--role", "publisher", "--name", "desk", database_url=url).stdout.strip().splitlines()[-1]
    path = "/world-news/valdessa-korvany-leaders-meet-portaven-summit/"
    async with httpx.AsyncClient(base_url=server.base) as http:
        found = (await http.post("/graphql", json={"query": '{ page(urlPath: "%s") { id ... on ArticlePage { section { id } } } }' % path})).json()
        article, section = found["data"]["page"]["id"], found["data"]["page"]["section"]["id"]
        tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
        scheduled = (await http.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
            "query": "mutation($id: ID!, $go: DateTime) { schedulePage(id: $id, goLiveAt: $go) { errors { code } } }",
            "variables": {"id": section, "go": tomorrow}})).json()
        assert scheduled["data"]["schedulePage"]["errors"] == []
    ws = await websockets.connect(server.base.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"])
    try:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": contract["CommentAdded"], "variables": {"articleId": article}}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] in ("error", "next") and "NOT_FOUND" in json.dumps(message)
    finally:
        await ws.close()
