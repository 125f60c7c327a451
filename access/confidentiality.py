"""Confidentiality marks (ACC-3) and department profiles: one service per state change.

A record marked commercial secret or personal privacy leaves every list, count, search and
duplicate message of people without the department-head path (``access.rules``: only the
recorder's own view and play, the department's head, a superior's head and grants that
included confidential records reach it). Marking and clearing are custody events with the
record as subject.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.choices import AccessProfile, Confidentiality
from access.models import ConfidentialityMark, DepartmentProfile
from core.errors import DomainError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event
from orgs.choices import Role


def may_mark(person, recording) -> bool:
    """Custodians and unit heads of the record's unit, and its department's head, mark."""
    if person is None or not getattr(person, "is_authenticated", False) or not person.is_active:
        return False
    if person.has_role(Role.CUSTODIAN, Role.UNIT_HEAD) and person.unit_id == recording.unit_id:
        return True
    return may_clear(person, recording)


def may_clear(person, recording) -> bool:
    """Only the department's head clears a mark (it is their path that guards the record)."""
    return bool(
        person is not None
        and getattr(person, "is_authenticated", False)
        and person.is_active
        and person.has_role(Role.DEPARTMENT_HEAD)
        and person.department_id == recording.department_id
    )


def mark_confidential(recording, *, actor, category: str, reason: str) -> ConfidentialityMark:
    reason = (reason or "").strip()
    if category not in (Confidentiality.COMMERCIAL_SECRET, Confidentiality.PERSONAL_PRIVACY):
        raise DomainError(_("请选择保密类别（商业秘密或个人隐私）。"))
    if not reason or len(reason) > 500:
        raise DomainError(_("请写明标记理由（最多 500 字）。"))
    if not may_mark(actor, recording):
        raise PermissionDeniedError(_("只有本采集机构的记录仪管理员、负责人或本部门负责人可以标记保密。"))
    with transaction.atomic():
        mark, _created = ConfidentialityMark.objects.update_or_create(
            recording=recording,
            defaults={"category": category, "reason": reason, "marked_by": actor, "marked_at": timezone.now()},
        )
        record_event(EventCode.CONFIDENTIALITY_MARKED, actor=actor, subject=recording,
                     details={"confidentiality": category, "comment": reason})
    return mark


def clear_confidential(recording, *, actor, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise DomainError(_("请写明取消理由（最多 500 字）。"))
    if not may_clear(actor, recording):
        raise PermissionDeniedError(_("只有本部门负责人可以取消保密标记。"))
    with transaction.atomic():
        deleted, _rows = ConfidentialityMark.objects.filter(recording=recording).delete()
        if not deleted:
            raise DomainError(_("该记录没有保密标记。"))
        record_event(EventCode.CONFIDENTIALITY_CLEARED, actor=actor, subject=recording,
                     details={"confidentiality": "", "comment": reason})


def assign_profile(department, *, actor, profile: str) -> DepartmentProfile:
    """The security administrator sets which local rule a department's approvals follow."""
    if not (actor is not None and actor.is_authenticated and actor.has_role(Role.SECURITY_ADMIN)):
        raise PermissionDeniedError(_("只有安全管理员可以设置调阅审批规则。"))
    if profile not in AccessProfile.values:
        raise DomainError(_("审批规则无效。"))
    with transaction.atomic():
        current = DepartmentProfile.objects.select_for_update().filter(department=department).first()
        previous = current.profile if current else AccessProfile.NATIONAL
        row, _created = DepartmentProfile.objects.update_or_create(
            department=department,
            defaults={"profile": profile, "assigned_by": actor, "assigned_at": timezone.now()},
        )
        record_event(EventCode.PROFILE_ASSIGNED, actor=actor, subject=department,
                     details={"profile": profile, "previous": previous, "name": department.name})
    return row
