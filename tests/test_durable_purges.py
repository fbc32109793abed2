"""Purges that cannot get lost: a `cache.purge` webhook for CDNs, and Varnish purges retried from the database.

The Varnish here is a real HTTP peer on loopback that records the PURGE requests it
gets (the real varnishd's own answers are tests/test_varnish.py's); a dead port is
one nothing listens on yet.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conftest import free_port, run_cli
from service import auth, events, models, purge_models, purges, site, webhooks
from service.models import Role
from service.settings import Settings

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


@pytest.fixture
def varnish_at():
    """purges.configure with these Varnish URLs, waiting for each purge; the session's settings restored after."""

    def configure(*urls: str, attempts: int = 12) -> None:
        purges.configure(Settings(varnish_urls=urls, purge_attempts=attempts))

    yield configure
    purges.configure(Settings(), background=True)  # as the session's app left it


def _wait_for(found, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


async def test_a_failed_varnish_purge_is_queued_and_sent_once_varnish_answers(client, database_url, varnish_at):
    port = free_port()  # nothing listens there yet
    with Recorder() as alive:
        varnish_at(alive.url, f"http://127.0.0.1:{port}")
        await site.update_site_settings({"tagline": "One"})
        assert alive.purged() == ["site"]
        assert await purge_models.PurgeRetry.filter(target=alive.url).count() == 0  # a purge that went through writes nothing
    queued = await purge_models.PurgeRetry.get(target=f"http://127.0.0.1:{port}")
    assert (queued.keys, queued.attempts) == ("site", 1) and "Connect" in queued.last_error

    varnish_at(f"http://127.0.0.1:{port}")
    await purges.purge(["p:7", "articles"])  # a second failure for the same Varnish
    assert await purge_models.PurgeRetry.all().count() == 2
    assert run_cli("purges", "list", database_url=database_url).stdout.count(f"http://127.0.0.1:{port}\tattempts 1") == 2
    with Recorder(port) as varnish:
        await purge_models.PurgeRetry.all().update(next_attempt_at=queued.created_at + timedelta(hours=1))  # as if later in the backoff
        assert "Purged 0 " in run_cli("purges", "retry", database_url=database_url).stdout  # not due: not sent
        assert varnish.requests == []
        await purge_models.PurgeRetry.filter(id=queued.id).update(next_attempt_at=queued.created_at)  # the first is due
        retried = run_cli("purges", "retry", database_url=database_url).stdout
        # The due one went, and with Varnish back, the one not due yet followed in the same pass.
        assert "Purged 2 queued purges; 0 failed again, 0 dropped after their last attempt; 0 queued." in retried
        assert varnish.purged() == ["site", "articles p:7"]
    assert await purge_models.PurgeRetry.all().count() == 0


async def test_queued_failures_for_one_varnish_go_out_as_one_purge(client, database_url, varnish_at):
    port = free_port()
    varnish_at(f"http://127.0.0.1:{port}")
    for keys in (["site"], ["p:1", "pages"], ["p:1", "c:1"]):
        await purges.purge(keys)
    assert await purge_models.PurgeRetry.all().count() == 3
    with Recorder(port) as varnish:
        run_cli("purges", "retry", "--all", database_url=database_url)
        assert varnish.purged() == ["c:1 p:1 pages site"]
    assert await purge_models.PurgeRetry.all().count() == 0


async def test_a_varnish_that_keeps_failing_is_given_up_after_the_last_attempt(client, database_url, varnish_at):
    dead = f"http://127.0.0.1:{free_port()}"
    attempts = {"MASTHEAD_PURGE_ATTEMPTS": "3"}
    varnish_at(dead, attempts=3)
    await purges.purge(["site"])  # attempt 1
    await purges.purge(["redirects"])
    again = run_cli("purges", "retry", "--all", database_url=database_url, **attempts)  # attempt 2 of both
    assert "0 queued purges; 2 failed again, 0 dropped" in again.stdout
    row = await purge_models.PurgeRetry.get()  # both had made one attempt: now one row
    assert (row.keys, row.attempts) == ("redirects site", 2)
    with Recorder(status=503) as failing:  # an answer, but a 5xx: retried like no answer
        varnish_at(failing.url, attempts=3)
        await purges.purge(["p:1"])
        assert failing.purged() == ["p:1"]
    assert await purge_models.PurgeRetry.filter(target=failing.url, attempts=1, last_error="HTTP 503").count() == 1
    last = run_cli("purges", "retry", "--all", database_url=database_url, **attempts)  # attempt 3 of the first
    assert "1 failed again, 1 dropped after their last attempt; 1 queued." in last.stdout
    assert "gave up purging 2 keys at Varnish " + dead in last.stderr
    assert [row.target for row in await purge_models.PurgeRetry.all()] == [failing.url]


async def test_a_refused_purge_is_not_retried(client, varnish_at):
    with Recorder(status=403) as refusing:  # a purger outside the VCL's ACL: sending it again cannot help
        varnish_at(refusing.url)
        await purges.purge(["site"])
        assert refusing.purged() == ["site"]
    assert await purge_models.PurgeRetry.all().count() == 0


async def test_the_serving_process_retries_by_itself(serve, scratch_database, backend):
    url = await scratch_database(backend)
    port = free_port()
    token = run_cli("token", "create", "--role", "admin", "--name", "desk", database_url=url).stdout.strip().splitlines()[-1]
    server = serve(url, env={"MASTHEAD_VARNISH_URLS": f"http://127.0.0.1:{port}"})
    renamed = httpx.post(f"{server.base}/graphql", headers={"Authorization": f"Bearer {token}"}, timeout=30, json={
        "query": 'mutation { updateSiteSettings(input: {name: "Retried"}) { errors { code } } }'})
    assert renamed.json()["data"]["updateSiteSettings"]["errors"] == []
    _wait_for(lambda: "\tattempts " in run_cli("purges", "list", database_url=url).stdout)  # queued by the server
    with Recorder(port) as varnish:
        _wait_for(lambda: varnish.purged() == ["site"])  # its first retry is due two seconds after the failure
    assert run_cli("purges", "list", database_url=url).stdout.strip() == "No queued purges."


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
