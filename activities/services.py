"""Every write of cases, activities and their recordings (habit 1: one service per state change,
its custody event in the same transaction). REC-9, INT-1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.catalog import matter_for
from activities.choices import CaseStage, LinkSource, PartyKind
from activities.filing import file_for_case
from activities.filing import key as case_key
from activities.findings import recompute_activities
from activities.models import Activity, ActivityRecording, Case
from activities.parties import normalize_uscc, uscc_error
from activities.rules import can_edit_activity, can_keep_cases, can_record_activity
from core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event

MAX_OFFICERS = 20


class ActivityError(DomainError):
    pass


def _text(value, limit: int, message: str, *, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if (required and not value) or len(value) > limit:
        raise ActivityError(message)
    return value


# ---------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class CaseValues:
    number: str
    party_name: str
    party_kind: str = PartyKind.ORGANIZATION
    party_uscc: str = ""
    title: str = ""
    handler_id: int | None = None
    opened_on: date | None = None
    external_system: str = ""
    external_id: str = ""


def create_case(department, values: CaseValues, *, actor) -> Case:
    """A case of ``department`` (案号 unique in it). Pushed by a case-handling system
    (``external_system`` + ``external_id``), the same case pushed again is the one returned —
    pushing is idempotent (INT-1)."""
    if not can_keep_cases(actor, department):
        raise PermissionDeniedError(_("您不能登记本部门的案件。"))
    number = _text(values.number, 100, _("请填写案号（最多 100 字）。"))
    party = _text(values.party_name, 200, _("请填写当事人（最多 200 字）。"))
    title = _text(values.title, 200, _("案由最多 200 字。"), required=False)
    if values.party_kind not in PartyKind.values:
        raise ActivityError(_("请选择当事人类型。"))
    uscc = normalize_uscc(values.party_uscc)
    if values.party_kind == PartyKind.PERSON:
        uscc = ""
    elif uscc and (why := uscc_error(uscc)):
        raise ActivityError(why)
    system = _text(values.external_system, 64, _("来源系统最多 64 字。"), required=False)
    external_id = _text(values.external_id, 100, _("来源系统编号最多 100 字。"), required=False)
    if bool(system) != bool(external_id):
        raise ActivityError(_("来源系统与来源系统编号须同时填写。"))
    handler = _department_person(department, values.handler_id, _("承办人须为本部门人员。"))
    try:
        with transaction.atomic():
            if external_id:
                existing = Case.objects.filter(external_system=system, external_id=external_id).first()
                if existing is not None:
                    if existing.department_id != department.pk:
                        raise ConflictError(_("该来源系统编号已用于其他部门的案件。"))
                    return existing
            if Case.objects.filter(department=department, number=number).exists():
                raise ConflictError(_("本部门已有案号为“%(number)s”的案件。") % {"number": number})
            case = Case.objects.create(
                department=department, number=number, number_key=case_key(number), title=title,
                party_kind=values.party_kind,
                party_name=party, party_uscc=uscc, handler=handler, stage=CaseStage.START,
                opened_on=values.opened_on, external_system=system, external_id=external_id,
                created_at=timezone.now(), created_by=actor,
            )
            record_event(EventCode.CASE_CREATED, actor=actor, subject=case,
                         also=[("department", str(department.pk))],
                         details={"case_number": number, "party": party, "case_stage": case.stage,
                                  "external_system": system})
            file_for_case(case, actor=actor)  # the recordings that named it before (REC-9)
    except IntegrityError as exc:  # the same number or external id, created concurrently
        raise ConflictError(_("本部门已有案号为“%(number)s”的案件。") % {"number": number}) from exc
    return case


def _case_for(case_id: int, actor) -> Case:
    from activities.selectors import list_cases

    case = list_cases(actor).select_for_update().filter(pk=case_id).first()
    if case is None:
        raise NotFoundError(_("案件不存在或您无权查看。"))
    if not can_keep_cases(actor, case.department):
        raise PermissionDeniedError(_("您不能修改该案件。"))
    return case


STAGE_ORDER = {stage: n for n, stage in enumerate(CaseStage.values)}


def advance_case_stage(case_id: int, *, actor, stage: str) -> Case:
    """The case moves on to a later stage (启动 → 调查取证 → 审查决定 → 送达执行), never back,
    and not once it is closed (closing puts it in 送达执行)."""
    if stage not in STAGE_ORDER:
        raise ActivityError(_("请选择办案阶段。"))
    with transaction.atomic():
        case = _case_for(case_id, actor)
        if case.closed_on is not None:
            raise ConflictError(_("该案件已于 %(d)s 结案，办案阶段不能再变更。") % {"d": case.closed_on.isoformat()})
        previous = case.stage
        if STAGE_ORDER[stage] <= STAGE_ORDER.get(previous, -1):
            raise ActivityError(_("办案阶段只能向后推进：案件现处于“%(current)s”阶段。") % {
                "current": CaseStage(previous).label if previous in STAGE_ORDER else previous})
        case.stage = stage
        case.save(update_fields=["stage"])
        record_event(EventCode.CASE_STAGE_CHANGED, actor=actor, subject=case,
                     details={"case_number": case.number, "case_stage": stage, "previous_stage": previous})
    return case


def close_case(case_id: int, *, actor, closed_on: date) -> Case:
    """The case ends (行政执法行为终结): its file is due in the archive 30 days later (REC-9)."""
    from activities.compliance import ARCHIVE_DAYS
    from activities.findings import recompute_case

    if not isinstance(closed_on, date) or closed_on > timezone.localdate():
        raise ActivityError(_("请填写结案日期（不能晚于今天）。"))
    with transaction.atomic():
        case = _case_for(case_id, actor)
        if case.closed_on is not None:
            raise ConflictError(_("该案件已于 %(d)s 结案。") % {"d": case.closed_on.isoformat()})
        if case.opened_on and closed_on < case.opened_on:
            raise ActivityError(_("结案日期不能早于立案日期。"))
        case.closed_on, case.stage = closed_on, CaseStage.EXECUTION
        case.archive_due = closed_on + timedelta(days=ARCHIVE_DAYS)
        case.save(update_fields=["closed_on", "stage", "archive_due"])
        record_event(EventCode.CASE_CLOSED, actor=actor, subject=case,
                     details={"case_number": case.number, "closed_on": closed_on})
        recompute_case(case)
    return case


def archive_case(case_id: int, *, actor, archived_on: date) -> Case:
    """The case file is archived (立卷、归档)."""
    from activities.findings import recompute_case

    if not isinstance(archived_on, date) or archived_on > timezone.localdate():
        raise ActivityError(_("请填写归档日期（不能晚于今天）。"))
    with transaction.atomic():
        case = _case_for(case_id, actor)
        if case.closed_on is None:
            raise ConflictError(_("案件尚未结案，不能归档。"))
        if case.archived_on is not None:
            raise ConflictError(_("该案卷已于 %(d)s 归档。") % {"d": case.archived_on.isoformat()})
        if archived_on < case.closed_on:
            raise ActivityError(_("归档日期不能早于结案日期。"))
        case.archived_on = archived_on
        case.save(update_fields=["archived_on"])
        record_event(EventCode.CASE_ARCHIVED, actor=actor, subject=case,
                     details={"case_number": case.number, "archived_on": archived_on})
        recompute_case(case)
    return case


def _department_person(department, person_id, message):
    if person_id is None:
        return None
    from orgs.models import Person

    person = Person.objects.filter(pk=person_id, is_active=True, department=department).first()
    if person is None:
        raise ActivityError(message)
    return person


# ---------------------------------------------------------------------------- activities


@dataclass(frozen=True)
class ActivityValues:
    matter_id: int
    title: str
    officer_ids: tuple[int, ...] = ()
    case_id: int | None = None
    place: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    party_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    external_system: str = ""
    external_id: str = ""
    device_serials: tuple[str, ...] = ()  # the recording devices used (matching: activities.integration)


def create_activity(unit, values: ActivityValues, *, actor) -> Activity:
    """An activity of ``unit`` under the version of its matter that binds the unit's department
    now (the activity keeps that version)."""
    department = unit.department
    if not can_record_activity(actor, unit):
        raise PermissionDeniedError(_("您不能登记该执法机构的执法活动。"))
    binding = matter_for(department, values.matter_id)
    matter = binding.matter
    title = _text(values.title, 200, _("请填写活动名称（最多 200 字）。"))
    place = _text(values.place, 200, _("地点最多 200 字。"), required=False)
    party = _text(values.party_name, 200, _("当事人最多 200 字。"), required=False)
    if values.starts_at and values.ends_at and values.ends_at <= values.starts_at:
        raise ActivityError(_("结束时间须晚于开始时间。"))
    lat, lon = values.latitude, values.longitude
    if (lat is None) != (lon is None):
        raise ActivityError(_("经纬度须同时填写。"))
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ActivityError(_("经纬度超出范围。"))
    officers = _officers(department, values.officer_ids)
    case = None
    if values.case_id is not None:
        case = Case.objects.filter(pk=values.case_id, department=department).first()
        if case is None:
            raise ActivityError(_("案件不存在，或不属于本部门。"))
    system = _text(values.external_system, 64, _("来源系统最多 64 字。"), required=False)
    external_id = _text(values.external_id, 100, _("来源系统编号最多 100 字。"), required=False)
    if bool(system) != bool(external_id):
        raise ActivityError(_("来源系统与来源系统编号须同时填写。"))
    serials = list(dict.fromkeys(" ".join(str(v).split()) for v in values.device_serials if str(v).strip()))
    if len(serials) > MAX_OFFICERS or any(len(v) > 64 for v in serials):
        raise ActivityError(_("记录设备最多 %(n)s 台，序列号各最多 64 字。") % {"n": MAX_OFFICERS})
    try:
        with transaction.atomic():
            if external_id:
                existing = Activity.objects.filter(external_system=system, external_id=external_id).first()
                if existing is not None:
                    if existing.unit_id != unit.pk:
                        raise ConflictError(_("该来源系统编号已用于其他执法机构的活动。"))
                    return existing
            activity = Activity.objects.create(
                department=department, unit=unit, matter=matter, required_level=binding.level,
                required_points=list(binding.content_points), case=case, title=title, place=place,
                latitude=lat, longitude=lon, starts_at=values.starts_at, ends_at=values.ends_at,
                party_name=party, external_system=system, external_id=external_id, device_serials=serials,
                created_at=timezone.now(), created_by=actor,
            )
            activity.officers.set(officers)
            also = [("department", str(department.pk)), ("unit", str(unit.pk))]
            if case is not None:
                also.append(case)
            record_event(EventCode.ACTIVITY_CREATED, actor=actor, subject=activity, also=also, details={
                "title": title, "matter": matter.name, "matter_level": binding.level,
                "case_number": case.number if case else "", "officers": len(officers),
                "starts_at": values.starts_at, "ends_at": values.ends_at, "external_system": system,
                "devices": len(serials),
            })
            recompute_activities([activity.pk])
    except IntegrityError as exc:
        raise ConflictError(_("该来源系统编号已用于其他执法活动。")) from exc
    return activity


def _officers(department, officer_ids) -> list:
    """The activity's officers: people of its department (REC-9: usually two or more)."""
    from orgs.models import Person

    try:
        ids = list(dict.fromkeys(int(pk) for pk in officer_ids))
    except (TypeError, ValueError) as exc:
        raise ActivityError(_("执法人员无效。")) from exc
    if not ids:
        raise ActivityError(_("请至少选择一名执法人员。"))
    if len(ids) > MAX_OFFICERS:
        raise ActivityError(_("执法人员最多 %(n)s 名。") % {"n": MAX_OFFICERS})
    people = list(Person.objects.filter(pk__in=ids, is_active=True, department=department))
    if len(people) != len(ids):
        raise ActivityError(_("执法人员须为本部门在职人员。"))
    return people


