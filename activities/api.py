"""/api/v1/cases, /api/v1/activities, /api/v1/documents: what case-handling and supervision
systems push, and what they read back (INT-1).

Pushing (token scope ``integrate``): a case, an activity or inspection task (双随机 task), the
particulars of a document. Each push names its system and its id there (``external_system`` +
``external_id``) and is idempotent by them: pushed again, the same row is answered (200, not
changed) instead of a second one (201 the first time). The pushing token's person is the actor
of every write, under the platform's ordinary rules (a case of their department; an activity of
their unit, or of their department for its head). A pushed activity is matched to the
recordings already uploaded (activities.integration), and later recordings to it.

Reading (token scope ``read``): the activity, the case and their findings, as the token's person
may see them (activities.selectors); anything else is 404, never 403.

Every field is bounded (ids, lengths, days, instants: api.schemas); refusals are the API's one
error shape with a Chinese message.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from activities.catalog import effective_catalog
from activities.choices import CaseStage, DocumentType, FindingState, PartyKind
from activities.documents import DocumentError, add_document
from activities.integration import match_recordings_for
from activities.models import Activity, ActivityRecording, Case, CaseDocument, ComplianceFinding
from activities.selectors import (
    activity_recordings,
    get_activity,
    list_activities,
    list_cases,
    list_findings,
)
from activities.services import (
    MAX_OFFICERS,
    ActivityValues,
    CaseValues,
    create_activity,
    create_case,
)
from api.auth import api_auth
from api.choices import TokenScope
from api.schemas import Day, ErrorOut, Id, Instant, PageMeta, PageParams, Text, page_of
from core.errors import ConflictError, DomainError, NotFoundError

router = Router(tags=["对接推送"], auth=api_auth(TokenScope.READ))

PUSH_AUTH = api_auth(TokenScope.INTEGRATE)
MAX_SERIALS = 20

_READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_PUSH_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class PushError(DomainError):
    code = "push_invalid"


def _clean(value: str) -> str:
    return " ".join((value or "").split())


def _aware(value: datetime | None) -> datetime | None:
    """An instant without a zone is read in the platform's time zone."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def _source(system: str, external_id: str) -> tuple[str, str]:
    system, external_id = _clean(system), _clean(external_id)
    if not system or not external_id:
        raise PushError(_("请填写来源系统（external_system）与来源系统编号（external_id）：推送按二者去重。"))
    return system, external_id


# --- schemas: what is pushed -------------------------------------------------------------

BadgeNumber = Annotated[Text, Field(min_length=1, max_length=32)]
DeviceSerial = Annotated[Text, Field(min_length=1, max_length=64)]
MatterCode = Annotated[Text, Field(min_length=1, max_length=100, description="事项编码：<清单>:<编码>，如 samr:seizure")]

CASE_EXAMPLE = {
    "department_id": 3,
    "number": "承双市监处罚〔2026〕15号",
    "title": "销售过期食品案",
    "party_kind": "organization",
    "party_name": "某某食品有限公司",
    "party_uscc": "91110000600037341L",
    "handler_badge_number": "13080001",
    "opened_on": "2026-11-18",
    "external_system": "办案系统",
    "external_id": "AJ-2026-000815",
}

ACTIVITY_EXAMPLE = {
    "unit_id": 7,
    "matter": "samr:inspection_art41",
    "title": "双随机抽查：某某食品有限公司",
    "place": "承德市双桥区某路1号",
    "starts_at": "2026-11-20T09:30:00+08:00",
    "ends_at": "2026-11-20T10:30:00+08:00",
    "officer_badge_numbers": ["13080001", "13080002"],
    "device_serials": ["A0012345"],
    "party_name": "某某食品有限公司",
    "case_external_id": "AJ-2026-000815",
    "external_system": "双随机监管系统",
    "external_id": "SSJ-2026-11-0042",
}

DOCUMENT_EXAMPLE = {
    "activity_external_id": "SSJ-2026-11-0042",
    "activity_external_system": "双随机监管系统",
    "doc_type": "site_record",
    "number": "承双市监现〔2026〕88号",
    "doc_date": "2026-11-20",
    "stated_start": "2026-11-20T09:32:00+08:00",
    "stated_end": "2026-11-20T10:25:00+08:00",
    "stage": "investigation",
    "external_system": "办案系统",
    "external_id": "WS-2026-003311",
}


class CaseIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [CASE_EXAMPLE]})

    department_id: Id = Field(description="办案部门编号")
    number: Text = Field(min_length=1, max_length=100, description="案号（本部门内唯一）")
    title: Text = Field("", max_length=200, description="案由")
    party_kind: Literal[tuple(PartyKind.values)] = Field(  # type: ignore[valid-type]
        PartyKind.ORGANIZATION.value, description="当事人类型：organization 单位；person 自然人")
    party_name: Text = Field(min_length=1, max_length=200, description="当事人")
    party_uscc: Text = Field("", max_length=32, description="统一社会信用代码（单位，18 位，核对校验位）")
    handler_badge_number: Text = Field("", max_length=32, description="承办人执法证号（本部门人员，可不填）")
    opened_on: Day | None = Field(None, description="立案日期")
    external_system: Text = Field(min_length=1, max_length=64, description="来源系统（如“办案系统”）")
    external_id: Text = Field(min_length=1, max_length=100, description="案件在来源系统中的编号：与来源系统一起用于去重")


class ActivityIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [ACTIVITY_EXAMPLE]})

    unit_id: Id = Field(description="执法机构编号")
    matter: Id | MatterCode = Field(description="执法事项：编号，或“清单:编码”（如 samr:seizure、samr:inspection_art41）")
    title: Text = Field(min_length=1, max_length=200, description="活动名称（如双随机抽查任务名称）")
    place: Text = Field("", max_length=200, description="地点")
    starts_at: Instant | None = Field(None, description="开始时间（文书或任务记载；未带时区按平台时区）")
    ends_at: Instant | None = Field(None, description="结束时间（须晚于开始时间）")
    officer_badge_numbers: list[BadgeNumber] = Field(
        min_length=1, max_length=MAX_OFFICERS, description="执法人员的执法证号（须为该机构所属部门的在职人员）")
    device_serials: list[DeviceSerial] = Field(
        [], max_length=MAX_SERIALS, description="使用的执法记录仪序列号（用于自动关联音像记录）")
    party_name: Text = Field("", max_length=200, description="当事人")
    case_id: Id | None = Field(None, description="所属案件编号（平台编号）")
    case_external_id: Text = Field("", max_length=100, description="所属案件在来源系统中的编号")
    case_external_system: Text = Field("", max_length=64, description="所属案件的来源系统（缺省与本活动相同）")
    external_system: Text = Field(min_length=1, max_length=64, description="来源系统（如“双随机监管系统”）")
    external_id: Text = Field(min_length=1, max_length=100, description="活动或任务在来源系统中的编号：与来源系统一起用于去重")


class DocumentIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [DOCUMENT_EXAMPLE]})

    case_id: Id | None = Field(None, description="所属案件编号（平台编号）")
    case_external_id: Text = Field("", max_length=100, description="所属案件在来源系统中的编号")
    case_external_system: Text = Field("", max_length=64, description="所属案件的来源系统（缺省与本文书相同）")
    activity_id: Id | None = Field(None, description="所属执法活动编号（平台编号）")
    activity_external_id: Text = Field("", max_length=100, description="所属执法活动在来源系统中的编号")
    activity_external_system: Text = Field("", max_length=64, description="所属执法活动的来源系统（缺省与本文书相同）")
    doc_type: Literal[tuple(DocumentType.values)] = Field(description="文书类型")  # type: ignore[valid-type]
    number: Text = Field("", max_length=100, description="文书编号")
    doc_date: Day | None = Field(None, description="文书日期")
    stated_start: Instant | None = Field(None, description="文书记载的开始时间（与音像记录比对）")
    stated_end: Instant | None = Field(None, description="文书记载的结束时间")
    stage: Literal[("", *CaseStage.values)] = Field("", description="办案阶段")  # type: ignore[valid-type]
    external_system: Text = Field(min_length=1, max_length=64, description="来源系统")
    external_id: Text = Field(min_length=1, max_length=100, description="文书在来源系统中的编号：与来源系统一起用于去重")


# --- schemas: what is answered -----------------------------------------------------------


class PersonRef(Schema):
    id: int
    full_name: str
    badge_number: str


class UnitRef(Schema):
    id: int
    name: str
    code: str


class MatterRef(Schema):
    id: int
    scope: str = Field(description="清单：samr、shuangqiao、dalian 或 dept:<部门编号>")
    code: str
    version: int
    name: str


class CaseRef(Schema):
    id: int
    number: str
    external_system: str
    external_id: str


