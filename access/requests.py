"""Restricted reads of access requests: who sees which (habit 6: default deny).

``approver_q`` (the approver rule as a filter) lives beside ``can_approve`` in access.approvals."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from access.approvals import approver_q
from access.choices import RequestStatus
from access.models import AccessRequest
from orgs.choices import Role


def visible_requests(person) -> QuerySet[AccessRequest]:
    """One's own requests, those one may decide, and (audit administrator, legal office) all."""
    if person is None or not person.is_authenticated or not person.is_active:
        return AccessRequest.objects.none()
    base = AccessRequest.objects.select_related("requester", "department", "approver_unit", "approver_department",
                                                "decided_by")
    if person.has_role(Role.AUDIT_ADMIN, Role.LEGAL_OFFICE):
        return base.order_by("-pk")
    rules = Q(requester_id=person.pk)
    approver = approver_q(person)
    if approver is not None:
        rules |= approver
    return base.filter(rules).order_by("-pk")


def pending_for(person) -> QuerySet[AccessRequest]:
    """Requests waiting for ``person``'s decision (never their own)."""
    rules = approver_q(person) if person.is_authenticated else None
    if rules is None:
        return AccessRequest.objects.none()
    return (
        AccessRequest.objects.filter(rules, status=RequestStatus.PENDING, valid_until__gt=timezone.now())
        .exclude(requester_id=person.pk)
        .select_related("requester", "department")
        .order_by("pk")
    )


def get_request(person, pk: int) -> AccessRequest | None:
    return visible_requests(person).filter(pk=pk).first()


def display_status(request: AccessRequest, now=None) -> str:
    """The status a person reads: an approved request past its window has expired."""
    now = now or timezone.now()
    if request.status == RequestStatus.APPROVED and request.valid_until <= now:
        return "expired"
    return request.status
