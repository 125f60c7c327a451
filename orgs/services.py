"""Every write about people and sessions (habit 1)."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from custody.choices import EventCode
from custody.services import record_event


class OrgsError(DomainError):
    code = "orgs_error"


def _client(request) -> dict:
    return {
        "ip": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.headers.get("User-Agent", "")[:200],
    }


def log_in(request, *, username: str, password: str):
    """Authenticate and start a session; success and failure are both custody events."""
    person = authenticate(request, username=username, password=password)
    with transaction.atomic():
        if person is None:
            record_event(
                EventCode.LOGIN_FAILED,
                actor=None,
                actor_name=(username or "")[:100] or "未知",
                subject=("account", (username or "")[:64]),
                details=_client(request),
            )
            raise OrgsError(_("用户名或密码错误。"), code="login_failed")
        login(request, person)
        record_event(EventCode.LOGIN, actor=person, subject=person, details=_client(request))
    return person


def log_out(request) -> None:
    person = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        if person is not None:
            record_event(EventCode.LOGOUT, actor=person, subject=person, details=_client(request))
        logout(request)


def change_password(person, *, actor, new_password: str) -> None:
    from django.contrib.auth.password_validation import validate_password

    validate_password(new_password, person)
    with transaction.atomic():
        person.set_password(new_password)
        person.must_change_password = False
        person.save(update_fields=["password", "must_change_password"])
        record_event(EventCode.PASSWORD_CHANGED, actor=actor, subject=person, details={})
