"""The retain-until date a new original is committed with (RET-1, SAMR art. 13).

Until the retention issue computes each recording's earliest lawful disposal date, every original
is kept at least ``RETENTION_FLOOR_DAYS`` (default 730: two years) from the day it is stored —
later than two years from the day it was recorded, so never too short. On S3 the object lock
carries this date; the retention issue extends it (``extend_retention``), never shortens it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone


def retention_floor() -> datetime:
    return timezone.now() + timedelta(days=settings.RETENTION_FLOOR_DAYS)
