"""Writes of the devices app (habit 1)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event
from devices.choices import ClockSource
from devices.models import ClockReading, Device
from orgs.choices import Role

# a clock further off than this is a broken clock or a typing error, not drift
MAX_OFFSET_S = 7 * 86_400


class DeviceError(DomainError):
    pass


def record_clock_reading(device: Device, *, offset_s, source: str, actor, measured_at: datetime | None = None
                         ) -> ClockReading:
    """A measurement of ``device``'s clock (DEV-4), by the unit's custodian or head (or the dock
    agent, ``actor`` None); the device's recordings near it are corrected by it."""
    from recordings.clock import recorrect_device

    if actor is not None and not (actor.unit_id == device.unit_id and actor.has_role(Role.CUSTODIAN, Role.UNIT_HEAD)):
        raise PermissionDeniedError(_("只有该设备所属机构的记录仪管理员或负责人可以登记时钟偏差。"))
    if source not in ClockSource.values:
        raise DeviceError(_("请选择测量方式。"))
    try:
        offset = float(offset_s)
    except (TypeError, ValueError) as exc:
        raise DeviceError(_("时钟偏差应为秒数。")) from exc
    if not (abs(offset) <= MAX_OFFSET_S):
        raise DeviceError(_("时钟偏差超过 7 天，请检查设备时钟或输入。"))
    measured_at = measured_at or timezone.now()
    if measured_at > timezone.now():
        raise DeviceError(_("测量时间不能晚于现在。"))
    with transaction.atomic():
        reading = ClockReading.objects.create(device=device, measured_at=measured_at, offset_s=offset, source=source,
                                              recorded_by=actor)
        corrected = recorrect_device(device, actor=actor)
        record_event(EventCode.DEVICE_CLOCK_MEASURED, actor=actor, actor_name=None if actor else _("采集站"),
                     subject=device, details={"device_serial": device.serial, "clock_offset_s": round(offset, 1),
                                              "clock_source": source, "records": corrected})
    return reading
