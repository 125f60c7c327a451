"""Access requests and their approval (ACC-1, ACC-3, ACC-4): one service per state change.

- ``plan_request``: where a request would go (approver, article) before it is made — the form
  shows it; computed from the requester and the records' department and unit as chosen, never
  from which records exist (a request says nothing about records one may not see).
- ``create_request``: 提交 — purpose required, window in the future, records of the chosen
  department (by id or by case number), confidential ones only when asked for (and then on the
  department-head path).
- ``approve`` / ``reject``: by a holder of the step's office, never the requester, once.
- ``withdraw``: the requester, while pending. ``revoke``: an approver or the requester, while
  approved; the next range request of a playback is refused (the grant is read per request).

Every change is a custody event with the request as subject and its records as further subjects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access.choices import AccessAction, ApproverRole, Purpose, RequestKind, RequestStatus
from access.models import AccessRequest, AccessRequestItem, ConfidentialityMark
from access.profiles import REQUESTABLE_ACTIONS, Profile, Step, profile_of
from access.rules import may_hold_media
from core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event
from orgs.choices import Role
from orgs.models import Department, Unit, department_subtree_ids

MAX_VALID_DAYS = 90
MAX_RECORDS = 500
CONFIDENTIAL_ARTICLE = _("市场监管总局规定第十八条第二款（商业秘密、个人隐私须部门负责人审批）")
REQUESTER_ROLES = (Role.OFFICER, Role.CUSTODIAN, Role.UNIT_HEAD, Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE)
DEPARTMENT_LEVEL = (ApproverRole.DEPARTMENT_HEAD, ApproverRole.DEPUTY_DIRECTOR, ApproverRole.AGENCY_HEAD)


class RequestError(DomainError):
    code = "access_request_invalid"


@dataclass(frozen=True)
class Plan:
    """Where a request goes: the profile, the requester's relation, the step and its office."""

    profile: Profile
    relation: str
    step: Step
    approver_unit: Unit | None
    approver_department: Department

    @property
    def article(self) -> str:
        return str(self.step.article)


def may_request(person) -> bool:
    return may_hold_media(person) and person.has_role(*REQUESTER_ROLES)


def relation_of(person, department: Department, unit: Unit | None) -> str:
    if unit is not None and person.unit_id == unit.pk:
        return "unit"
    if person.department_id == department.pk or (person.unit_id and person.unit.department_id == department.pk):
        return "department"
    if person.department_id and department.pk in department_subtree_ids(person.department_id):
        return "superior"
    return "other"


def plan_request(person, *, kind: str, department: Department, unit: Unit | None, actions,
                 include_confidential: bool = False) -> Plan:
    """The approval step a request of ``person`` for records of ``department`` (``unit``) needs."""
    if unit is not None and unit.department_id != department.pk:
        raise RequestError(_("所选采集机构不属于所选部门。"))
    relation = relation_of(person, department, unit)
    profile = profile_of(department.pk)
    step = profile.route(kind, relation, actions)
    if include_confidential and step.approver not in DEPARTMENT_LEVEL:
        # ACC-3: a confidential record is reached on the department-head path only
        step = Step(ApproverRole.DEPARTMENT_HEAD, "record_department", CONFIDENTIAL_ARTICLE)
    if step.of == "record_unit":
        if unit is None:  # the unit step needs the unit; without one the department head decides
            step = Step(ApproverRole.DEPARTMENT_HEAD, "record_department", step.article)
            return Plan(profile, relation, step, None, department)
        return Plan(profile, relation, step, unit, department)
    if step.of == "requester_department":
        own = person.department if person.department_id else person.unit.department
        return Plan(profile, relation, step, None, own)
    return Plan(profile, relation, step, None, department)


