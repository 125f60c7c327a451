"""Every write to the catalogue (habit 1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from custody.choices import EventCode
from custody.services import record_event
from devices.models import Device
from orgs.models import Person, Unit
from recordings.capture_time import TIME_CODES, capture_time_problem, edit_time_error
from recordings.choices import LateReason, TimeSource
from recordings.clock import corrected, offset_for
from recordings.data import MediaInfo, RecordingMetadata
from recordings.deadlines import UPLOAD_WINDOW, is_on_time, upload_deadline
from recordings.errors import MetadataInvalidError
from recordings.flags import CODE_INGEST, CODE_MEDIA, Flag, apply_flags, current_flags, without
from recordings.models import EDITABLE_FIELDS, Recording, RecordingOfficer
from storage.models import StoredObject


def _resolve_unit(actor, unit_id: int | None) -> Unit:
    unit_id = unit_id or actor.unit_id
    if not unit_id:
        raise MetadataInvalidError(_("无法确定采集机构：上传人未归属执法机构，请选择采集机构。"))
    unit = Unit.objects.select_related("department").filter(pk=unit_id).first()
    if unit is None:
        raise MetadataInvalidError(_("所选采集机构不存在。"))
    return unit


def register_recording(
    *,
    actor,
    original: StoredObject,
    filename: str,
    raw_filename: str,
    media: MediaInfo,
    metadata: RecordingMetadata,
    received_at: datetime,
    flag_reason: str = "",
) -> Recording:
    """Catalogue one stored original. Times from the media win over the filename.

    A capture time the record cannot have (after its arrival, or before devices existed) is
    flagged and does not decide timeliness: the deadline counts from the arrival and the
    timeliness stays unknown until someone corrects the time (ING-3).
    """
    unit = _resolve_unit(actor, metadata.unit_id)
    start, end = metadata.start_time, metadata.end_time
    device = Device.objects.filter(serial=metadata.device_serial).first() if metadata.device_serial else None
    # DEV-4: the device's measured clock drift, where known (recordings.clock)
    offset = offset_for(device.pk if device else None, start) if metadata.time_source != TimeSource.MANUAL else None
    raw_start, raw_end = start, end
    start, end = corrected(start, end, offset)
    if start == raw_start:
        offset = None
    flags = [Flag(CODE_INGEST, flag_reason)] if flag_reason else []
    if media.problem:
        flags.append(Flag(CODE_MEDIA, media.problem))
    time_code, time_message = capture_time_problem(start, reference=received_at)
    if not time_code and end is None and start is not None and media.duration_s:
        end = start + timedelta(seconds=media.duration_s)
        if offset is not None:
            raw_end = end + timedelta(seconds=offset)
    if time_code:
        flags.append(Flag(time_code, time_message))
        deadline, on_time = received_at + UPLOAD_WINDOW, None
    else:
        deadline = upload_deadline(start, end, media.duration_s)
        on_time = is_on_time(deadline, received_at)
    officer = None
    if metadata.primary_officer_id:
        officer = Person.objects.filter(pk=metadata.primary_officer_id).first()
    elif metadata.badge_number:
        officer = Person.objects.filter(badge_number=metadata.badge_number).first()
    with transaction.atomic():
        recording = Recording(
            original=original,
            original_filename=filename[:255],
            raw_filename=raw_filename,
            media_kind=media.kind,
            mime_type=media.mime_type,
            container=media.container,
            video_codec=media.video_codec,
            audio_codec=media.audio_codec,
            duration_s=media.duration_s,
            width=media.width,
            height=media.height,
            probe=media.raw,
            playable=media.playable,
            device=device,
            device_serial=metadata.device_serial,
            badge_number=metadata.badge_number,
            primary_officer=officer,
            unit=unit,
            department=unit.department,
            start_time=start,
            end_time=end,
            raw_start_time=raw_start if offset is not None else None,
            raw_end_time=raw_end if offset is not None else None,
            clock_offset_s=offset,
            time_source=metadata.time_source,
            place=metadata.place,
            case_number=metadata.case_number.strip(),
            party=metadata.party.strip(),
            handler=metadata.handler,
            matter_type=metadata.matter_type,
            notes=metadata.notes,
            is_important=metadata.is_important,
            uploaded_by=actor,
            received_at=received_at,
            upload_deadline=deadline,
            on_time=on_time,
            late_reason=metadata.late_reason if on_time is False else "",
            late_reason_text=metadata.late_reason_text if on_time is False else "",
        )
        apply_flags(recording, flags)
        recording.save(force_insert=True)
        officer_ids = set(metadata.officer_ids)
        if officer is not None:
            officer_ids.add(officer.pk)
        if officer_ids:
            recording.officers.set(
                Person.objects.filter(pk__in=officer_ids), through_defaults={"recording_start": start}
            )
        record_event(
            EventCode.CATALOGUED,
            actor=actor,
            subject=recording,
            details={
                "filename": recording.original_filename,
                "sha256": original.sha256,
                "sm3": original.sm3,
                "size": original.size,
                "media_kind": recording.media_kind,
                "start_time": start,
                "end_time": end,
                "upload_deadline": deadline,
                "on_time": on_time,
                "flagged": recording.flagged,
                "flags": recording.flags,
            },
        )
        from activities.filing import file_recording
        from activities.integration import match_new_recording
        match_new_recording(recording)  # a pushed activity it belongs to (INT-1)
        file_recording(recording, actor=actor)  # the case and matter it names (REC-9)
    return recording


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


def update_recording_metadata(recording: Recording, *, actor, changes: dict) -> Recording:
    """Edit descriptive metadata; one custody event with before and after. Bytes never change."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise MetadataInvalidError(_("以下字段不可修改：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        before, after = {}, {}
        for name, value in changes.items():
            if isinstance(value, str):
                value = value.strip()
            if getattr(locked, name) != value:
                before[name] = _jsonable(getattr(locked, name))
                after[name] = _jsonable(value)
                setattr(locked, name, value)
        if not after:
            return locked
        if {"start_time", "end_time"} & set(after):
            _check_edited_times(locked)
            before["time_source"], after["time_source"] = locked.time_source, TimeSource.MANUAL
            locked.time_source = TimeSource.MANUAL
            locked.upload_deadline = upload_deadline(locked.start_time, locked.end_time, locked.duration_s)
            locked.on_time = is_on_time(locked.upload_deadline, locked.received_at)
            flags = current_flags(locked)
            kept = without(flags, TIME_CODES)
            if kept != flags:  # a corrected time clears the time flag, and only that one
                before["flags"] = locked.flags
                apply_flags(locked, kept)
                after["flags"] = locked.flags
        if locked.late_reason == LateReason.OTHER and not locked.late_reason_text:
            raise MetadataInvalidError(_("逾期原因为“其他”时须填写说明。"))
        locked.save()
        if "start_time" in after:
            from access.models import AccessRequestItem

            # the copies of the start time access.rules reads a period's grants and links by
            AccessRequestItem.objects.filter(recording=locked).update(recording_start=locked.start_time)
            RecordingOfficer.objects.filter(recording=locked).update(recording_start=locked.start_time)
        record_event(
            EventCode.METADATA_CHANGED,
            actor=actor,
            subject=locked,
            details={"before": before, "after": after},
        )
        if {"case_number", "party", "matter_type"} & set(after):
            from activities.filing import file_recording

            file_recording(locked, actor=actor)  # the case and matter it names now (REC-9)
        recheck_activity_of(locked.pk)
    return locked


