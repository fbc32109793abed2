"""Webhooks: queued with the change, POSTed signed to a real receiver on loopback, retried."""

from __future__ import annotations

import hashlib
import os
import sys
import hmac
import json
import threading
import time
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service import auth, models
from service.models import Role
from tests.conftest import run_cli

SECRET = "a-long-shared-secret-for-tests"


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records requests; answers `statuses` in turn, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


async def _headers(role: Role) -> dict:
    raw, _ = await auth.create_token(name=f"{role.value}-hooks", role=role)
    return {"Authorization": f"Bearer {raw}"}


REGISTER = "mutation($url: String!, $s: String) { registerWebhook(url: $url, events: [PAGE_PUBLISHED, PAGE_UNPUBLISHED, COMMENT_APPROVED], secret: $s) { webhook { id events } secret errors { code field } } }"


async def test_deliveries_are_signed_retried_and_recorded(demo_site, database_url):
    client = demo_site
    admin, publisher = await _headers(Role.ADMIN), await _headers(Role.PUBLISHER)
    article = (await client.post("/graphql", json={"query": '{ page(urlPath: "/world-news/") { id } }'})).json()["data"]["page"]["id"]
    with Receiver(statuses=[500]) as receiver:
        registered = (await client.post("/graphql", json={"query": REGISTER, "variables": {"url": receiver.url, "s": SECRET}}, headers=admin)).json()
        hook = registered["data"]["registerWebhook"]
        assert hook["errors"] == [] and hook["secret"] == SECRET
        published = (await client.post("/graphql", json={"query": "mutation($id: ID!) { publishPage(id: $id) { errors { code } } }", "variables": {"id": article}}, headers=publisher)).json()
        assert published["data"]["publishPage"]["errors"] == []
        delivery = await models.WebhookDelivery.get(event="page.published")
        assert delivery.status == "pending" and delivery.attempts == 0  # queued with the change, nothing sent yet

        # First attempt: the receiver fails; the delivery waits with backoff.
        run_cli("webhooks", "deliver", database_url=database_url)
        await delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == ("pending", 1, 500, "HTTP 500")
        assert len(receiver.requests) == 1
        run_cli("webhooks", "deliver", database_url=database_url)  # not due yet: nothing sent
        assert len(receiver.requests) == 1

        # Second attempt once the backoff passed: delivered, same delivery id.
        await models.WebhookDelivery.filter(id=delivery.id).update(next_attempt_at=delivery.created_at)
        run_cli("webhooks", "deliver", database_url=database_url)
        await delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, "")
        first, second = receiver.requests
        assert first["headers"]["X-Masthead-Delivery"] == second["headers"]["X-Masthead-Delivery"] == delivery.delivery_id
        body = second["body"]
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert second["headers"]["X-Masthead-Signature"] == expected
        assert second["headers"]["X-Masthead-Event"] == "page.published"
        payload = json.loads(body)
        assert payload["event"] == "page.published" and payload["data"]["id"] == article
        assert payload["data"]["urlPath"] == "/world-news/" and payload["deliveryId"] == delivery.delivery_id

        listed = (await client.post("/graphql", json={"query": "{ webhooks { url deliveries { status attempts lastStatusCode } } }"}, headers=admin)).json()
        assert listed["data"]["webhooks"][0]["deliveries"] == [{"status": "delivered", "attempts": 2, "lastStatusCode": 200}]


async def test_comment_approval_and_unpublishing_are_delivered_by_the_running_service(serve, scratch_database, backend):
    """The service's own background loop sends deliveries; none is lost across a restart."""
    url = await scratch_database(backend)
    run_cli("seed", "--demo", database_url=url)
    raw = run_cli("token", "create", "--role", "admin", "--name", "ops", database_url=url).stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {raw}"}
    import httpx

    with Receiver() as receiver:
        server = serve(url, env={"MASTHEAD_BACKGROUND_JOBS": "0"})  # first: a service that does not deliver
        with httpx.Client(base_url=server.base, timeout=10) as http:
            http.post("/graphql", json={"query": REGISTER, "variables": {"url": receiver.url, "s": SECRET}}, headers=headers)
            pending = run_cli("comments", "list", database_url=url).stdout.split("\t")[0]
            http.post("/graphql", json={"query": 'mutation($id: ID!) { moderateComment(id: $id, action: APPROVE) { errors { code } } }',
                                        "variables": {"id": _comment_gid(int(pending))}}, headers=headers)
            section = http.post("/graphql", json={"query": '{ page(urlPath: "/culture/") { id } }'}).json()["data"]["page"]["id"]
            http.post("/graphql", json={"query": "mutation($id: ID!) { unpublishPage(id: $id) { errors { code } } }", "variables": {"id": section}}, headers=headers)
        server.stop()
        assert receiver.requests == []  # queued, not sent: nothing was lost by stopping

        server = serve(url)  # the default: background jobs on
        deadline = time.monotonic() + 15
        while len(receiver.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        server.stop()
    events = sorted(r["headers"]["X-Masthead-Event"] for r in receiver.requests)
    assert events == ["comment.approved", "page.unpublished"]
    approved = next(json.loads(r["body"]) for r in receiver.requests if r["headers"]["X-Masthead-Event"] == "comment.approved")
    assert "authorEmail" not in json.dumps(approved) and "@" not in json.dumps(approved["data"])


def _comment_gid(pk: int) -> str:
    from schema import ids

    return ids.to_global_id("Comment", pk)


@pytest.mark.parametrize(
    "url, events, secret, field",
    [("ftp://example.org/", ["PAGE_PUBLISHED"], None, "url"), ("http://127.0.0.1:9/", [], None, "events"),
     ("http://127.0.0.1:9/", ["PAGE_PUBLISHED"], "short", "secret")],
)
async def test_bad_webhooks_are_refused(demo_site, url, events, secret, field):
    admin = await _headers(Role.ADMIN)
    query = "mutation($url: String!, $e: [WebhookEvent!]!, $s: String) { registerWebhook(url: $url, events: $e, secret: $s) { webhook { id } errors { field code } } }"
    result = (await demo_site.post("/graphql", json={"query": query, "variables": {"url": url, "e": events, "s": secret}}, headers=admin)).json()
    assert result["data"]["registerWebhook"]["webhook"] is None
    assert result["data"]["registerWebhook"]["errors"][0]["field"] == field


async def test_two_processes_delivering_at_once_send_each_event_once(demo_site, database_url):
    """Every serving process runs the delivery loop: a delivery is claimed before it is sent."""
    import asyncio

    from service import webhooks

    hook = await models.Webhook.create(url="http://127.0.0.1:9/", events=["page.published"], secret=SECRET)
    with Receiver() as receiver:
        await models.Webhook.filter(id=hook.id).update(url=receiver.url)
        for n in range(6):
            await webhooks.enqueue("page.published", {"n": n})
        masthead = str(Path(sys.executable).with_name("masthead"))
        processes = [
            await asyncio.create_subprocess_exec(
                masthead, "webhooks", "deliver", env={**os.environ, "MASTHEAD_DATABASE_URL": database_url},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )
            for _ in range(3)
        ]
        await asyncio.gather(*(p.wait() for p in processes))
    ids = [r["headers"]["X-Masthead-Delivery"] for r in receiver.requests]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert await models.WebhookDelivery.filter(status="delivered", attempts=1).count() == 6