class CaseOut(Schema):
    id: int
    department_id: int
    number: str
    title: str
    party_kind: str
    party_name: str
    party_uscc: str
    handler: PersonRef | None
    stage: str
    stage_label: str
    opened_on: date | None
    closed_on: date | None
    archive_due: date | None = Field(description="归档期限（结案后 30 日）")
    archived_on: date | None
    external_system: str
    external_id: str
    created_at: datetime
    activity_ids: list[int] = Field(description="本人可查看的该案件的执法活动")


class ActivityOut(Schema):
    id: int
    department_id: int
    unit: UnitRef
    matter: MatterRef
    required_level: str = Field(description="登记时适用的记录要求：optional / mandatory / full_process")
    required_level_label: str
    required_points: list[str] = Field(description="须标记的记录内容要点")
    case: CaseRef | None
    title: str
    place: str
    starts_at: datetime | None
    ends_at: datetime | None
    party_name: str
    officers: list[PersonRef]
    device_serials: list[str]
    external_system: str
    external_id: str
    created_at: datetime
    linked_recordings: int = Field(description="已关联的音像记录数")
    recording_ids: list[int] = Field(description="其中本人可查看的记录编号")
    open_findings: int = Field(description="未消除的合规提示数")


class FindingOut(Schema):
    id: int
    code: str = Field(description="提示类型，如 pushed_unrecorded（推送的检查没有音像记录）")
    code_label: str
    severity: str = Field(description="high / medium / low")
    severity_label: str
    state: str = Field(description="open 待处理 / explained 已说明 / accepted 已认可 / resolved 已消除")
    state_label: str
    requirement: str = Field(description="对应的要求编号，如 REC-4、INT-1")
    article: str = Field(description="依据")
    message: str
    explanation: str
    raised_at: datetime
    checked_at: datetime = Field(description="最近检查时间：影响该提示的变更，或最近一次完成的定期检查")
    resolved_at: datetime | None
    activity_id: int | None
    case_id: int | None

    @staticmethod
    def resolve_code_label(obj: ComplianceFinding) -> str:
        return str(obj.get_code_display())

    @staticmethod
    def resolve_severity_label(obj: ComplianceFinding) -> str:
        return str(obj.get_severity_display())

    @staticmethod
    def resolve_state_label(obj: ComplianceFinding) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_checked_at(obj: ComplianceFinding) -> datetime:
        from activities.findings import checked_at

        return checked_at(obj)


class FindingPage(PageMeta):
    items: list[FindingOut]


class FindingFilterIn(Schema):
    state: Literal[("", *FindingState.values)] = Field("", description="按状态筛选")  # type: ignore[valid-type]


class DocumentOut(Schema):
    id: int
    department_id: int
    case_id: int | None
    activity_id: int | None
    doc_type: str
    doc_type_label: str
    number: str
    doc_date: date | None
    stated_start: datetime | None
    stated_end: datetime | None
    stage: str
    external_system: str
    external_id: str
    created_at: datetime

    @staticmethod
    def resolve_doc_type_label(obj: CaseDocument) -> str:
        return str(obj.get_doc_type_display())


# --- answers -----------------------------------------------------------------------------


def _case_out(user, case: Case) -> dict:
    return {
        **{f: getattr(case, f) for f in (
            "id", "department_id", "number", "title", "party_kind", "party_name", "party_uscc", "stage",
            "opened_on", "closed_on", "archive_due", "archived_on", "external_system", "external_id",
            "created_at")},
        "handler": case.handler,
        "stage_label": case.get_stage_display(),
        "activity_ids": list(list_activities(user).filter(case=case).values_list("pk", flat=True)[:500]),
    }


def _activity_out(user, activity: Activity) -> dict:
    return {
        **{f: getattr(activity, f) for f in (
            "id", "department_id", "unit", "matter", "required_level", "required_points", "case", "title", "place",
            "starts_at", "ends_at", "party_name", "external_system", "external_id", "created_at")},
        "required_level_label": activity.get_required_level_display(),
        "officers": list(activity.officers.order_by("pk")),
        "device_serials": [s for s in (activity.device_serials or []) if isinstance(s, str)],
        "linked_recordings": ActivityRecording.objects.filter(activity=activity).count(),
        "recording_ids": list(activity_recordings(user, activity).values_list("pk", flat=True)),
        "open_findings": ComplianceFinding.objects.filter(activity=activity).exclude(
            state=FindingState.RESOLVED).count(),
    }


