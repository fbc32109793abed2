"""Webhooks: events queued in the database, POSTed signed, retried with backoff.

An event is queued in the same transaction as the change it reports, one delivery
row per subscribed endpoint, so a restart loses nothing: whichever process runs
`deliver_due` next (the service's background task or `masthead webhooks deliver`)
sends it. Each POST carries `X-Masthead-Event`, `X-Masthead-Delivery` (a stable id
receivers use to drop duplicates) and `X-Masthead-Signature: sha256=<hex>`, the
HMAC-SHA256 of the raw body with the endpoint's secret.

`cache.purge` is the exception: queued after the change committed, in a transaction
of its own, with the surrogate keys it purged (service/purges.py); whether any
endpoint takes it is remembered per process, forgotten whenever an endpoint is
registered or deleted in any process, so a purge nobody subscribed to costs no
statement (SQLite without Redis, whose wake-ups stay in-process: one small read).

Targets must be public addresses (service/webhook_targets.py). Each endpoint has
its own lane: a slow or dead endpoint holds up only its own deliveries. Queuing
wakes the delivery loop (service/events.py); otherwise it sleeps until the next
retry is due, at most `webhook_idle_seconds`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import orjson

from service import db, events, models, webhook_targets
from service.clock import now
from service.errors import ErrorCode, UserError

EVENTS = ("page.published", "page.unpublished", "page.deleted", "comment.approved", "cache.purge")
MAX_ATTEMPTS = 8
BASE_DELAY = 2.0  # seconds: 2, 4, 8 ... capped
MAX_DELAY = 3600.0
TIMEOUT = 10.0  # seconds for one delivery, from connecting to the last byte of the answer
BATCH = 50
WAKE_TOPIC = "webhooks"
FIRST_WAIT = 0.25  # after a wake-up, look again soon: the queuing transaction may not have committed yet
ENDPOINTS_TOPIC = "webhook-endpoints"  # an endpoint was registered or deleted: forget who takes cache.purge
SUBSCRIBERS_SECONDS = 10.0  # the longest an answer is remembered (a process that does not hear wake-ups: the CLI)

log = logging.getLogger("masthead.webhooks")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> float:
    return min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))


async def register(url: str, events: list[str], secret: str | None = None, allow_private: tuple[str, ...] = ()) -> models.Webhook:
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
    try:
        await webhook_targets.check(url, allow_private)
    except webhook_targets.TargetRefused as error:
        raise UserError(str(error), ErrorCode.INVALID_URL, field="url") from None
    hook = await models.Webhook.create(url=url, events=sorted(set(events)), secret=secret)
    await endpoints_changed()
    return hook


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
    if hooks:
        await events.wake(WAKE_TOPIC)
    return len(hooks)


class _Subscribers:
    """Whether an active endpoint takes cache.purge, as this process last read it."""

    until = 0.0  # monotonic time the answer stops counting
    answer = False
    generation = 0  # bumped by every forget: a read that began before one is not remembered


def forget_subscribers() -> None:
    _Subscribers.until = 0.0
    _Subscribers.generation += 1


events.on_wake(ENDPOINTS_TOPIC, forget_subscribers)


async def endpoints_changed() -> None:
    """Every process forgets who takes cache.purge (call after registering or deleting an endpoint)."""
    await events.wake(ENDPOINTS_TOPIC)  # this process included


def _remember(generation: int, answer: bool) -> None:
    if generation == _Subscribers.generation and events.wakes_every_process():
        _Subscribers.until, _Subscribers.answer = time.monotonic() + SUBSCRIBERS_SECONDS, answer


async def announce_purge(keys: list[str]) -> None:
    """Queue `cache.purge` with the purged keys for the endpoints that take it; call after the change committed."""
    try:
        generation = _Subscribers.generation
        if time.monotonic() < _Subscribers.until:
            subscribed = _Subscribers.answer
        else:
            names = await models.Webhook.filter(active=True).values_list("events", flat=True)
            subscribed = any("cache.purge" in hook_events for hook_events in names)
            _remember(generation, subscribed)
        if subscribed:
            async with db.serialised():
                _remember(generation, await enqueue("cache.purge", {"keys": keys}) > 0)
    except Exception:  # noqa: BLE001 - the change committed: a lost event is logged, the change stands
        log.exception("could not queue cache.purge for %d keys", len(keys))


async def _send(client: httpx.AsyncClient, delivery: models.WebhookDelivery, allow_private: tuple[str, ...]) -> None:
    hook = delivery.webhook
    body = orjson.dumps(delivery.payload | {"deliveryId": delivery.delivery_id})
    delivery.attempts += 1
    try:
        async with asyncio.timeout(TIMEOUT):
            # Checked again now (DNS changes) and sent to the checked address, not the name.
            target = await webhook_targets.check(hook.url, allow_private)
            response = await client.post(
                target.url,
                content=body,
                headers={
                    "Host": target.host_header,
                    "Content-Type": "application/json",
                    "User-Agent": "Masthead-Webhooks/1",
                    "X-Masthead-Event": delivery.event,
                    "X-Masthead-Delivery": delivery.delivery_id,
                    "X-Masthead-Signature": sign(hook.secret, body),
                },
                extensions={"sni_hostname": target.hostname},
            )
        delivery.last_status_code = response.status_code
        ok = 200 <= response.status_code < 300
        error = "" if ok else f"HTTP {response.status_code}"
    except webhook_targets.TargetRefused as exc:
        ok, error = False, f"refused: {exc}"[:500]
    except TimeoutError:
        ok, error = False, f"no answer within {TIMEOUT:g} s"
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


async def _claim(webhook_id: int) -> models.WebhookDelivery | None:
    """The endpoint's oldest due delivery, claimed for this process; None when none is due.

    Claiming pushes its next attempt past the send timeout under a condition only
    one process can meet, so two processes never POST it at once and a crash
    mid-send retries it after the lease.
    """
    while True:
        stamp = now()
        due = await models.WebhookDelivery.filter(
            webhook_id=webhook_id, status="pending", next_attempt_at__lte=stamp).order_by("next_attempt_at", "id").first()
        if due is None:
            return None
        claimed = await models.WebhookDelivery.filter(
            id=due.id, status="pending", attempts=due.attempts, next_attempt_at__lte=stamp
        ).update(next_attempt_at=stamp + timedelta(seconds=TIMEOUT * 3))
        if claimed:
            return await models.WebhookDelivery.filter(id=due.id).select_related("webhook").first()


async def _lane(webhook_id: int, client: httpx.AsyncClient, allow_private: tuple[str, ...], quota: list[int]) -> None:
    """Send one endpoint's due deliveries in order, while `quota[0]` (shared by all lanes) lasts."""
    while quota[0] > 0:
        delivery = await _claim(webhook_id)
        if delivery is None:
            return
        quota[0] -= 1
        await _send(client, delivery, allow_private)


