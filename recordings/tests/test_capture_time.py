"""Implausible capture times are flagged and never decide timeliness (ING-3, ING-4)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from core.testing import make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event
from recordings.capture_time import CODE_FUTURE, CODE_TOO_OLD, FUTURE_TOLERANCE
from recordings.errors import MetadataInvalidError
from recordings.services import update_recording_metadata

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return make_person("officer", unit=make_unit())


def _aware(*args):
    return timezone.make_aware(datetime(*args))


@pytest.mark.req("ING-3")
@pytest.mark.parametrize("year", [2028, 2099])
def test_future_capture_time_is_flagged_and_deadline_counts_from_arrival(officer, year):
    received = timezone.now()
    recording = make_recording(officer, start_time=_aware(year, 3, 1, 9, 0), received_at=received)
    assert recording.flagged
    assert [f["code"] for f in recording.flags] == [CODE_FUTURE]
    assert "晚于平台接收时间" in recording.flag_reason
    assert recording.upload_deadline == received + timedelta(hours=24)
    assert recording.on_time is None  # not "on time": the time cannot be trusted


@pytest.mark.req("ING-3")
@pytest.mark.parametrize("start", [(1970, 1, 1), (1999, 12, 31, 23, 0), (2000, 1, 1)])
def test_implausibly_old_capture_time_is_flagged(officer, start):
    received = timezone.now()
    recording = make_recording(officer, start_time=_aware(*start), received_at=received)
    assert [f["code"] for f in recording.flags] == [CODE_TOO_OLD]
    assert recording.upload_deadline == received + timedelta(hours=24)
    assert recording.on_time is None


@pytest.mark.req("ING-3")
def test_small_clock_drift_ahead_is_not_a_fault(officer):
    received = timezone.now()
    start = received + FUTURE_TOLERANCE - timedelta(minutes=1)
    recording = make_recording(officer, start_time=start, received_at=received)
    assert not recording.flagged
    assert recording.on_time is True


@pytest.mark.req("ING-3", "ING-4")
def test_correcting_the_time_clears_only_the_time_flag_with_before_and_after(officer):
    received = timezone.now()
    recording = make_recording(officer, start_time=_aware(2099, 1, 1), received_at=received)
    recording.flags = [*recording.flags, {"code": "media", "message": "媒体流无法解码"}]
    recording.save()
    fixed = update_recording_metadata(
        recording, actor=officer, changes={"start_time": received - timedelta(hours=3)}
    )
    assert [f["code"] for f in fixed.flags] == ["media"]
    assert fixed.flagged and fixed.flag_reason == "媒体流无法解码"
    assert fixed.on_time is True
    assert fixed.upload_deadline < received + timedelta(hours=24)
    event = Event.objects.filter(action=EventCode.METADATA_CHANGED).latest("pk")
    assert [f["code"] for f in event.details["before"]["flags"]] == [CODE_FUTURE, "media"]
    assert [f["code"] for f in event.details["after"]["flags"]] == ["media"]
    assert event.details["after"]["time_source"] == "manual"


@pytest.mark.req("ING-3", "ING-4")
def test_correcting_the_only_flag_unflags_the_record(officer):
    received = timezone.now()
    recording = make_recording(officer, start_time=_aware(1970, 1, 1), received_at=received)
    fixed = update_recording_metadata(
        recording, actor=officer, changes={"start_time": received - timedelta(hours=30)}
    )
    assert fixed.flags == [] and not fixed.flagged and fixed.flag_reason == ""
    assert fixed.on_time is False  # the true time shows it was late


@pytest.mark.req("ING-4")
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"start_time": _aware(1900, 1, 1)}, "不能早于"),
        ({"start_time": _aware(2099, 12, 31, 23, 59)}, "不能晚于"),
        ({"end_time": _aware(2099, 12, 31, 23, 59)}, "不能晚于"),
    ],
)
def test_edited_times_outside_the_window_are_refused(officer, changes, message):
    recording = make_recording(officer, start_time=timezone.now() - timedelta(hours=1))
    with pytest.raises(MetadataInvalidError, match=message):
        update_recording_metadata(recording, actor=officer, changes=changes)
    recording.refresh_from_db()
    assert recording.start_time.year == timezone.now().year


@pytest.mark.req("ING-4")
def test_end_before_start_is_refused(officer):
    start = timezone.now() - timedelta(hours=2)
    recording = make_recording(officer, start_time=start)
    with pytest.raises(MetadataInvalidError, match="结束时间不能早于开始时间"):
        update_recording_metadata(
            recording, actor=officer, changes={"end_time": start - timedelta(minutes=5)}
        )
