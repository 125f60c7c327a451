"""Who may put a recording into which unit, and whom they may name on it (issue 9, ACC-1).

One place for the upload side of the access rules, used alike by the upload page, the tus API,
local ingest and the dock: a recording's unit decides who may later see it (unit custodian and
head, the department head), and every officer named on it may see it as their own — so naming
people and choosing the unit are access decisions, not form details.

- Administrators (system, security, audit) and the legal office never upload (SAMR art. 17 gives
  them no recordings of their own; separation of duties, ACC-6).
- An officer, custodian or unit head uploads into their own unit only; a department head into
  any unit of their department.
- Named officers are active officers of the recording's unit. An officer of another unit, an
  administrator or a stranger cannot be named (and thereby given access).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from orgs.choices import SEPARATED_ADMIN_ROLES, Role
from orgs.models import Person, Unit

UPLOAD_ROLES = (Role.OFFICER, Role.CUSTODIAN, Role.UNIT_HEAD, Role.DEPARTMENT_HEAD)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str  # the rule that decided, for messages and the register
    message: str = ""  # why not, in Chinese, when refused


def upload_units(person) -> QuerySet[Unit]:
    """The units ``person`` may file a recording into (empty: they may not upload)."""
    if not getattr(person, "is_authenticated", False) or not person.has_role(*UPLOAD_ROLES):
        return Unit.objects.none()
    if person.has_role(*SEPARATED_ADMIN_ROLES, Role.LEGAL_OFFICE):
        return Unit.objects.none()  # an administrator or the legal office, whatever else they hold
    if person.department_id and person.has_role(Role.DEPARTMENT_HEAD):
        return Unit.objects.filter(department_id=person.department_id).order_by("code")
    if person.unit_id:
        return Unit.objects.filter(pk=person.unit_id)
    return Unit.objects.none()


def nameable_officers(units) -> QuerySet[Person]:
    """The people who may be named as officers of a recording in one of ``units``."""
    return (
        Person.objects.filter(unit__in=units, is_active=True, role_assignments__role=Role.OFFICER)
        .distinct()
        .order_by("unit_id", "badge_number", "pk")
    )


def decide_upload(person, unit: Unit | None) -> Decision:
    """May ``person`` file a recording into ``unit`` (``None``: their own unit)?"""
    units = upload_units(person)
    if not units.exists():
        return Decision(False, "no_upload_role", _("您的角色不能上传执法音像记录。"))
    if unit is None:
        if person.unit_id and units.filter(pk=person.unit_id).exists():
            return Decision(True, "own_unit")
        return Decision(False, "no_unit", _("无法确定采集机构：上传人未归属执法机构，请选择采集机构。"))
    if units.filter(pk=unit.pk).exists():
        return Decision(True, "own_unit" if unit.pk == person.unit_id else "department_unit")
    return Decision(False, "other_unit", _("无权为该采集机构上传记录。"))


def decide_officers(unit: Unit, officer_ids) -> Decision:
    """May these people be named as officers of a recording of ``unit``?"""
    ids = set(officer_ids)
    allowed = set(nameable_officers([unit]).filter(pk__in=ids).values_list("pk", flat=True))
    if ids <= allowed:
        return Decision(True, "unit_officers")
    return Decision(False, "not_unit_officer", _("只能关联本采集机构的执法人员。"))