# ---------------------------------------------------------------------------- recordings of an activity


def link_recording(activity_id: int, recording_id: int, *, actor, source: str = LinkSource.MANUAL) -> ActivityRecording:
    """Link a recording the actor may view to an activity they keep; a recording belongs to one
    activity at most."""
    from recordings.models import Recording

    if source not in LinkSource.values:
        raise ActivityError(_("关联方式无效。"))
    with transaction.atomic():
        activity = _editable(activity_id, actor)
        recording = Recording.objects.restrict(actor, "view").filter(pk=recording_id).first()
        if recording is None:
            raise NotFoundError(_("记录不存在或您无权查看。"))
        if recording.department_id != activity.department_id:
            raise ActivityError(_("只能关联本部门采集的记录。"))
        current = ActivityRecording.objects.select_for_update().filter(recording=recording).first()
        if current is not None:
            if current.activity_id == activity.pk:
                raise ConflictError(_("该记录已关联到本活动。"))
            raise ConflictError(_("该记录已关联到另一执法活动，请先取消原关联。"))
        try:
            with transaction.atomic():
                link = ActivityRecording.objects.create(activity=activity, recording=recording, source=source,
                                                        linked_at=timezone.now(), linked_by=actor)
        except IntegrityError as exc:  # linked concurrently
            raise ConflictError(_("该记录已关联到另一执法活动，请先取消原关联。")) from exc
        record_event(EventCode.RECORDING_LINKED, actor=actor, subject=recording, also=[activity],
                     details={"activity": activity.pk, "title": activity.title, "link_source": source})
        recompute_activities([activity.pk])
    return link


def unlink_recording(activity_id: int, recording_id: int, *, actor, comment: str) -> None:
    comment = _text(comment, 500, _("请写明取消关联的理由（最多 500 字）。"))
    with transaction.atomic():
        activity = _editable(activity_id, actor)
        link = ActivityRecording.objects.select_for_update().filter(
            activity=activity, recording_id=recording_id).first()
        if link is None:
            raise NotFoundError(_("该记录未关联到本活动。"))
        link.delete()
        record_event(EventCode.RECORDING_UNLINKED, actor=actor, subject=("recording", str(recording_id)),
                     also=[activity], details={"activity": activity.pk, "title": activity.title, "comment": comment})
        recompute_activities([activity.pk])


def _editable(activity_id: int, actor) -> Activity:
    from activities.selectors import get_activity

    activity = get_activity(actor, activity_id, lock=True)
    if activity is None:
        raise NotFoundError(_("执法活动不存在或您无权查看。"))
    if not can_edit_activity(actor, activity):
        raise PermissionDeniedError(_("您不能修改该执法活动。"))
    return activity
