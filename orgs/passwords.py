"""Password rules of a level-3 system (ACC-6; 等保2.0 三级: 口令复杂度、定期更换、不得重复使用).

- complexity: at least three of upper case, lower case, digits and other characters, beside
  Django's length (10), similarity, common-password and all-digits validators;
- history: none of the account's last ``AVR_PASSWORD_HISTORY`` passwords again;
- maximum age: a password older than ``AVR_PASSWORD_MAX_AGE_DAYS`` must be changed at the next
  sign-in (``orgs.services.log_in`` sets ``must_change_password``; 0 switches it off).
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def _classes(password: str) -> int:
    kinds = set()
    for ch in password:
        if ch.isupper():
            kinds.add("upper")
        elif ch.islower():
            kinds.add("lower")
        elif ch.isdigit():
            kinds.add("digit")
        elif not unicodedata.category(ch).startswith("Z"):
            kinds.add("other")
    return len(kinds)


class ComplexityValidator:
    def validate(self, password, user=None):
        if _classes(password) < 3:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、其他符号中的至少三类。"), code="password_too_simple"
            )

    def get_help_text(self):
        return _("至少包含大写字母、小写字母、数字、其他符号中的三类。")


class HistoryValidator:
    """Not one of the account's recent passwords (nor the current one)."""

    def validate(self, password, user=None):
        if user is None or not getattr(user, "pk", None):
            return
        recent = [user.password] if user.password else []
        recent += list(user.password_history.order_by("-created_at", "-pk")
                       .values_list("password", flat=True)[: max(settings.PASSWORD_HISTORY - 1, 0)])
        if any(check_password(password, old) for old in recent):
            raise ValidationError(
                _("不能使用最近 %(n)s 次用过的密码。") % {"n": settings.PASSWORD_HISTORY},
                code="password_reused",
            )

    def get_help_text(self):
        return _("不能与最近 %(n)s 次用过的密码相同。") % {"n": settings.PASSWORD_HISTORY}


def remember_password(person) -> None:
    """Before a password is replaced: keep its hash, and only the last few (HistoryValidator)."""
    from orgs.models import PasswordHistory

    if not person.password:
        return
    PasswordHistory.objects.create(person=person, password=person.password, created_at=timezone.now())
    keep = PasswordHistory.objects.filter(person=person).order_by("-created_at", "-pk")[: settings.PASSWORD_HISTORY]
    PasswordHistory.objects.filter(person=person).exclude(pk__in=list(keep.values_list("pk", flat=True))).delete()


def password_expired(person, *, now=None) -> bool:
    days = settings.PASSWORD_MAX_AGE_DAYS
    if not days or person.password_changed_at is None:
        return False
    return (now or timezone.now()) - person.password_changed_at > timedelta(days=days)