def _clean_actions(kind: str, actions) -> list[str]:
    if kind in (RequestKind.EXTERNAL, RequestKind.PARTY_COPY):
        return [AccessAction.VIEW, AccessAction.COPY]  # a copy is made and handed over
    wanted = [a for a in REQUESTABLE_ACTIONS if a in set(actions or ())]
    if not wanted:
        raise RequestError(_("请至少选择一种调阅方式。"))
    if AccessAction.VIEW not in wanted:
        wanted.insert(0, AccessAction.VIEW)  # playing or copying shows the entry too
    return [str(a) for a in wanted]


def _window(valid_from: datetime | None, valid_until: datetime | None) -> tuple[datetime, datetime]:
    now = timezone.now()
    start = valid_from or now
    if valid_until is None:
        raise RequestError(_("请填写有效期。"))
    if valid_until <= now:
        raise RequestError(_("有效期已过：截止时间须晚于现在。"))
    if valid_until <= start:
        raise RequestError(_("有效期截止时间须晚于开始时间。"))
    if valid_until - start > timedelta(days=MAX_VALID_DAYS):
        raise RequestError(_("有效期最长 %(days)d 天。") % {"days": MAX_VALID_DAYS})
    return start, valid_until


def _records(department: Department, unit: Unit | None, recording_ids, case_number: str,
             include_confidential: bool, activity=None) -> list[tuple[int, datetime | None]]:
    """The (id, start time) of each record the request names: by id, every recording of an
    activity, or of a case (as the officer wrote its number, or linked to it: activities.filing)."""
    from activities.models import ActivityRecording
    from recordings.models import Recording

    qs = Recording.objects.filter(department=department)
    if unit is not None:
        qs = qs.filter(unit=unit)
    if recording_ids:
        qs = qs.filter(pk__in=list(recording_ids))
    elif activity is not None:
        qs = qs.filter(pk__in=ActivityRecording.objects.filter(activity=activity).values("recording_id"))
    elif case_number:
        qs = qs.filter(Q(case_number=case_number)
                       | Q(filing__case__number=case_number, filing__case__department=department))
    else:
        raise RequestError(_("请填写记录编号、案号，或从执法活动页面申请该活动的全部记录。"))
    if not include_confidential:
        qs = qs.exclude(pk__in=ConfidentialityMark.objects.values("recording_id"))
    return list(qs.order_by("pk").values_list("pk", "start_time")[:MAX_RECORDS])


def _activity_scope(requester, department: Department, activity_id: int | None):
    """The activity a request names as its scope: one the requester may see, of ``department``."""
    from activities.selectors import get_activity

    if activity_id is None:
        return None
    activity = get_activity(requester, activity_id)
    if activity is None or activity.department_id != department.pk:
        raise NotFoundError(_("找不到该执法活动，或它不属于所选部门。"))
    return activity


