"""Varnish purges: `PURGE /` with `xkey-purge`, and a database queue for those that fail.

A change's purge goes out at once (service/purges.py) and writes nothing when every
Varnish takes it. What a Varnish does not take (no connection, no answer within
TIMEOUT, a 5xx) is queued in purge_retry, one row per failed purge, and retried with
backoff (2 s, 4 s ... at most MAX_DELAY apart) by every serving process's background
loop and by `masthead purges retry`, until `MASTHEAD_PURGE_ATTEMPTS` attempts in all;
then its keys are dropped with a logged error (the copies still expire with their
s-maxage). The due rows of one Varnish go out together, as one purge of all their keys;
when it answers again, the rest of its queue follows at once. Failed rows that had
made as many attempts become one row. A refusal (another 4xx: an address outside the
VCL's purgers) is logged, never retried: sending it again cannot help.

Claimed rows are leased (not due again for LEASE), so a crash mid-send retries them
later; two processes may still send the same keys once each, and a purge is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import httpx

from service import db, events, purge_models
from service.clock import now

TIMEOUT = 2.0  # seconds for one purge request
BATCH = 200  # keys per PURGE request (header size)
BASE_DELAY = 2.0  # seconds before the first retry; doubled for each one after
MAX_DELAY = 600.0
LEASE = timedelta(seconds=60)  # a claimed row is not due again before this (longer than any send)
CLAIM = 500  # rows claimed, and merged into one purge, at a time
WAKE_TOPIC = "purges"
log = logging.getLogger("masthead.purges")


def backoff(attempts: int) -> float:
    """Seconds to wait after `attempts` failed purges."""
    return min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)


async def send(http: httpx.AsyncClient, url: str, keys: list[str]) -> tuple[list[str], str]:
    """PURGE the keys at one Varnish, BATCH at a time; the keys it did not take (to retry) and why."""
    for start in range(0, len(keys), BATCH):
        batch = keys[start:start + BATCH]
        try:
            response = await http.request("PURGE", url.rstrip("/") + "/", headers={"xkey-purge": " ".join(batch)})
        except httpx.TimeoutException:
            return keys[start:], f"no answer within {TIMEOUT:g} s"  # nor will it answer the next batch
        except httpx.HTTPError as error:
            return keys[start:], f"{type(error).__name__}: {error}"[:500]
        if response.status_code >= 500:
            return keys[start:], f"HTTP {response.status_code}"
        if response.status_code >= 400:
            log.warning("Varnish %s refused a purge: %s", url, response.status_code)
    return [], ""


async def purge(keys: list[str], urls: Iterable[str], max_attempts: int) -> None:
    """Purge the keys at each Varnish now; queue what one did not take. Logs failures, never raises."""
    async with client() as http:
        for url in urls:
            failed, error = await send(http, url, keys)
            if failed:
                await enqueue(url, failed, error, max_attempts)


async def enqueue(url: str, keys: list[str], error: str, max_attempts: int) -> None:
    """Queue keys a Varnish did not take after one attempt, and wake the retry loops."""
    if max_attempts <= 1:
        log.error("could not purge Varnish %s (%s); dropped %d keys", url, error, len(keys))
        return
    log.warning("could not purge Varnish %s (%s); %d keys queued for retry", url, error, len(keys))
    try:
        async with db.serialised():
            await purge_models.PurgeRetry.create(target=url, keys=" ".join(keys), attempts=1, last_error=error,
                                           next_attempt_at=now() + timedelta(seconds=backoff(1)))
        await events.wake(WAKE_TOPIC)
    except Exception:  # noqa: BLE001 - the change itself committed: report, do not fail it
        log.exception("could not queue a failed purge of Varnish %s (%d keys lost)", url, len(keys))


@dataclass
class Outcome:
    """Queued rows a retry pass settled: purged, queued again, or dropped after their last attempt."""

    delivered: int = 0
    requeued: int = 0
    dropped: int = 0


async def _claim(target: str, everything: bool, after: int, last: int) -> list[purge_models.PurgeRetry]:
    """The target's due rows (every row, with `everything`) with ids in (after, last], leased to this process."""
    async with db.serialised(f"purge-retry:{target}"):
        stamp = now()
        query = purge_models.PurgeRetry.filter(target=target, id__gt=after, id__lte=last)
        if not everything:
            query = query.filter(next_attempt_at__lte=stamp)
        rows = await query.order_by("id").limit(CLAIM)
        if rows:
            await purge_models.PurgeRetry.filter(id__in=[row.id for row in rows]).update(next_attempt_at=stamp + LEASE)
    return rows


