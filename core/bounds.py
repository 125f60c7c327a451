"""Bounded values for every boundary: ids, calendar days, instants (issue 6).

One definition per kind of value, used by the web forms (``core.forms``), the API
parameters (``api.schemas``), the URL converters (``config.urls``) and the tus metadata
parser, so that no request can carry a value that overflows the database or the date
arithmetic behind it. A value outside these bounds is bad input: a clear 4xx, never a 500.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.urls.converters import IntConverter
from django.utils import timezone

# SQLite INTEGER and PostgreSQL bigint (every primary key is a BigAutoField).
MAX_ID = 2**63 - 1
# The calendar a person can ask about. Wide enough for any real record, narrow enough that
# "the day after" and "24 hours later" never overflow.
DATE_MIN = date(1970, 1, 1)
DATE_MAX = date(2099, 12, 31)

_ID = re.compile(r"[0-9]{1,19}")


def parse_id(value) -> int | None:
    """``value`` as a database id (1 … MAX_ID), or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        if not _ID.fullmatch(text):
            return None
        number = int(text)
    return number if 1 <= number <= MAX_ID else None


def date_in_bounds(day: date) -> bool:
    return DATE_MIN <= day <= DATE_MAX


def datetime_in_bounds(instant: datetime) -> bool:
    """The instant's calendar day, as written in its own zone, is within the bounds.

    No zone conversion: converting 0001-01-01 00:00+08:00 to UTC would itself overflow.
    """
    return date_in_bounds(instant.date())


def local_day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the platform's time zone (aware)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def period_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """The local calendar days [date_from, date_to] (inclusive) as instants [start, end)."""
    return (
        local_day_start(date_from) if date_from else None,
        local_day_start(date_to + timedelta(days=1)) if date_to else None,
    )


def within_q(field: str, bounds: tuple[datetime | None, datetime | None]) -> Q:
    """Instants in ``field`` within [start, end) (either end open when None)."""
    start, end = bounds
    q = Q()
    if start:
        q &= Q(**{f"{field}__gte": start})
    if end:
        q &= Q(**{f"{field}__lt": end})
    return q


def period_q(field: str, date_from: date | None, date_to: date | None) -> Q:
    """Instants in ``field`` within the local calendar days [date_from, date_to] (inclusive)."""
    return within_q(field, period_bounds(date_from, date_to))


def today_start() -> datetime:
    """Local midnight today: every "today" on the platform counts from here, not from UTC."""
    return local_day_start(timezone.localdate())


class SizeConverter(IntConverter):
    """``<size:size>``: a tree size or leaf index, 0 to 2**53 − 1, else the URL does not match."""

    regex = "[0-9]{1,16}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > 2**53 - 1:
            raise ValueError(value)
        return number


class IdConverter:
    """``<id:pk>`` in URL patterns: a database id, else the URL does not match (404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(int(value))
