"""The 24-hour upload rule (ING-3): flag, never refuse."""

from __future__ import annotations

from datetime import datetime, timedelta

UPLOAD_WINDOW = timedelta(hours=24)


def upload_deadline(start: datetime | None, end: datetime | None, duration_s: float | None) -> datetime | None:
    """Deadline counts from the recording's end; estimate the end from start + duration."""
    if end is None and start is not None and duration_s:
        end = start + timedelta(seconds=duration_s)
    if end is None:
        end = start
    return end + UPLOAD_WINDOW if end is not None else None


def is_on_time(deadline: datetime | None, received_at: datetime) -> bool | None:
    """True / False, or None when the recording time is unknown."""
    if deadline is None:
        return None
    return received_at <= deadline