def _pending(busy):
    query = models.WebhookDelivery.filter(status="pending")
    return query.exclude(webhook_id__in=list(busy)) if busy else query


async def _due_endpoints(busy) -> list[int]:
    """Endpoints with due deliveries, but for those a lane already serves."""
    return list(await _pending(busy).filter(next_attempt_at__lte=now()).distinct().values_list("webhook_id", flat=True))


async def _next_due(busy) -> datetime | None:
    return await _pending(busy).order_by("next_attempt_at").first().values_list("next_attempt_at", flat=True)


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)


async def deliver_due(limit: int = BATCH, client: httpx.AsyncClient | None = None,
                      allow_private: tuple[str, ...] = ()) -> int:
    """Send the deliveries that are due, endpoints side by side; returns how many were attempted."""
    own = client is None
    client = client or _client()
    quota = [limit]
    try:
        await asyncio.gather(*(_lane(hook, client, allow_private, quota) for hook in await _due_endpoints(())))
    finally:
        if own:
            await client.aclose()
    return limit - quota[0]


async def run_forever(allow_private: tuple[str, ...] = (), idle_seconds: float = 30.0) -> None:
    """The service's delivery loop: never raises, so a bad endpoint cannot stop it.

    A lane per endpoint with due deliveries; the loop itself sleeps until a
    delivery is queued (a wake-up), a lane ends, or the next retry is due, and at
    most `idle_seconds` (a wake-up can be lost while the listener reconnects).
    """
    woken = asyncio.Event()
    forget = events.on_wake(WAKE_TOPIC, woken.set)
    lanes: dict[int, asyncio.Task] = {}
    wait = idle_seconds
    client = _client()

    def lane_ended(hook: int, task: asyncio.Task) -> None:
        lanes.pop(hook, None)
        woken.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook lane for endpoint %s failed", hook, exc_info=task.exception())

    try:
        while True:
            woken.clear()
            sleep = idle_seconds
            try:
                for hook in await _due_endpoints(lanes):
                    lanes[hook] = asyncio.create_task(_lane(hook, client, allow_private, [BATCH * 100]))
                    lanes[hook].add_done_callback(functools.partial(lane_ended, hook))
                upcoming = await _next_due(lanes)
                if upcoming is not None:
                    sleep = max(0.0, (upcoming - now()).total_seconds())
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged, tried again after the wait
                log.exception("webhook delivery pass failed")
            try:
                await asyncio.wait_for(woken.wait(), min(sleep, wait))
                wait = FIRST_WAIT
            except TimeoutError:
                wait = min(wait * 2, idle_seconds)
    finally:
        forget()
        for task in lanes.values():
            task.cancel()
        await asyncio.gather(*lanes.values(), return_exceptions=True)
        await client.aclose()


async def endpoints() -> list[models.Webhook]:
    """Registered endpoints, oldest first."""
    return await models.Webhook.all().order_by("id")


async def delete(webhook_id: int) -> models.Webhook:
    """Remove an endpoint and its delivery records; the row as it was, or a NOT_FOUND UserError."""
    hook = await models.Webhook.get_or_none(id=webhook_id)
    if hook is None:
        raise UserError("There is no such webhook.", ErrorCode.NOT_FOUND, field="id")
    await hook.delete()
    await endpoints_changed()
    return hook


async def deliveries_by_webhook_ids(webhook_ids: list[int], first: int) -> dict[int, list[models.WebhookDelivery]]:
    """Each endpoint's newest `first` deliveries, newest first, in one statement."""
    if not webhook_ids:
        return {}
    wanted = ", ".join(str(int(pk)) for pk in webhook_ids)  # ints only: raw() takes no parameters
    rows = await models.WebhookDelivery.raw(
        f"""
        SELECT * FROM webhook_delivery WHERE id IN (
            SELECT ranked.id FROM (
                SELECT d.id, ROW_NUMBER() OVER (PARTITION BY d.webhook_id ORDER BY d.id DESC) AS n
                FROM webhook_delivery d WHERE d.webhook_id IN ({wanted})
            ) ranked WHERE ranked.n <= {int(first)}
        ) ORDER BY id DESC
        """
    )
    found: dict[int, list[models.WebhookDelivery]] = {pk: [] for pk in webhook_ids}
    for row in rows:
        found[row.webhook_id].append(row)
    return found
