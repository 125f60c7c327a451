"""Who may see which recordings: the queryset form of the access rules (habit 6: default deny).

The rules themselves, with their articles, are one table in ``access.rules``; this is where the
catalogue reads them.
"""

from __future__ import annotations

from access.rules import InSubqueryArray, basis_expression, restrict
from core.querysets import RestrictedQuerySet

__all__ = ["InSubqueryArray", "RecordingQuerySet"]


class RecordingQuerySet(RestrictedQuerySet):
    def _allowed(self, user, action: str, start_within=None):
        """view / play / download / copy / edit: the OR of every rule of ``access.rules.RULES``
        that applies to ``user`` (None: nothing); ``start_within``: the start-time period the
        catalogue page's period (``access.rules.restrict``)."""
        return restrict(user, action, start_within=start_within)

    def with_basis(self, user, action: str):
        """Each row annotated with ``access_basis``, the rule that allows ``action`` on it."""
        return self.annotate(access_basis=basis_expression(user, action))
