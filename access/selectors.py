"""Restricted reads of the access register (查阅登记, ACC-2): the audit administrator's view.

Keyset pages by ``id`` (newest first), never OFFSET or COUNT over the table. Indexes the
filters rely on: ``id``; wanted ``(person, id)``, ``(recording, id)``, ``(action, id)`` and
``(occurred_at)`` — the existing ones are on ``(…, -occurred_at)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from access.models import AccessEntry
from core.bounds import period_q
from custody.choices import EventCode
from custody.selectors import can_read_audit, person_q
from orgs.choices import Role
from orgs.models import Person, department_subtree_ids

# The spreadsheet export stops here and says so.
EXPORT_LIMIT = 50_000


@dataclass(frozen=True)
class AccessFilter:
    person_id: int | None = None
    person_text: str = ""
    recording_id: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def list_access_entries(user, flt: AccessFilter | None = None) -> QuerySet[AccessEntry]:
    if not can_read_audit(user):
        return AccessEntry.objects.none()
    return filter_entries(AccessEntry.objects.all(), flt)


def filter_entries(qs: QuerySet[AccessEntry], flt: AccessFilter | None) -> QuerySet[AccessEntry]:
    if flt is None:
        return qs
    qs = qs.filter(person_q("person_id", "person_name", flt.person_id, flt.person_text))
    if flt.recording_id is not None:
        qs = qs.filter(recording_id=flt.recording_id)
    if flt.action:
        qs = qs.filter(action=flt.action)
    return qs.filter(period_q("occurred_at", flt.date_from, flt.date_to))


def export_rows(qs: QuerySet[AccessEntry], limit: int = EXPORT_LIMIT) -> Iterator[AccessEntry]:
    """At most ``limit`` entries, newest first, read in chunks (constant queries per chunk)."""
    return qs.order_by("-id")[:limit].iterator(chunk_size=2000)


def list_scope_access_entries(user, flt: AccessFilter | None = None, *,
                              superior_only: bool = False) -> QuerySet[AccessEntry]:
    """The register of the recordings ``user`` may view (ACC-2): an officer sees who viewed
    their own recordings, a custodian or unit head their unit's, a department head their
    department's and its subordinates'. The legal office (法制机构, which supervises the
    department's enforcement) reads the register of its department and those below it, without
    seeing the recordings themselves. ``superior_only``: only the entries of people of a
    department above the user's (SAMR art. 17: what the superior department looked at)."""
    from recordings.models import Recording

    if user is None or not user.is_authenticated or not user.is_active:
        return AccessEntry.objects.none()
    scope = Q(recording__in=Recording.objects.restrict(user, "view").values("pk"))
    if user.department_id and user.has_role(Role.LEGAL_OFFICE):
        scope |= Q(recording__department_id__in=department_subtree_ids(user.department_id))
    qs = filter_entries(AccessEntry.objects.filter(scope), flt)
    if superior_only:
        above = [d.pk for d in user.department.ancestors()] if user.department_id else []
        qs = qs.filter(person__department_id__in=above)
    return qs.select_related("person").order_by("-pk")


def _supervised_people(user) -> Q | None:
    """The people whose refused reads ``user`` answers for, as a filter on Person; None when
    they answer for nobody's: a unit head their unit's, a department head and the legal office
    their department's and those below."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    people = None
    if user.unit_id and user.has_role(Role.UNIT_HEAD):
        people = Q(unit_id=user.unit_id)
    if user.department_id and user.has_role(Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE):
        below = department_subtree_ids(user.department_id)
        q = Q(department_id__in=below) | Q(unit__department_id__in=below)
        people = q if people is None else people | q
    return people


def list_scope_denials(user) -> QuerySet:
    """Refused reads (access.denied events) by the people ``user`` supervises (see
    ``_supervised_people``)."""
    from custody.models import Event

    people = _supervised_people(user)
    if people is None:
        return Event.objects.none()
    ids = Person.objects.filter(people).values("pk")
    return Event.objects.filter(action=EventCode.ACCESS_DENIED, actor_id__in=ids).order_by("-pk")


def can_see_denials(user) -> bool:
    """Whether the denials page is one's to read — the same rule as ``list_scope_denials``."""
    return _supervised_people(user) is not None
