"""Recording times corrected by the device's measured clock drift (DEV-4; RZ art. 10, SQ 工作制度
art. 7, DL art. 12): a device's clock is compared with the platform's at docking or before use
(devices.ClockReading); a recording made on it takes the reading nearest its time (within
``READING_REACH``), and its times become the device's times minus that offset. Both are kept:
``raw_start_time`` / ``raw_end_time`` as the device said, ``start_time`` / ``end_time`` corrected
(what deadlines, timelines and lists use). A time a person corrected by hand is theirs: no
measurement changes it again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from custody.choices import EventCode
from custody.services import record_event
from recordings.choices import TimeSource

# a reading tells about the clock this long before and after it was taken
READING_REACH = timedelta(days=30)
# below this, a difference is not worth correcting (the devices keep seconds)
NEGLIGIBLE_S = 1.0


def offset_for(device_id: int | None, instant: datetime | None) -> float | None:
    """The offset of the reading of ``device_id`` nearest ``instant`` (None: none applies)."""
    from devices.models import ClockReading

    if device_id is None or instant is None:
        return None
    window = ClockReading.objects.filter(device_id=device_id, measured_at__gte=instant - READING_REACH,
                                         measured_at__lte=instant + READING_REACH)
    before = window.filter(measured_at__lte=instant).order_by("-measured_at").values_list("measured_at", "offset_s").first()
    after = window.filter(measured_at__gt=instant).order_by("measured_at").values_list("measured_at", "offset_s").first()
    nearest = min((r for r in (before, after) if r is not None), key=lambda r: abs(r[0] - instant), default=None)
    return None if nearest is None else nearest[1]


def corrected(start, end, offset: float | None):
    """``start``, ``end`` as the platform's clock has them."""
    if offset is None or abs(offset) < NEGLIGIBLE_S:
        return start, end
    shift = timedelta(seconds=offset)
    return (start - shift if start else start), (end - shift if end else end)


def recorrect_device(device, *, actor) -> int:
    """Correct again the recordings of ``device`` a new reading may concern; how many changed.
    Each change is a metadata event naming the offset; the activity is checked again."""
    from access.models import AccessRequestItem
    from recordings.deadlines import is_on_time, upload_deadline
    from recordings.models import Recording, RecordingOfficer
    from recordings.services import recheck_activity_of

    changed = 0
    rows = Recording.objects.filter(device=device).exclude(time_source=TimeSource.MANUAL).exclude(
        start_time__isnull=True).select_for_update()
    with transaction.atomic():
        for rec in rows:
            raw_start = rec.raw_start_time or rec.start_time
            raw_end = rec.raw_end_time or rec.end_time
            offset = offset_for(device.pk, raw_start)
            start, end = corrected(raw_start, raw_end, offset)
            if (start, end) == (rec.start_time, rec.end_time) and (offset is None) == (rec.clock_offset_s is None):
                continue
            before = {"start_time": rec.start_time, "end_time": rec.end_time, "clock_offset_s": rec.clock_offset_s}
            rec.raw_start_time, rec.raw_end_time = raw_start, raw_end
            rec.start_time, rec.end_time = start, end
            rec.clock_offset_s = offset if offset is not None and abs(offset) >= NEGLIGIBLE_S else None
            rec.upload_deadline = upload_deadline(start, end, rec.duration_s)
            rec.on_time = is_on_time(rec.upload_deadline, rec.received_at)
            rec.save(update_fields=["raw_start_time", "raw_end_time", "start_time", "end_time", "clock_offset_s",
                                    "upload_deadline", "on_time"])
            AccessRequestItem.objects.filter(recording=rec).update(recording_start=start)
            RecordingOfficer.objects.filter(recording=rec).update(recording_start=start)
            record_event(EventCode.METADATA_CHANGED, actor=actor, subject=rec, details={
                "before": {k: _iso(v) for k, v in before.items()},
                "after": {"start_time": _iso(start), "end_time": _iso(end), "clock_offset_s": rec.clock_offset_s},
            })
            recheck_activity_of(rec.pk)
            changed += 1
    return changed


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value