async def _settle(target: str, rows: list[purge_models.PurgeRetry], failed: list[str], error: str,
                  max_attempts: int, outcome: Outcome) -> None:
    """Delete the claimed rows; what failed again comes back as one row per attempt count, unless it was the last."""
    missed = set(failed)
    again: dict[int, tuple[set[str], list[int]]] = {}  # attempts made -> the keys still to purge, from which rows
    for row in rows:
        left = missed.intersection(row.keys.split())
        if left:
            keys, merged = again.setdefault(row.attempts + 1, (set(), []))
            keys.update(left)
            merged.append(row.id)
        else:
            outcome.delivered += 1
    stamp = now()
    async with db.serialised(f"purge-retry:{target}"):
        await purge_models.PurgeRetry.filter(id__in=[row.id for row in rows]).delete()
        for attempts, (keys, merged) in sorted(again.items()):
            if attempts >= max_attempts:
                outcome.dropped += len(merged)
                log.error("gave up purging %d keys at Varnish %s after %d attempts (%s)", len(keys), target, attempts, error)
                continue
            outcome.requeued += len(merged)
            await purge_models.PurgeRetry.create(target=target, keys=" ".join(sorted(keys)), attempts=attempts, last_error=error,
                                           next_attempt_at=stamp + timedelta(seconds=backoff(attempts)))


async def _retry_target(http: httpx.AsyncClient, target: str, everything: bool, max_attempts: int, outcome: Outcome) -> None:
    # Rows queued from now on, the failed ones of this pass among them, wait for the next pass.
    last = await purge_models.PurgeRetry.filter(target=target).order_by("-id").first().values_list("id", flat=True)
    after = 0
    while last is not None and (rows := await _claim(target, everything, after, last)):
        after = rows[-1].id
        keys = sorted(set().union(*(row.keys.split() for row in rows)))
        failed, error = await send(http, target, keys)
        await _settle(target, rows, failed, error, max_attempts, outcome)
        if failed:
            log.warning("could not purge Varnish %s again (%s)", target, error)
        elif not everything:
            everything, after = True, 0  # it answers again: the rest of its queue goes now


async def retry_due(max_attempts: int, *, everything: bool = False, http: httpx.AsyncClient | None = None) -> Outcome:
    """Send the queued purges that are due (all, with `everything`), one merged purge per Varnish at a time."""
    query = purge_models.PurgeRetry.all() if everything else purge_models.PurgeRetry.filter(next_attempt_at__lte=now())
    targets = await query.distinct().values_list("target", flat=True)
    outcome = Outcome()
    if not targets:
        return outcome
    own = http is None
    http = http or client()
    try:
        await asyncio.gather(*(_retry_target(http, target, everything, max_attempts, outcome) for target in targets))
    finally:
        if own:
            await http.aclose()
    return outcome


async def run_forever(max_attempts: int, idle_seconds: float = 30.0) -> None:
    """The serving process's retry loop: sleeps until the next row is due or one is queued; never raises."""
    woken = asyncio.Event()
    forget = events.on_wake(WAKE_TOPIC, woken.set)
    http = client()
    try:
        while True:
            woken.clear()
            sleep = idle_seconds
            try:
                await retry_due(max_attempts, http=http)
                upcoming = await purge_models.PurgeRetry.all().order_by("next_attempt_at").first().values_list(
                    "next_attempt_at", flat=True)
                if upcoming is not None:
                    sleep = min(idle_seconds, max(0.05, (upcoming - now()).total_seconds()))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged, tried again after the wait
                log.exception("purge retry pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), sleep)
    finally:
        forget()
        await http.aclose()
