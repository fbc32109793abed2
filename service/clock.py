"""The one clock of the service: aware UTC datetimes, as every stored time is."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
