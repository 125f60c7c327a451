"""Default-deny, queryset-shaped authorization (habit 6)."""

from __future__ import annotations

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    """Every restricted read starts from ``Model.objects.restrict(user, action)``.

    Subclasses implement ``_allowed(user, action)`` returning a Q object or
    ``None`` for "nothing". Anything not explicitly allowed is denied.
    """

    def restrict(self, user, action: str = "view", **hints):
        """``hints``: what the caller filters by anyway, which a subclass may use to narrow
        (never widen) what it reads to decide (e.g. ``start_within`` for recordings)."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        allowed = self._allowed(user, action, **hints)
        if allowed is None:
            return self.none()
        return self.filter(allowed)

    def _allowed(self, user, action: str, **hints):  # pragma: no cover - abstract
        return None


# The one cap on counted rows, for every list in the web UI and the API: counting stops here
# so that a list over tens of millions of records stays fast; the UI shows "10000+".
COUNT_CAP = 10_000


def count_capped(qs: models.QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """Count at most ``cap`` rows (default COUNT_CAP): (count, more_than_cap)."""
    cap = COUNT_CAP if cap is None else cap
    n = qs.select_related(None).order_by()[: cap + 1].count()
    return min(n, cap), n > cap
