"""Scalars whose parsing the API tightens: every DateTime argument and input field goes through here."""

from __future__ import annotations

from datetime import datetime, timezone

import dateutil.parser

from schema.runtime.graphql_internals import datetime_scalar

# A day's margin inside Python's calendar (years 1 to 9999): comparisons, a UTC
# conversion in the driver or a day added by a rule never overflow.
EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)


def parse_datetime(text: str) -> datetime:
    """ISO 8601 as strawberry reads it, refused (ValueError) when it lies at the very edge of the calendar.

    `0001-01-01T00:00:00+14:00` parses, but is in year 0 once converted to UTC:
    the SQLite adapter, asyncpg's encoder and any comparison with an aware time
    would raise OverflowError deep inside a resolver (an unexpected error).
    """
    try:
        value = dateutil.parser.isoparse(text)
        aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        inside = EARLIEST <= aware.astimezone(timezone.utc) <= LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise ValueError(f"it is outside {EARLIEST.date()} to {LATEST.date()} (UTC).")
    return value


DateTime = datetime_scalar(parse_datetime)

SCALAR_OVERRIDES = {datetime: DateTime}
