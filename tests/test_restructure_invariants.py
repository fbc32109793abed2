"""What the issue-10 restructuring had to keep: refusals in payloads vs top level, related lists
batched as each article ranks them alone, old revision ids, webhook deliveries per `first`."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from service import auth, clock, ids, models, pages, publishing, drafts
from service.models import Role


class Desk:
    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def setup(self) -> None:
        for role in Role:
            raw, _ = await auth.create_token(name=f"{role.value}-desk", role=role)
            self.tokens[role.value] = raw

    async def __call__(self, query, variables=None, role=None, **kw):
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        r = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers, **kw)
        return r


@pytest.fixture
async def desk(demo_site) -> Desk:
    d = Desk(demo_site)
    await d.setup()
    return d


async def test_mutation_refusals_are_payload_errors(desk):
    section = (await desk('{ page(urlPath: "/world-news/") { id } }')).json()["data"]["page"]["id"]
    q = 'mutation($s: ID!) { createArticle(input: {sectionId: $s, title: "X"}) { article { id } errors { code field message } } }'
    anon = (await desk(q, {"s": section})).json()
    assert "errors" not in anon, anon
    assert anon["data"]["createArticle"]["errors"][0]["code"] == "UNAUTHENTICATED"
    reader = (await desk(q, {"s": section}, "reader")).json()
    assert reader["data"]["createArticle"]["errors"][0]["code"] == "PERMISSION_DENIED"
    pub = 'mutation($s: ID!) { publishPage(id: $s) { errors { code } } }'
    ed = (await desk(pub, {"s": section}, "editor")).json()
    assert ed["data"]["publishPage"]["errors"][0]["code"] == "PERMISSION_DENIED"
    q2 = 'query($s: ID!) { pageStatus(id: $s) { live } }'
    anon_q = (await desk(q2, {"s": section})).json()
    assert anon_q["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and anon_q["data"]["pageStatus"] is None


async def _article(section, title, tags, *, live=True):
    page = await pages.create_article(section=section, title=title, body=[], tags=tags, live=live,
                                      published_at=clock.now() - timedelta(hours=1))
    return page


async def test_related_in_a_list_is_what_each_page_shows(client):
    """A list's related (the batched path) against each article alone (the single path),
    with editor's picks that readers may not see: a draft, an embargoed one, one below an embargoed section."""
    home = await pages.create_home(title="Home")
    news = await pages.create_section(parent=home, title="News")
    hidden = await pages.create_section(parent=home, title="Hidden")
    arts = [await _article(news, f"Story {i}", ["shared"]) for i in range(6)]
    draft = await _article(news, "Draft pick", ["shared"], live=False)
    under = await _article(hidden, "Under embargoed section", ["shared"])
    embargoed = await _article(news, "Embargoed pick", ["shared"])
    await publishing.schedule(hidden, clock.now() + timedelta(days=1), publishing.KEEP, "t")
    await publishing.schedule(embargoed, clock.now() + timedelta(days=1), publishing.KEEP, "t")
    for a in arts[:3]:
        await pages.set_related(a, [draft, under, embargoed, arts[5]])
    q = '{ articles(first: 20) { edges { node { id title related(first: 3) { id title section { title } } } } } }'
    data = (await client.post("/graphql", json={"query": q})).json()
    assert "errors" not in data, data
    leaked = {"Draft pick", "Under embargoed section", "Embargoed pick"}
    for edge in data["data"]["articles"]["edges"]:
        node = edge["node"]
        assert not leaked & {r["title"] for r in node["related"]}, node
        alone = (await client.post("/graphql", json={"query": 'query($id: ID!) { node(id: $id) { ... on ArticlePage { related(first: 3) { id title section { title } } } } }', "variables": {"id": node["id"]}})).json()
        assert alone["data"]["node"]["related"] == node["related"], (node["title"], alone, node)


async def test_old_page_revision_ids_still_work(desk):
    page = await models.Page.filter(kind="article").first()
    rev = await drafts.update_page(page, {"summary": "x"}, "t")
    old = base64.b64encode(f"PageRevision:{rev.id}".encode()).decode()
    pid = ids.global_id(page)
    r = (await desk('mutation($id: ID!, $r: ID) { publishPage(id: $id, revisionId: $r) { revision { id number } errors { code } } }',
                    {"id": pid, "r": old}, "publisher")).json()
    assert r["data"]["publishPage"]["errors"] == [] and r["data"]["publishPage"]["revision"]["number"] == rev.number
    r = (await desk('query($id: ID!, $a: ID!, $b: ID!) { compareRevisions(pageId: $id, fromRevisionId: $a, toRevisionId: $b) { field } }',
                    {"id": pid, "a": old, "b": old}, "editor")).json()
    assert "errors" not in r, r


async def test_batched_loaders_with_mixed_arguments(client):
    from service import webhooks
    from datetime import datetime, timezone
    hooks = [await webhooks.register(f"http://8.8.8.{n + 1}:9/h", ["page.published"]) for n in range(3)]
    for n, hook in enumerate(hooks):
        for d in range(n + 2):
            await models.WebhookDelivery.create(webhook=hook, delivery_id=f"{n}-{d}", event="page.published", payload={"n": d},
                                                next_attempt_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    raw, _ = await auth.create_token(name="a", role=Role.ADMIN)
    q = "{ webhooks { id a: deliveries(first: 1) { deliveryId payload } b: deliveries(first: 3) { deliveryId } } }"
    data = (await client.post("/graphql", json={"query": q}, headers={"Authorization": f"Bearer {raw}"})).json()
    assert "errors" not in data, data
    for n, w in enumerate(data["data"]["webhooks"]):
        assert [d["deliveryId"] for d in w["a"]] == [f"{n}-{n + 1}"]
        assert [d["deliveryId"] for d in w["b"]] == [f"{n}-{d}" for d in range(n + 1, -1, -1)][:3]
        assert w["a"][0]["payload"] == {"n": n + 1}