def create_request(requester, *, department: Department, unit: Unit | None = None,
                   kind: str = RequestKind.INTERNAL, recording_ids=(), case_number: str = "",
                   purpose_code: str, purpose_text: str, actions=(), valid_from: datetime | None = None,
                   valid_until: datetime | None, include_confidential: bool = False, recipient: str = "",
                   consult_superior: bool = False, party_application=None,
                   activity_id: int | None = None) -> AccessRequest:
    if not may_request(requester):
        raise PermissionDeniedError(_("您的角色不能申请调阅执法音像记录。"))
    if kind not in RequestKind.values:
        raise RequestError(_("申请类型无效。"))
    purpose_text = (purpose_text or "").strip()
    if purpose_code not in Purpose.values or not purpose_text:
        raise RequestError(_("请选择事由并写明具体事由。"))
    if len(purpose_text) > 500:
        raise RequestError(_("事由说明最多 500 字。"))
    recording_ids = sorted({int(pk) for pk in recording_ids or ()})
    if len(recording_ids) > MAX_RECORDS:
        raise RequestError(_("一次最多申请 %(n)d 条记录。") % {"n": MAX_RECORDS})
    case_number = (case_number or "").strip()[:100]
    recipient = (recipient or "").strip()[:200]
    if kind in (RequestKind.EXTERNAL, RequestKind.PARTY_COPY) and not recipient:
        raise RequestError(_("请填写提供对象（接收单位或当事人）。"))
    if kind == RequestKind.PARTY_COPY and party_application is None:
        raise RequestError(_("当事人申请复制须附当事人的书面申请。"))
    actions = _clean_actions(kind, actions)
    start, until = _window(valid_from, valid_until)
    plan = plan_request(requester, kind=kind, department=department, unit=unit, actions=actions,
                        include_confidential=include_confidential)
    activity = _activity_scope(requester, department, activity_id) if not recording_ids else None
    records = _records(department, unit, recording_ids, case_number, include_confidential, activity)
    with transaction.atomic():
        request = AccessRequest.objects.create(
            kind=kind,
            requester=requester,
            requester_name=requester.display_name,
            department=department,
            case_number=case_number if not (recording_ids or activity) else "",
            activity=activity,
            purpose_code=purpose_code,
            purpose_text=purpose_text,
            actions=actions,
            allow_play=AccessAction.PLAY in actions,
            allow_download=AccessAction.DOWNLOAD in actions,
            allow_copy=AccessAction.COPY in actions,
            include_confidential=include_confidential,
            valid_from=start,
            valid_until=until,
            profile=plan.profile.code,
            relation=plan.relation,
            approver_role=plan.step.approver,
            approver_unit=plan.approver_unit,
            approver_department=plan.approver_department,
            basis=plan.article[:200],
            recipient=recipient,
            consult_superior=consult_superior,
            party_application=party_application,
            created_at=timezone.now(),
        )
        AccessRequestItem.objects.bulk_create(
            [
                AccessRequestItem(request=request, requester=requester, recording_id=pk, recording_start=start,
                                  include_confidential=include_confidential)
                for pk, start in records
            ]
        )
        record_event(
            EventCode.ACCESS_REQUESTED,
            actor=requester,
            subject=request,
            also=[("recording", str(pk)) for pk, _start in records],
            details={
                "request": request.pk,
                "request_kind": kind,
                "purpose_code": purpose_code,
                "purpose": purpose_text,
                "actions": actions,
                "records": len(records),
                "case_number": request.case_number,
                "activity": activity.pk if activity is not None else None,
                "valid_until": until,
                "approver_role": plan.step.approver,
                "basis": request.basis,
            },
        )
    return request


def can_approve(person, request: AccessRequest) -> bool:
    """Whether ``person`` holds the office the request's step names (never its requester).
    ``approver_q`` is the same rule as a filter."""
    if not may_hold_media(person) or person.pk == request.requester_id:
        return False
    if request.approver_role == ApproverRole.UNIT_HEAD:
        return person.has_role(Role.UNIT_HEAD) and person.unit_id == request.approver_unit_id
    return person.has_role(Role.DEPARTMENT_HEAD) and person.department_id == request.approver_department_id


def approver_q(person) -> Q | None:
    """``can_approve`` as a filter: the requests whose step names an office ``person`` holds
    (None: none). Their own requests are included; the lists that must leave them out do."""
    if not may_hold_media(person):
        return None
    rules = None
    if person.unit_id and person.has_role(Role.UNIT_HEAD):
        rules = Q(approver_role=ApproverRole.UNIT_HEAD, approver_unit_id=person.unit_id)
    if person.department_id and person.has_role(Role.DEPARTMENT_HEAD):
        q = Q(approver_role__in=DEPARTMENT_LEVEL, approver_department_id=person.department_id)
        rules = q if rules is None else rules | q
    return rules


def _locked(request_id: int) -> AccessRequest:
    request = AccessRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFoundError(_("申请不存在。"))
    return request


def _subjects(request: AccessRequest) -> list[tuple[str, str]]:
    return [("recording", str(pk)) for pk in request.items.values_list("recording_id", flat=True)]


