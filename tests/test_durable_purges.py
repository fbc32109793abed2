"""Purges that cannot get lost: a `cache.purge` webhook for CDNs."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import run_cli
from service import auth, events, models, purges, webhooks
from service.models import Role

LOOPBACK = {"MASTHEAD_WEBHOOK_ALLOW_PRIVATE": "127.0.0.1"}


class Recorder:
    """An HTTP server on 127.0.0.1:`port` recording each request (method, headers, body); answers `status`."""

    def __init__(self, port: int = 0, status: int = 200) -> None:
        self.requests: list[tuple[str, dict, bytes]] = []
        self.status = status
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append((self.command, dict(self.headers), body))
                self.send_response(recorder.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PURGE = do_POST = _record  # noqa: N815 - http.server's names

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def purged(self) -> list[str]:
        """The xkey-purge header of each PURGE received."""
        return [headers["xkey-purge"] for method, headers, _ in self.requests if method == "PURGE"]


REGISTER = "mutation($url: String!, $e: [WebhookEvent!]!) { registerWebhook(url: $url, events: $e) { webhook { id } errors { code } } }"
PUBLISH = "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }"


async def _token(role: Role) -> dict:
    raw, _ = await auth.create_token(name=f"{role.value}-purges", role=role)
    return {"Authorization": f"Bearer {raw}"}


async def test_a_publish_sends_cache_purge_with_its_keys(demo_site, make_client, database_url):
    http = await make_client(webhook_allow_private=("127.0.0.1",))
    admin, publisher = await _token(Role.ADMIN), await _token(Role.PUBLISHER)
    found = (await http.post("/graphql", json={"query": '{ page(urlPath: "/world-news/") { id } }'})).json()
    section = found["data"]["page"]["id"]
    with Recorder() as cdn:
        registered = await http.post("/graphql", headers=admin, json={"query": REGISTER, "variables": {
            "url": cdn.url + "/purge", "e": ["CACHE_PURGE"]}})
        assert registered.json()["data"]["registerWebhook"]["errors"] == []
        published = await http.post("/graphql", headers=publisher, json={"query": PUBLISH, "variables": {"id": section}})
        assert published.json()["data"]["publishPage"]["errors"] == []
        queued = await models.WebhookDelivery.get(event="cache.purge")  # queued once the change committed
        run_cli("webhooks", "deliver", database_url=database_url, **LOOPBACK)
        [(method, headers, body)] = cdn.requests
    page = await models.Page.get(url_path="/world-news/")
    payload = json.loads(body)
    assert method == "POST" and headers["X-Masthead-Event"] == "cache.purge"
    assert payload["event"] == "cache.purge" and payload["deliveryId"] == queued.delivery_id
    keys = payload["data"]["keys"]
    assert keys == sorted(keys) and {f"p:{page.id}", f"articles:s:{page.id}", "articles", "pages", "search", "sections"} <= set(keys)
    assert payload["data"] == {"keys": keys}


async def test_purges_nobody_subscribed_to_write_no_webhook_rows(client, backend, sql_counter):
    await purges.purge(["site"])  # nobody registered at all
    heard = []
    undo = events.on_wake(webhooks.ENDPOINTS_TOPIC, lambda: heard.append(1))
    try:
        await webhooks.register("https://1.1.1.1/hooks", ["page.published"], secret="s" * 20)
        for _ in range(200):  # PostgreSQL brings this process's own wake-up back too: let it come first
            if len(heard) == (2 if backend == "postgres" else 1):
                break
            await asyncio.sleep(0.01)
    finally:
        undo()
    await purges.purge(["site"])  # one endpoint, for another event
    assert await models.WebhookDelivery.all().count() == 0
    sql_counter.reset()
    await purges.purge(["site"])
    # With PostgreSQL or Redis to tell every process when endpoints change, the answer is
    # remembered: no statement. On SQLite alone, one read (the purge log is its own row).
    assert len([sql for sql in sql_counter.statements if '"webhook"' in sql]) == (0 if backend == "postgres" else 1)
    cdn = await webhooks.register("https://1.1.1.1/cdn", ["cache.purge"], secret="s" * 20)  # heard at once
    await purges.purge(["site"])
    assert [d.payload["data"] for d in await models.WebhookDelivery.filter(event="cache.purge")] == [{"keys": ["site"]}]
    await webhooks.delete(cdn.id)  # its deliveries go with it
    await purges.purge(["redirects"])
    assert await models.WebhookDelivery.all().count() == 0
