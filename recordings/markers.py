"""Markers at a second of a recording (REC-4, REC-6, REC-8): who may set them, and the one
service for adding and for removing one, each a custody event; the activity the recording
belongs to is checked again (its content points and interruptions depend on them)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event
from recordings.choices import MarkerKind
from recordings.models import Marker, Recording

# the standing rules under which one reviews a recording (access.rules): not a grant, which is
# for looking, not for ticking
REVIEW_BASES = frozenset({"recorder", "named", "unit", "department", "superior"})


class MarkerError(DomainError):
    pass


def may_mark(person, recording) -> bool:
    from access.rules import decide

    return decide(person, recording, "view").basis in REVIEW_BASES


def _reviewable(recording_id: int, actor) -> Recording:
    recording = Recording.objects.restrict(actor, "view").select_for_update(of=("self",)).filter(
        pk=recording_id).first()
    if recording is None:
        raise NotFoundError(_("记录不存在或您无权查看。"))
    if not may_mark(actor, recording):
        raise PermissionDeniedError(_("经调阅审批查看的记录不能标记。"))
    return recording


def add_marker(recording_id: int, *, actor, offset_s, kind: str, content_point: str = "", note: str = "") -> Marker:
    from activities.catalogs import CONTENT_POINTS
    from recordings.services import recheck_activity_of

    if kind not in MarkerKind.values:
        raise MarkerError(_("标记类型无效。"))
    try:
        offset = float(offset_s)
    except (TypeError, ValueError) as exc:
        raise MarkerError(_("标记位置应为秒数。")) from exc
    if not (offset >= 0) or offset > 86_400:
        raise MarkerError(_("标记位置应在记录时长之内。"))
    note = " ".join((note or "").split())
    if len(note) > 500:
        raise MarkerError(_("说明最多 500 字。"))
    point = content_point if kind == MarkerKind.CONTENT_POINT else ""
    if kind == MarkerKind.CONTENT_POINT and point not in {p.code for p in CONTENT_POINTS}:
        raise MarkerError(_("请选择记录内容要点。"))
    if kind == MarkerKind.NOTE and not note:
        raise MarkerError(_("请填写备注内容。"))
    with transaction.atomic():
        recording = _reviewable(recording_id, actor)
        if recording.duration_s is not None and offset > recording.duration_s:
            raise MarkerError(_("标记位置超出记录时长（%(s)s 秒）。") % {"s": round(recording.duration_s)})
        marker = Marker.objects.create(recording=recording, offset_s=offset, kind=kind, content_point=point,
                                       note=note, created_at=timezone.now(), created_by=actor)
        record_event(EventCode.MARKER_ADDED, actor=actor, subject=recording, details={
            "marker_kind": kind, "content_point": point, "offset_s": round(offset, 1), "comment": note})
        recheck_activity_of(recording.pk)
    return marker


def remove_marker(marker_id: int, *, actor) -> None:
    from recordings.services import recheck_activity_of

    with transaction.atomic():
        marker = Marker.objects.select_for_update().filter(pk=marker_id).first()
        if marker is None:
            raise NotFoundError(_("标记不存在。"))
        recording = _reviewable(marker.recording_id, actor)
        if _used_by_interruption(marker):
            raise MarkerError(_("该标记是某次中断的语音说明，不能删除。"))
        details = {"marker_kind": marker.kind, "content_point": marker.content_point,
                   "offset_s": round(marker.offset_s, 1), "comment": marker.note}
        marker.delete()
        record_event(EventCode.MARKER_REMOVED, actor=actor, subject=recording, details=details)
        recheck_activity_of(recording.pk)


def _used_by_interruption(marker) -> bool:
    from activities.models import Interruption

    return Interruption.objects.filter(marker=marker).exists()
