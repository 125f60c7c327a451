"""Sign-in lockout and throttling (ACC-6; 等保 level 3: 登录失败处理), through django-axes.

``AVR_LOGIN_FAILURE_LIMIT`` failures in a row for one account, or from one client address,
lock that account or address for ``AVR_LOGIN_LOCKOUT_MINUTES`` (settings: AXES_*). The account
is counted under the name the platform would sign in (``attempted_username``: NFKC, case-folded),
so ``Admin`` and ``admin`` are one account; the address is the real client behind the load
balancer (``core.clients.client_ip``). Every lockout is a custody event; every attempt, locked or
not, stays a ``auth.login_failed`` event as before. Unlock early: ``manage.py axes_reset_username
<account>`` or ``axes_reset_ip <address>``.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _


def lockout_username(request, credentials=None) -> str:
    """The account an attempt counts against (AXES_USERNAME_CALLABLE)."""
    from orgs.services import account_key, attempted_username

    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    return account_key(*attempted_username(raw))


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return _(
        "该账号或本机地址登录失败次数过多，已暂时锁定 %(minutes)s 分钟。请稍后再试，或联系安全管理员解锁。"
    ) % {"minutes": lockout_minutes()}


def locked_out_response(request, original_response=None, credentials=None):
    """The sign-in page again, with the lockout explained (AXES_LOCKOUT_CALLABLE): 429. A
    request that sent JSON (the passkey step of signing in) gets the explanation as JSON."""
    from web.forms import LoginForm

    if request.content_type == "application/json":
        from django.http import JsonResponse

        return JsonResponse({"detail": lockout_message(), "code": "locked_out"}, status=429)

    form = LoginForm(initial={"username": request.POST.get("username", "")[:150]})
    return render(request, "web/login.html", {"form": form, "error": lockout_message(), "next": ""},
                  status=429)


def record_lockout(sender, request, username, ip_address, **kwargs) -> None:
    """axes ``user_locked_out``: a custody event naming the account and the client."""
    from core.clients import client_info
    from custody.choices import EventCode
    from custody.models import Event
    from custody.services import record_event

    name = str(username or "")[:100]
    subject = name[:64] or "unknown"
    # one event when the lock starts, not one per attempt refused while it holds (each of those
    # is an auth.login_failed event already)
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    if Event.objects.filter(action=EventCode.LOGIN_LOCKED_OUT, subject_type="account",
                            subject_id=subject, occurred_at__gte=since).exists():
        return
    client = client_info(request) if request is not None else {}
    record_event(
        EventCode.LOGIN_LOCKED_OUT,
        actor=None,
        actor_name=name or _("未知"),
        subject=("account", subject),
        details={"ip": client.get("ip") or str(ip_address or ""), "user_agent": client.get("user_agent", ""),
                 "username": name, "failures": settings.AXES_FAILURE_LIMIT,
                 "lockout_minutes": lockout_minutes()},
    )
    from access.findings import note_lockout
    from orgs.models import Person

    # a burst of failed sign-ins is a finding for the security administrator (ACC-6)
    note_lockout(name, Person.objects.filter(username=name).first() if name else None)
