"""Webhooks: events queued in the database, POSTed signed, retried with backoff.

An event is queued in the same transaction as the change it reports, one delivery
row per subscribed endpoint, so a restart loses nothing: whichever process runs
`deliver_due` next (the service's background task or `masthead webhooks deliver`)
sends it. Each POST carries `X-Masthead-Event`, `X-Masthead-Delivery` (a stable id
receivers use to drop duplicates) and `X-Masthead-Signature: sha256=<hex>`, the
HMAC-SHA256 of the raw body with the endpoint's secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import httpx
import orjson

from service import models
from service.errors import ErrorCode, UserError

EVENTS = ("page.published", "page.unpublished", "page.deleted", "comment.approved")
MAX_ATTEMPTS = 8
BASE_DELAY = 2.0  # seconds: 2, 4, 8 ... capped
MAX_DELAY = 3600.0
TIMEOUT = 10.0
BATCH = 50

log = logging.getLogger("masthead.webhooks")


def now() -> datetime:
    return datetime.now(timezone.utc)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> float:
    return min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))


async def register(url: str, events: list[str], secret: str | None = None) -> models.Webhook:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1024:
        raise UserError("A webhook URL must be an http(s) URL.", ErrorCode.INVALID_URL, field="url")
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise UserError(f"Events must be some of {', '.join(EVENTS)}.", ErrorCode.INVALID, field="events")
    secret = secret.strip() if secret else secrets.token_urlsafe(32)
    if len(secret) < 16 or len(secret) > 128:
        raise UserError("A webhook secret is 16 to 128 characters.", ErrorCode.INVALID, field="secret")
    return await models.Webhook.create(url=url, events=sorted(set(events)), secret=secret)


async def enqueue(event: str, data: dict) -> int:
    """Queue an event for every active endpoint subscribed to it; call inside the change's transaction."""
    hooks = [h for h in await models.Webhook.filter(active=True) if event in h.events]
    stamp = now()
    for hook in hooks:
        await models.WebhookDelivery.create(
            webhook_id=hook.id,
            delivery_id=str(uuid.uuid4()),
            event=event,
            payload={"event": event, "occurredAt": stamp.isoformat(), "data": data},
            next_attempt_at=stamp,
        )
    return len(hooks)


async def _send(client: httpx.AsyncClient, delivery: models.WebhookDelivery) -> None:
    hook = delivery.webhook
    body = orjson.dumps(delivery.payload | {"deliveryId": delivery.delivery_id})
    delivery.attempts += 1
    try:
        response = await client.post(
            hook.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Masthead-Webhooks/1",
                "X-Masthead-Event": delivery.event,
                "X-Masthead-Delivery": delivery.delivery_id,
                "X-Masthead-Signature": sign(hook.secret, body),
            },
        )
        delivery.last_status_code = response.status_code
        ok = 200 <= response.status_code < 300
        error = "" if ok else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
    if ok:
        delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now(), ""
    else:
        delivery.last_error = error
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = now() + timedelta(seconds=backoff(delivery.attempts))
    # Conditional on the attempt count it was claimed with: a stale writer changes nothing.
    await models.WebhookDelivery.filter(id=delivery.id, attempts=delivery.attempts - 1).update(
        status=delivery.status, attempts=delivery.attempts, next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error, last_status_code=delivery.last_status_code, delivered_at=delivery.delivered_at,
    )


async def deliver_due(limit: int = BATCH, client: httpx.AsyncClient | None = None) -> int:
    """Send the deliveries that are due, one at a time; returns how many were attempted.

    Each is claimed just before it is sent, by pushing its next attempt past the
    send timeout under a condition only one process can meet, so two processes
    never POST it at once and a crash mid-send retries it after the lease.
    """
    own = client is None
    client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
    sent = 0
    try:
        while sent < limit:
            stamp = now()
            due = await models.WebhookDelivery.filter(status="pending", next_attempt_at__lte=stamp).order_by(
                "next_attempt_at", "id").first()
            if due is None:
                break
            claimed = await models.WebhookDelivery.filter(
                id=due.id, status="pending", attempts=due.attempts, next_attempt_at__lte=stamp
            ).update(next_attempt_at=stamp + timedelta(seconds=TIMEOUT * 3))
            if not claimed:
                continue  # another process took it
            delivery = await models.WebhookDelivery.filter(id=due.id).select_related("webhook").first()
            await _send(client, delivery)
            sent += 1
    finally:
        if own:
            await client.aclose()
    return sent


async def run_forever(interval: float = 1.0) -> None:
    """The service's delivery loop: never raises, so a bad endpoint cannot stop it."""
    while True:
        try:
            await deliver_due()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - logged, retried next tick
            log.exception("webhook delivery pass failed")
        await asyncio.sleep(interval)
