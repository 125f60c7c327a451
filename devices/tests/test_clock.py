"""Recording times corrected by the device's measured clock drift (DEV-4): the raw and the
corrected times are both kept and shown; a new measurement corrects the device's recordings;
a time corrected by hand stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import PermissionDeniedError
from core.testing import force_login_verified, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event
from devices.models import Device
from devices.services import DeviceError, record_clock_reading
from recordings.services import update_recording_metadata

pytestmark = [pytest.mark.django_db, pytest.mark.req("DEV-4"), pytest.mark.req("ING-4")]


@pytest.fixture
def setup():
    unit = make_unit()
    device = Device.objects.create(serial="A0012345", unit=unit)
    return {"unit": unit, "device": device, "officer": make_person("officer", unit=unit),
            "custodian": make_person("custodian", unit=unit)}


def test_a_recording_of_a_measured_device_keeps_both_times(setup, client):
    start = timezone.now() - timedelta(hours=3)
    record_clock_reading(setup["device"], offset_s=95, source="dock", actor=setup["custodian"],
                         measured_at=start - timedelta(days=1))
    rec = make_recording(setup["officer"], start_time=start, duration_s=600, device_serial="A0012345")
    assert rec.raw_start_time == start and rec.clock_offset_s == 95
    assert rec.start_time == start - timedelta(seconds=95)
    assert rec.end_time == rec.start_time + timedelta(seconds=600) and rec.raw_end_time == start + timedelta(seconds=600)
    force_login_verified(client, setup["officer"])
    body = client.get(f"/recordings/{rec.pk}/").content.decode()
    assert "设备时钟快 95 秒" in body


def test_a_new_measurement_corrects_the_devices_recordings_and_is_recorded(setup):
    start = timezone.now() - timedelta(hours=3)
    rec = make_recording(setup["officer"], start_time=start, duration_s=60, device_serial="A0012345")
    assert rec.clock_offset_s is None and rec.raw_start_time is None
    other = make_recording(setup["officer"], start_time=start, duration_s=60)  # another device
    record_clock_reading(setup["device"], offset_s=-40, source="manual", actor=setup["custodian"])
    rec.refresh_from_db()
    other.refresh_from_db()
    assert rec.start_time == start + timedelta(seconds=40) and rec.raw_start_time == start
    assert other.start_time == start
    event = Event.objects.get(action=EventCode.DEVICE_CLOCK_MEASURED)
    assert event.details == {"device_serial": "A0012345", "clock_offset_s": "-40.0", "clock_source": "manual",
                             "records": 1}
    changed = Event.objects.filter(action=EventCode.METADATA_CHANGED, subject_id=str(rec.pk)).get()
    assert float(changed.details["after"]["clock_offset_s"]) == -40.0  # the log keeps numbers canonical as text


def test_a_time_corrected_by_hand_stays(setup):
    start = timezone.now() - timedelta(hours=3)
    rec = make_recording(setup["officer"], start_time=start, duration_s=60, device_serial="A0012345")
    update_recording_metadata(rec, actor=setup["custodian"], changes={"start_time": start - timedelta(minutes=5)})
    record_clock_reading(setup["device"], offset_s=300, source="dock", actor=None)
    rec.refresh_from_db()
    assert rec.start_time == start - timedelta(minutes=5)


def test_bad_readings_are_refused(setup):
    for value, message in ((8 * 86400, "超过 7 天"), ("abc", "秒数"), (float("nan"), "超过 7 天")):
        with pytest.raises(DeviceError, match=message):
            record_clock_reading(setup["device"], offset_s=value, source="dock", actor=setup["custodian"])
    with pytest.raises(DeviceError, match="测量方式"):
        record_clock_reading(setup["device"], offset_s=1, source="guess", actor=setup["custodian"])
    with pytest.raises(PermissionDeniedError):
        record_clock_reading(setup["device"], offset_s=1, source="dock", actor=setup["officer"])
    outsider = make_person("custodian", unit=make_unit())
    with pytest.raises(PermissionDeniedError):
        record_clock_reading(setup["device"], offset_s=1, source="dock", actor=outsider)
    assert not setup["device"].clock_readings.exists()
