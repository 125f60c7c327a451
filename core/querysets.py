"""Default-deny, queryset-shaped authorization (habit 6)."""

from __future__ import annotations

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    """Every restricted read starts from ``Model.objects.restrict(user, action)``.

    Subclasses implement ``_allowed(user, action)`` returning a Q object or
    ``None`` for "nothing". Anything not explicitly allowed is denied.
    """

    def restrict(self, user, action: str = "view"):
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        allowed = self._allowed(user, action)
        if allowed is None:
            return self.none()
        return self.filter(allowed)

    def _allowed(self, user, action: str):  # pragma: no cover - abstract
        return None