def _visible_activity(user, activity_id: int) -> Activity:
    activity = get_activity(user, activity_id)
    if activity is None:
        raise NotFoundError(_("执法活动不存在或您无权查看。"))
    return activity


def _visible_case(user, case_id: int) -> Case:
    case = list_cases(user).select_related("handler").filter(pk=case_id).first()
    if case is None:
        raise NotFoundError(_("案件不存在或您无权查看。"))
    return case


# --- pushing a case ----------------------------------------------------------------------


@router.post("/cases", response={200: CaseOut, 201: CaseOut, **_PUSH_ERRORS}, auth=PUSH_AUTH,
             summary="推送案件（办案系统）")
def push_case(request, payload: CaseIn):
    """办案系统推送一件案件。按 `external_system` + `external_id` 去重：首次推送登记并返回 201；
    同一案件再次推送返回 200 与已登记的案件（不修改其内容）。案号在本部门内唯一，已被另一案件使用时返回 409。
    承办人以执法证号指明，须为本部门人员。令牌须有“对接推送”（integrate）权限，令牌所属人员须能登记该部门的案件。"""
    from orgs.models import Department

    system, external_id = _source(payload.external_system, payload.external_id)
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise NotFoundError(_("办案部门不存在。"))
    handler_id = None
    if badge := _clean(payload.handler_badge_number):
        handler_id = _people_by_badge(department, [badge], _("承办人"))[0]
    values = CaseValues(
        number=payload.number, party_name=payload.party_name, party_kind=payload.party_kind,
        party_uscc=payload.party_uscc, title=payload.title, handler_id=handler_id, opened_on=payload.opened_on,
        external_system=system, external_id=external_id,
    )
    existed = Case.objects.filter(external_system=system, external_id=external_id).exists()
    try:
        case = create_case(department, values, actor=request.auth)
    except ConflictError:
        # pushed twice at once: the other push registered it
        case = Case.objects.filter(external_system=system, external_id=external_id, department=department).first()
        if case is None:
            raise
        existed = True
    case = Case.objects.select_related("handler").get(pk=case.pk)
    return (200 if existed else 201), _case_out(request.auth, case)


def _people_by_badge(department, badges: list[str], who: str) -> list[int]:
    """The ids of the active people of ``department`` with these badge numbers, in order; an
    unknown or ambiguous badge number is a 400 naming it."""
    from orgs.models import Person

    found: dict[str, list[int]] = {}
    for pk, badge in Person.objects.filter(department=department, is_active=True, badge_number__in=badges) \
            .values_list("pk", "badge_number"):
        found.setdefault(badge, []).append(pk)
    unknown = [b for b in badges if b not in found]
    if unknown:
        raise PushError(_("%(who)s的执法证号在%(department)s没有对应的在职人员：%(badges)s。") % {
            "who": who, "department": department.name, "badges": "、".join(unknown)}, code="officer_unknown")
    ambiguous = [b for b in badges if len(found[b]) > 1]
    if ambiguous:
        raise PushError(_("%(who)s的执法证号对应多名人员，无法确定：%(badges)s。") % {
            "who": who, "badges": "、".join(ambiguous)}, code="officer_ambiguous")
    return [found[b][0] for b in badges]


# --- pushing an activity -----------------------------------------------------------------


def _matter_id(department, matter) -> int:
    """The matter binding ``department`` that ``matter`` names: an id, or "<catalog>:<code>"."""
    if isinstance(matter, str):
        text = _clean(matter)
        if text.isascii() and text.isdigit():
            matter = int(text)
        else:
            scope, sep, code = text.rpartition(":")
            if not sep or not scope or not code:
                raise PushError(_("执法事项应为编号或“清单:编码”（如 samr:seizure）。"), code="matter_unknown")
            for e in effective_catalog(department):
                if any(m is not None and (m.scope, m.code) == (scope, code) for m in (e.matter, e.tightened)):
                    return e.matter.pk
            raise PushError(_("执法事项“%(code)s”不适用于%(department)s。") % {
                "code": text, "department": department.name}, code="matter_unknown")
    for e in effective_catalog(department):
        if matter in (e.matter.pk, e.tightened.pk if e.tightened is not None else None):
            return e.matter.pk
    raise PushError(_("编号为 %(id)s 的执法事项不存在或不适用于%(department)s。") % {
        "id": matter, "department": department.name}, code="matter_unknown")


