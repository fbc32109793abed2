"""Webhooks: queued with the change, POSTed signed to a real receiver on loopback, retried."""

from __future__ import annotations

import hashlib
import os
import sys
import hmac
import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service import auth, models, webhooks
from service.models import Role
from tests.conftest import run_cli

SECRET = "a-long-shared-secret-for-tests"
LOOPBACK = {"MASTHEAD_WEBHOOK_ALLOW_PRIVATE": "127.0.0.1"}  # the receivers listen on loopback


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records requests; answers `statuses` in turn, then 200."""

    def __init__(self, statuses: list[int] | None = None, hold: threading.Event | None = None) -> None:
        self.requests: list[dict] = []
        self.statuses = list(statuses or [])
        self.answered = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                if hold is not None:  # a slow endpoint: answers once released (or after 8 s)
                    hold.wait(8)
                receiver.answered += 1
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


@pytest.fixture
async def hooks_client(demo_site, database_url):
    """The API with loopback webhook targets allowed (the receivers listen on 127.0.0.1)."""
    from dataclasses import replace

    import httpx

    from service.app import create_app
    from service.settings import Settings

    settings = replace(Settings(database_url=database_url, background_jobs=False, rate_points=0), webhook_allow_private=("127.0.0.1",))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://testserver") as client:
        yield client


async def test_deliveries_are_signed_retried_and_recorded(hooks_client, database_url):
    client = hooks_client
    admin, publisher = await _headers(Role.ADMIN), await _headers(Role.PUBLISHER)
    article = (await client.post("/graphql", json={"query": '{ page(urlPath: "/world-news/") { id } }'})).json()["data"]["page"]["id"]
    with Receiver(statuses=[500]) as receiver:
        registered = (await client.post("/graphql", json={"query": REGISTER, "variables": {"url": receiver.url, "s": SECRET}}, headers=admin)).json()
        hook = registered["data"]["registerWebhook"]
        assert hook["errors"] == [] and hook["secret"] == SECRET
        published = (await client.post("/graphql", json={"query": "mutation($id: ID!) { publishPage(id: $id) { errors { code } revision { id number } } }", "variables": {"id": article}}, headers=publisher)).json()
        assert published["data"]["publishPage"]["errors"] == []
        revision = published["data"]["publishPage"]["revision"]
        delivery = await models.WebhookDelivery.get(event="page.published")
        assert delivery.status == "pending" and delivery.attempts == 0  # queued with the change, nothing sent yet

        # First attempt: the receiver fails; the delivery waits with backoff.
        run_cli("webhooks", "deliver", database_url=database_url, **LOOPBACK)
        await delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == ("pending", 1, 500, "HTTP 500")
        assert len(receiver.requests) == 1
        # The retry waits out its backoff (2 s). A loaded machine can take that long to start the
        # CLI, so the wait is stretched before checking that a delivery not yet due is not sent.
        assert delivery.next_attempt_at >= delivery.created_at + timedelta(seconds=webhooks.backoff(1))
        await models.WebhookDelivery.filter(id=delivery.id).update(next_attempt_at=delivery.next_attempt_at + timedelta(hours=1))
        run_cli("webhooks", "deliver", database_url=database_url, **LOOPBACK)  # not due yet: nothing sent
        assert len(receiver.requests) == 1

        # Second attempt once the backoff passed: delivered, same delivery id.
        await models.WebhookDelivery.filter(id=delivery.id).update(next_attempt_at=delivery.created_at)
        run_cli("webhooks", "deliver", database_url=database_url, **LOOPBACK)
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
        assert payload["data"]["revision"] == revision  # the API's own global id, not a raw "PageRevision:N"

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
        server = serve(url, env={"MASTHEAD_BACKGROUND_JOBS": "0", **LOOPBACK})  # first: a service that does not deliver
        with httpx.Client(base_url=server.base, timeout=10) as http:
            http.post("/graphql", json={"query": REGISTER, "variables": {"url": receiver.url, "s": SECRET}}, headers=headers)
            pending = run_cli("comments", "list", database_url=url).stdout.split("\t")[0]
            http.post("/graphql", json={"query": 'mutation($id: ID!) { moderateComment(id: $id, action: APPROVE) { errors { code } } }',
                                        "variables": {"id": _comment_gid(int(pending))}}, headers=headers)
            section = http.post("/graphql", json={"query": '{ page(urlPath: "/culture/") { id } }'}).json()["data"]["page"]["id"]
            http.post("/graphql", json={"query": "mutation($id: ID!) { unpublishPage(id: $id) { errors { code } } }", "variables": {"id": section}}, headers=headers)
        server.stop()
        assert receiver.requests == []  # queued, not sent: nothing was lost by stopping

        server = serve(url, env=LOOPBACK)  # the default: background jobs on
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
                masthead, "webhooks", "deliver", env={**os.environ, "MASTHEAD_DATABASE_URL": database_url, **LOOPBACK},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )
            for _ in range(3)
        ]
        await asyncio.gather(*(p.wait() for p in processes))
    ids = [r["headers"]["X-Masthead-Delivery"] for r in receiver.requests]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert await models.WebhookDelivery.filter(status="delivered", attempts=1).count() == 6


REGISTER_ONE = "mutation($url: String!) { registerWebhook(url: $url, events: [PAGE_PUBLISHED]) { webhook { id } errors { field code message } } }"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hooks", "http://localhost/", "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/",
    "http://192.168.0.10:9000/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://0.0.0.0/",
    "https://100.64.0.1/", "http://[2002:7f00:1::1]/", "http://224.0.0.1/",
])
async def test_webhooks_to_private_addresses_are_refused_unless_allowed(demo_site, hooks_client, url):
    admin = await _headers(Role.ADMIN)
    refused = (await demo_site.post("/graphql", json={"query": REGISTER_ONE, "variables": {"url": url}}, headers=admin)).json()
    payload = refused["data"]["registerWebhook"]
    assert payload["webhook"] is None and payload["errors"][0]["field"] == "url" and payload["errors"][0]["code"] == "INVALID_URL"
    assert "MASTHEAD_WEBHOOK_ALLOW_PRIVATE" in payload["errors"][0]["message"] or "resolve" in payload["errors"][0]["message"]
    assert await models.Webhook.all().count() == 0
    if url.startswith("http://127.0.0.1"):  # listed in MASTHEAD_WEBHOOK_ALLOW_PRIVATE: allowed
        allowed = (await hooks_client.post("/graphql", json={"query": REGISTER_ONE, "variables": {"url": url}}, headers=admin)).json()
        assert allowed["data"]["registerWebhook"]["errors"] == []


async def test_a_target_that_turned_private_is_refused_at_delivery(demo_site, database_url):
    """DNS can change after registration: the address is checked again before every delivery."""
    from service import webhooks

    with Receiver() as receiver:
        hook = await models.Webhook.create(url=receiver.url, events=["page.published"], secret=SECRET)
        await webhooks.enqueue("page.published", {"n": 1})
        run_cli("webhooks", "deliver", database_url=database_url)  # loopback not allowed here
        assert receiver.requests == []
        delivery = await models.WebhookDelivery.get(webhook_id=hook.id)
        assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_error.startswith("refused:")
        await models.WebhookDelivery.filter(id=delivery.id).update(next_attempt_at=delivery.created_at)
        run_cli("webhooks", "deliver", database_url=database_url, **LOOPBACK)
        assert len(receiver.requests) == 1 and receiver.requests[0]["headers"]["Host"] == receiver.url.split("/")[2]


async def test_a_slow_endpoint_does_not_hold_up_the_others(demo_site, database_url):
    import asyncio

    from service import webhooks

    release = threading.Event()
    with Receiver(hold=release) as slow, Receiver() as fast:
        slow_hook = await models.Webhook.create(url=slow.url, events=["page.published"], secret=SECRET)
        await webhooks.enqueue("page.published", {"n": 1})  # queued first: sent first by a one-at-a-time loop
        await models.Webhook.create(url=fast.url, events=["page.published"], secret=SECRET)
        await webhooks.enqueue("page.published", {"n": 2})  # the slow endpoint's second, and the fast one's first
        sending = asyncio.ensure_future(webhooks.deliver_due(allow_private=("127.0.0.1",)))
        for _ in range(100):
            if fast.answered or sending.done():
                break
            await asyncio.sleep(0.1)
        slow_answered_before = slow.answered
        release.set()
        sent = await sending
    assert fast.answered == 1 and slow_answered_before == 0  # the fast endpoint did not wait for the slow one
    assert sent == 3 and len(slow.requests) == 2
    assert [json.loads(r["body"])["data"]["n"] for r in slow.requests] == [1, 2]  # one endpoint's deliveries stay in order
    assert await models.WebhookDelivery.filter(webhook_id=slow_hook.id, status="delivered").count() == 2


async def test_a_queued_delivery_wakes_an_idle_delivery_loop(serve, scratch_database, backend):
    """The loop sleeps up to MASTHEAD_WEBHOOK_IDLE_SECONDS (here ten minutes) unless a delivery is queued."""
    import httpx

    url = await scratch_database(backend)
    run_cli("seed", "--demo", database_url=url)
    raw = run_cli("token", "create", "--role", "admin", "--name", "ops", database_url=url).stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {raw}"}
    with Receiver() as receiver:
        server = serve(url, env={"MASTHEAD_WEBHOOK_IDLE_SECONDS": "600", **LOOPBACK})
        time.sleep(1)  # the loop has looked once, found nothing, and sleeps
        with httpx.Client(base_url=server.base, timeout=10) as http:
            assert http.post("/graphql", json={"query": REGISTER, "variables": {"url": receiver.url, "s": SECRET}},
                             headers=headers).json()["data"]["registerWebhook"]["errors"] == []
            section = http.post("/graphql", json={"query": '{ page(urlPath: "/culture/") { id } }'}).json()["data"]["page"]["id"]
            http.post("/graphql", json={"query": "mutation($id: ID!) { unpublishPage(id: $id) { errors { code } } }",
                                        "variables": {"id": section}}, headers=headers)
            _wait_for(receiver, 1)
            if backend == "postgres":  # queued by another process: PostgreSQL's NOTIFY wakes this one
                pending = run_cli("comments", "list", database_url=url).stdout.split("\t")[0]
                run_cli("comments", "approve", pending, database_url=url)
                _wait_for(receiver, 2)
        server.stop()
    events = [r["headers"]["X-Masthead-Event"] for r in receiver.requests]
    assert events == ["page.unpublished"] + (["comment.approved"] if backend == "postgres" else [])


def _wait_for(receiver: Receiver, count: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while len(receiver.requests) < count and time.monotonic() < deadline:
        time.sleep(0.1)
