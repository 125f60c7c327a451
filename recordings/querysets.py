"""Who may see which recordings (ACC-1 minimal, habit 6: default deny)."""

from __future__ import annotations

from django.db.models import F, Q
from django.db.models.lookups import In

from core.querysets import RestrictedQuerySet
from orgs.choices import Role
from orgs.models import department_subtree_ids


class InSubqueryArray(In):
    """``pk IN (subquery)``, written ``pk = ANY(ARRAY(subquery))`` on PostgreSQL.

    Same rows: neither side is ever NULL, and both forms run the subquery once per statement.
    But PostgreSQL plans ``IN (subquery)`` under an OR as a hashed SubPlan, a filter it must test
    on every row it visits, so an officer's list walked every recording of the date range
    (bench/catalogue.py: 155 ms at 1M recordings, seconds at 10M); the array is an InitPlan the
    primary key index takes, so all three officer rules are index scans OR-ed in one bitmap.
    """

    def get_rhs_op(self, connection, rhs):
        if connection.vendor == "postgresql":
            return f"= ANY(ARRAY{rhs})"
        return super().get_rhs_op(connection, rhs)


class RecordingQuerySet(RestrictedQuerySet):
    def _allowed(self, user, action: str):
        """view / play / download / edit, until approvals arrive (ACC-1):

        - officers: recordings they made, appear in, or uploaded;
        - custodian and unit head: their unit's;
        - department head: their department's and every subordinate department's (SAMR art. 17:
          a superior department views its subordinates' records; each view is registered);
        - administrators and everyone else: nothing.
        """
        rules = None

        def add(q):
            nonlocal rules
            rules = q if rules is None else rules | q

        if user.has_role(Role.OFFICER):
            # a subquery, not a join: no duplicate rows, no DISTINCT over the catalogue
            appears_in = self.model.officers.through.objects.filter(person_id=user.pk).values("recording_id")
            add(Q(primary_officer=user) | Q(uploaded_by=user) | Q(InSubqueryArray(F("pk"), appears_in)))
        if user.unit_id and user.has_role(Role.CUSTODIAN, Role.UNIT_HEAD):
            add(Q(unit_id=user.unit_id))
        if user.department_id and user.has_role(Role.DEPARTMENT_HEAD) and action != "edit":
            add(Q(department_id__in=department_subtree_ids(user.department_id)))
        return rules
