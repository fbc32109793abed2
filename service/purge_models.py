"""Tortoise models of cache purge bookkeeping (service/purge_relay.py, service/varnish.py).

Beside service/models.py rather than in it, which is at the module size limit; the
app's tortoise config lists this module too (service/db.py), so these are models of
the one app ("masthead") like any other.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class PurgeLog(Model):
    """Surrogate keys purged on SQLite without Redis: how the other processes hear of it (service/purge_relay.py).

    Each serving process reads the rows newer than the last it saw every 100 ms; rows
    older than a minute are deleted."""

    id = fields.IntField(primary_key=True)
    keys = fields.TextField()  # space-separated
    origin = fields.CharField(max_length=32)  # the writing process's random id: it purged its own cache already
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "purge_log"


class PurgeRetry(Model):
    """Surrogate keys a Varnish did not take: retried with backoff until it does (service/varnish.py).

    Written only when a purge fails (a refused connection, a timeout, a 5xx); due rows
    of one Varnish go out together as one purge; dropped, logged, after the last attempt."""

    id = fields.IntField(primary_key=True)
    target = fields.CharField(max_length=1024)  # the Varnish URL from MASTHEAD_VARNISH_URLS
    keys = fields.TextField()  # space-separated
    attempts = fields.IntField(default=1)  # purges sent so far (the first, failed, one included)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "purge_retry"
        indexes = (Index(fields=("next_attempt_at",)), Index(fields=("target", "next_attempt_at")))
