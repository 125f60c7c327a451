"""Who may see which recordings (ACC-1 minimal, habit 6: default deny)."""

from __future__ import annotations

from django.db.models import Q

from core.querysets import RestrictedQuerySet
from orgs.choices import Role


class RecordingQuerySet(RestrictedQuerySet):
    def _allowed(self, user, action: str):
        """view / play / download / edit, until approvals arrive (ACC-1):

        - officers: recordings they made, appear in, or uploaded;
        - custodian and unit head: their unit's;
        - department head: their department's;
        - administrators and everyone else: nothing.
        """
        rules = None

        def add(q):
            nonlocal rules
            rules = q if rules is None else rules | q

        if user.has_role(Role.OFFICER):
            # a subquery, not a join: no duplicate rows, no DISTINCT over the catalogue
            appears_in = self.model.officers.through.objects.filter(person_id=user.pk).values("recording_id")
            add(Q(primary_officer=user) | Q(uploaded_by=user) | Q(pk__in=appears_in))
        if user.unit_id and user.has_role(Role.CUSTODIAN, Role.UNIT_HEAD):
            add(Q(unit_id=user.unit_id))
        if user.department_id and user.has_role(Role.DEPARTMENT_HEAD) and action != "edit":
            add(Q(department_id=user.department_id))
        return rules