def _case_of_activity(department, payload: ActivityIn, system: str) -> int | None:
    if payload.case_id is not None:
        return payload.case_id  # create_activity checks it is of the department
    external_id = _clean(payload.case_external_id)
    if not external_id:
        return None
    case_system = _clean(payload.case_external_system) or system
    case = Case.objects.filter(department=department, external_system=case_system, external_id=external_id).first()
    if case is None:
        raise PushError(_("来源系统“%(system)s”编号为“%(id)s”的案件尚未推送到本部门，请先推送案件。") % {
            "system": case_system, "id": external_id}, code="case_unknown")
    return case.pk


def _serials(values: list[str]) -> list[str]:
    return list(dict.fromkeys(s for s in (_clean(v) for v in values) if s))


@router.post("/activities", response={200: ActivityOut, 201: ActivityOut, **_PUSH_ERRORS}, auth=PUSH_AUTH,
             summary="推送执法活动或检查任务（日常监管、办案系统）")
def push_activity(request, payload: ActivityIn):
    """推送一次执法活动或双随机抽查任务。按 `external_system` + `external_id` 去重：首次推送登记并返回 201，
    再次推送返回 200 与已登记的活动（不修改其内容）。

    执法事项以编号或“清单:编码”指明（本部门适用的事项清单）；执法人员以执法证号指明，须为该执法机构所属部门的
    在职人员，未知的证号返回 400 并列出。所属案件以平台编号（`case_id`）或来源系统编号（`case_external_id`）指明。

    登记后，平台自动关联已上传的音像记录：本部门尚未关联的记录，时间与 [开始 − 30 分钟, 结束 + 30 分钟] 重叠，
    且拍摄人或执法人员是本活动的执法人员之一，或设备序列号在 `device_serials` 中；之后上传的记录同样自动关联。
    非必须记录的事项结束 24 小时后仍无音像记录的，产生合规提示 `pushed_unrecorded`。"""
    from orgs.models import Unit

    system, external_id = _source(payload.external_system, payload.external_id)
    unit = Unit.objects.select_related("department").filter(pk=payload.unit_id).first()
    if unit is None:
        raise NotFoundError(_("执法机构不存在。"))
    department = unit.department
    badges = [b for b in dict.fromkeys(_clean(b) for b in payload.officer_badge_numbers) if b]
    if not badges:
        raise PushError(_("请至少填写一名执法人员的执法证号。"), code="officer_unknown")
    starts_at, ends_at = _aware(payload.starts_at), _aware(payload.ends_at)
    values = ActivityValues(
        matter_id=_matter_id(department, payload.matter), title=payload.title,
        officer_ids=tuple(_people_by_badge(department, badges, _("执法人员"))),
        case_id=_case_of_activity(department, payload, system), place=payload.place, starts_at=starts_at,
        ends_at=ends_at, party_name=payload.party_name, external_system=system, external_id=external_id,
        device_serials=tuple(_serials(payload.device_serials)),
    )
    existed = Activity.objects.filter(external_system=system, external_id=external_id).exists()
    try:
        with transaction.atomic():
            activity = create_activity(unit, values, actor=request.auth)
            match_recordings_for(activity)
    except ConflictError:
        activity = Activity.objects.filter(external_system=system, external_id=external_id, unit=unit).first()
        if activity is None:
            raise
        existed = True
    activity = Activity.objects.select_related("unit", "matter", "case").get(pk=activity.pk)
    return (200 if existed else 201), _activity_out(request.auth, activity)


# --- pushing a document ------------------------------------------------------------------


def _document_refs(user, payload: DocumentIn, system: str) -> tuple[int | None, int | None]:
    """The platform ids of the case and the activity a pushed document names (by id, or by
    their id in the pushing system); one the pusher may not see is not found."""
    activity_id, case_id = payload.activity_id, payload.case_id
    activity_ref = _clean(payload.activity_external_id)
    if activity_id is None and activity_ref:
        activity_id = list_activities(user).filter(
            external_system=_clean(payload.activity_external_system) or system, external_id=activity_ref,
        ).values_list("pk", flat=True).first()
        if activity_id is None:
            raise NotFoundError(_("执法活动不存在或您无权查看。"))
    case_ref = _clean(payload.case_external_id)
    if case_id is None and case_ref:
        case_id = list_cases(user).filter(
            external_system=_clean(payload.case_external_system) or system, external_id=case_ref,
        ).values_list("pk", flat=True).first()
        if case_id is None:
            raise NotFoundError(_("案件不存在或您无权查看。"))
    if case_id is None and activity_id is None:
        raise PushError(_("请指明文书所属的案件或执法活动（编号或来源系统编号）。"))
    return case_id, activity_id