def recheck_activity_of(recording_id: int) -> None:
    """The activity a recording belongs to is checked again (its times, lateness or markers
    changed what its findings depend on: activities.findings)."""
    from activities.findings import recompute_activities
    from activities.models import ActivityRecording

    activity_id = ActivityRecording.objects.filter(recording_id=recording_id).values_list("activity_id", flat=True).first()
    if activity_id is not None:
        recompute_activities([activity_id])


def _check_edited_times(recording: Recording) -> None:
    """Edited times must be believable (ING-4): within the window, end not before start."""
    for name in ("start_time", "end_time"):
        message = edit_time_error(getattr(recording, name), reference=recording.received_at)
        if message:
            label = Recording._meta.get_field(name).verbose_name
            raise MetadataInvalidError(f"{label}：{message}")
    if recording.start_time and recording.end_time and recording.end_time < recording.start_time:
        raise MetadataInvalidError(_("结束时间不能早于开始时间。"))


def give_late_reason(recording: Recording, *, actor, reason: str, text: str = "") -> Recording:
    """A late upload asks for a reason (ING-3); recording it never un-flags the lateness."""
    if reason not in LateReason.values:
        raise MetadataInvalidError(_("请选择逾期原因。"))
    if reason == LateReason.OTHER and not text.strip():
        raise MetadataInvalidError(_("逾期原因为“其他”时须填写说明。"))
    if recording.on_time is not False:
        raise MetadataInvalidError(_("该记录按时上传，无需说明逾期原因。"))
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        before = {"late_reason": locked.late_reason, "late_reason_text": locked.late_reason_text}
        locked.late_reason, locked.late_reason_text = reason, text.strip()[:500]
        locked.save(update_fields=["late_reason", "late_reason_text"])
        record_event(
            EventCode.LATE_REASON_GIVEN,
            actor=actor,
            subject=locked,
            details={"before": before, "after": {"late_reason": reason, "late_reason_text": locked.late_reason_text}},
        )
        recheck_activity_of(locked.pk)
    return locked