def _decide(request_id: int, approver, comment: str, *, approve: bool, consult_note: str = "") -> AccessRequest:
    comment = (comment or "").strip()[:500]
    consult_note = (consult_note or "").strip()[:500]
    with transaction.atomic():
        request = _locked(request_id)
        if not can_approve(approver, request):
            if approver is not None and approver.pk == request.requester_id:
                raise PermissionDeniedError(_("不能审批本人提交的申请。"))
            raise PermissionDeniedError(_("您不是该申请的审批人。"))
        if request.status != RequestStatus.PENDING:
            raise ConflictError(
                _("该申请已%(status)s，不能再次审批。") % {"status": request.get_status_display()}
            )
        if approve and request.valid_until <= timezone.now():
            raise ConflictError(_("该申请的有效期已过，不能批准；请申请人重新申请。"))
        if not approve and not comment:
            raise RequestError(_("驳回时请写明理由。"))
        request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        request.decided_by = approver
        request.decided_at = timezone.now()
        request.decision_comment = comment
        fields = ["status", "decided_by", "decided_at", "decision_comment"]
        if consult_note and request.consult_superior:
            # SAMR art. 17 ¶5: the superior department's opinion, where it was asked for
            request.consult_note = consult_note
            fields.append("consult_note")
        request.save(update_fields=fields)
        if approve:  # its items are grants from now on, inside its window
            request.items.update(granted_from=request.valid_from, granted_until=request.valid_until)
        subjects = _subjects(request)
        if approve:
            record_event(EventCode.ACCESS_APPROVED, actor=approver, subject=request, also=subjects,
                         details={"request": request.pk, "comment": comment, "records": len(subjects),
                                  "consult_note": request.consult_note})
        else:
            record_event(EventCode.ACCESS_REJECTED, actor=approver, subject=request, also=subjects,
                         details={"request": request.pk, "comment": comment})
    return request


def approve(request_id: int, approver, comment: str = "", *, consult_note: str = "") -> AccessRequest:
    """Approve; ``consult_note``: the superior department's opinion on an external provision
    that asked for one (printed on the approval form)."""
    return _decide(request_id, approver, comment, approve=True, consult_note=consult_note)


def reject(request_id: int, approver, comment: str) -> AccessRequest:
    return _decide(request_id, approver, comment, approve=False)


def withdraw(request_id: int, requester) -> AccessRequest:
    with transaction.atomic():
        request = _locked(request_id)
        if requester is None or request.requester_id != requester.pk:
            raise PermissionDeniedError(_("只有申请人可以撤回申请。"))
        if request.status != RequestStatus.PENDING:
            raise ConflictError(_("该申请已%(status)s，不能撤回。") % {"status": request.get_status_display()})
        request.status = RequestStatus.WITHDRAWN
        request.save(update_fields=["status"])
        record_event(EventCode.ACCESS_WITHDRAWN, actor=requester, subject=request,
                     also=_subjects(request), details={"request": request.pk})
    return request


def revoke(request_id: int, actor, comment: str) -> AccessRequest:
    comment = (comment or "").strip()[:500]
    with transaction.atomic():
        request = _locked(request_id)
        if actor is None or not (actor.pk == request.requester_id or can_approve(actor, request)):
            raise PermissionDeniedError(_("只有审批人或申请人可以撤销授权。"))
        if request.status != RequestStatus.APPROVED:
            raise ConflictError(_("只有已批准的申请可以撤销。"))
        if not comment:
            raise RequestError(_("撤销时请写明理由。"))
        request.status = RequestStatus.REVOKED
        request.revoked_by = actor
        request.revoked_at = timezone.now()
        request.revoke_comment = comment
        request.save(update_fields=["status", "revoked_by", "revoked_at", "revoke_comment"])
        request.items.update(granted_from=None, granted_until=None)  # no grant any more
        record_event(EventCode.ACCESS_REVOKED, actor=actor, subject=request, also=_subjects(request),
                     details={"request": request.pk, "comment": comment})
    return request
