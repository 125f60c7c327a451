"""Who sees and keeps which activities and cases (default deny; habit 6).

- an officer: the activities they are an officer of or registered;
- a unit's custodian and head: the unit's activities;
- a department head and the legal office (法制机构): their department's and those below
  (SAMR art. 17: the superior department supervises its subordinates);
- the separated administrators: none.

The recordings of an activity are shown only as ``Recording.objects.restrict`` allows; an
activity being visible says nothing about its recordings.
"""

from __future__ import annotations

from django.db.models import Q

from access.rules import may_hold_media
from orgs.choices import Role

KEEPER_ROLES = (Role.CUSTODIAN, Role.UNIT_HEAD)
RECORDING_ROLES = (Role.OFFICER, Role.CUSTODIAN, Role.UNIT_HEAD)


def activity_q(person) -> Q | None:
    """The activities ``person`` may see, as a filter (None: none)."""
    from orgs.models import department_subtree_ids

    if not may_hold_media(person):
        return None
    rules = Q(officers=person) | Q(created_by=person)
    if person.unit_id and person.has_role(*KEEPER_ROLES):
        rules |= Q(unit_id=person.unit_id)
    if person.department_id and person.has_role(Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE):
        rules |= Q(department_id__in=department_subtree_ids(person.department_id))
    return rules


def case_q(person) -> Q | None:
    """The cases ``person`` may see: their department's (its people work them), and for a
    department head and the legal office those below too."""
    from orgs.models import department_subtree_ids

    if not may_hold_media(person) or not person.department_id:
        return None
    if person.has_role(Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE):
        return Q(department_id__in=department_subtree_ids(person.department_id))
    return Q(department_id=person.department_id)


def can_record_activity(person, unit) -> bool:
    """Register an activity of ``unit``: its people, and the head of its department."""
    if not may_hold_media(person):
        return False
    if person.unit_id == unit.pk and person.has_role(*RECORDING_ROLES):
        return True
    return person.department_id == unit.department_id and person.has_role(Role.DEPARTMENT_HEAD)


def can_edit_activity(person, activity) -> bool:
    """Change an activity (link its recordings): its officers and who registered it, the unit's
    keepers, the head of its department."""
    if not may_hold_media(person):
        return False
    if activity.created_by_id == person.pk or activity.officers.filter(pk=person.pk).exists():
        return True
    if person.unit_id == activity.unit_id and person.has_role(*KEEPER_ROLES):
        return True
    return person.department_id == activity.department_id and person.has_role(Role.DEPARTMENT_HEAD)


def can_keep_cases(person, department) -> bool:
    """Register a case of ``department``: its enforcement people."""
    return bool(
        may_hold_media(person) and person.department_id == department.pk
        and person.has_role(Role.OFFICER, Role.CUSTODIAN, Role.UNIT_HEAD, Role.DEPARTMENT_HEAD)
    )


def can_manage_integration(person, department) -> bool:
    """Change ``department``'s compliance settings: its tolerances (REC-7) and the webhook
    endpoints its findings are pushed to (INT-1). Its department head and legal office, as
    activities.conduct.set_compliance_settings allows."""
    return bool(
        department is not None and may_hold_media(person) and person.department_id == department.pk
        and person.has_role(Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE)
    )