@router.post("/documents", response={200: DocumentOut, 201: DocumentOut, **_PUSH_ERRORS}, auth=PUSH_AUTH,
             summary="推送文书信息（办案系统）")
def push_document(request, payload: DocumentIn):
    """推送一份文书（现场笔录、查封扣押决定书等）的信息：类型、编号、日期、文书记载的起止时间、办案阶段。
    所属案件或执法活动以平台编号或来源系统编号指明。按 `external_system` + `external_id` 去重：首次 201，再次 200。
    文书记载的起止时间参与合规检查（与音像记录的首段开始、末段结束比对）。"""
    system, external_id = _source(payload.external_system, payload.external_id)
    stated_start, stated_end = _aware(payload.stated_start), _aware(payload.stated_end)
    if stated_start and stated_end and stated_end < stated_start:
        raise PushError(_("文书记载的结束时间不能早于开始时间。"))
    case_id, activity_id = _document_refs(request.auth, payload, system)
    existed = CaseDocument.objects.filter(external_system=system, external_id=external_id).exists()
    try:
        document = add_document(
            actor=request.auth, doc_type=payload.doc_type, case_id=case_id, activity_id=activity_id,
            stage=payload.stage, number=payload.number, doc_date=payload.doc_date, stated_start=stated_start,
            stated_end=stated_end, external_system=system, external_id=external_id,
        )
    except ConflictError:
        # pushed twice at once: the other push registered it (never one of another department)
        document = CaseDocument.objects.filter(external_system=system, external_id=external_id).first()
        if document is None or document.department_id != _department_of(case_id, activity_id):
            raise
        existed = True
    except DocumentError as exc:  # what the pushed particulars say is refused: the push's own code
        raise PushError(exc.message) from exc
    return (200 if existed else 201), document


def _department_of(case_id: int | None, activity_id: int | None) -> int | None:
    if activity_id is not None:
        return Activity.objects.filter(pk=activity_id).values_list("department_id", flat=True).first()
    return Case.objects.filter(pk=case_id).values_list("department_id", flat=True).first()


# --- reading back ------------------------------------------------------------------------


@router.get("/activities/{int:activity_id}", response={200: ActivityOut, **_READ_ERRORS}, summary="执法活动详情")
def activity_detail(request, activity_id: Id):
    """执法活动、其执法人员、使用的设备、已关联的音像记录数与未消除的合规提示数。本人无权查看的活动按不存在（404）处理。"""
    activity = _visible_activity(request.auth, activity_id)
    return _activity_out(request.auth, activity)


@router.get("/activities/{int:activity_id}/findings", response={200: FindingPage, **_READ_ERRORS},
            summary="执法活动的合规提示")
def activity_findings(request, activity_id: Id, filters: Query[FindingFilterIn], page: Query[PageParams]):
    """该活动的合规提示（含已消除的），新的在前：类型、严重程度、状态、对应要求、依据与说明。"""
    activity = _visible_activity(request.auth, activity_id)
    qs = list_findings(request.auth).filter(activity_id=activity.pk)
    if filters.state:
        qs = qs.filter(state=filters.state)
    return page_of(qs, page)


@router.get("/cases/{int:case_id}", response={200: CaseOut, **_READ_ERRORS}, summary="案件详情")
def case_detail(request, case_id: Id):
    """案件、承办人、办案阶段、结案与归档情况，以及本人可查看的该案件的执法活动。"""
    return _case_out(request.auth, _visible_case(request.auth, case_id))


@router.get("/cases/{int:case_id}/findings", response={200: FindingPage, **_READ_ERRORS},
            summary="案件的合规提示")
def case_findings(request, case_id: Id, filters: Query[FindingFilterIn], page: Query[PageParams]):
    """案件本身（如逾期未归档）及其执法活动的合规提示，新的在前。"""
    case = _visible_case(request.auth, case_id)
    qs = list_findings(request.auth).filter(Q(case=case) | Q(activity__case=case))
    if filters.state:
        qs = qs.filter(state=filters.state)
    return page_of(qs, page)
