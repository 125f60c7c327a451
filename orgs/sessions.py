"""A person's signed-in sessions: the list on the 账号安全 page and signing one out (ACC-6).

Sessions are Django's database sessions; a ``SessionRecord`` beside each says when it was
signed in, when it was last used and from where. Records follow sign-in and sign-out
(``user_logged_in`` / ``user_logged_out``) and are touched at most once a minute by
``orgs.middleware.IdleTimeoutMiddleware``. A session that can no longer be used — expired,
signed out, idle past ``AVR_SESSION_IDLE_MINUTES``, or left behind by a password change (its
stored password hash no longer matches) — is not listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.clients import MAX_LABEL, client_ip
from core.errors import DomainError
from custody.choices import EventCode
from custody.services import record_event
from orgs.models import SessionRecord


class SessionError(DomainError):
    code = "session_error"


# --- bookkeeping (signals and the once-a-minute touch) -------------------------------------


def _client(request) -> dict:
    return {"ip": client_ip(request)[:64], "user_agent": request.headers.get("User-Agent", "")[:MAX_LABEL]}


def record_session_start(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: the new session's record (login() has already given it its key)."""
    session = getattr(request, "session", None) if request is not None else None
    if session is None or user is None or not getattr(user, "pk", None):
        return
    if session.session_key is None:
        session.save()
    now = timezone.now()
    SessionRecord.objects.update_or_create(
        session_key=session.session_key,
        defaults={"person": user, "created_at": now, "last_seen_at": now, **_client(request)},
    )
    _prune(user)


def record_session_end(sender, request, user, **kwargs) -> None:
    """``user_logged_out``: the session is being flushed; its record goes with it."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        SessionRecord.objects.filter(session_key=key).delete()


def touch_session(request) -> None:
    """The session was used (at most once a minute): when, and from which address."""
    key = request.session.session_key
    user = request.user
    if not key or not user.is_authenticated:
        return
    now = timezone.now()
    client = _client(request)
    if not SessionRecord.objects.filter(session_key=key, person_id=user.pk).update(last_seen_at=now, **client):
        # a session signed in before records were kept
        SessionRecord.objects.update_or_create(
            session_key=key, defaults={"person_id": user.pk, "created_at": now, "last_seen_at": now, **client}
        )


def follow_session_key(old_key: str | None, new_key: str | None) -> None:
    """The current session got a new key (a password change cycles it): its record follows."""
    if old_key and new_key and old_key != new_key:
        SessionRecord.objects.filter(session_key=old_key).update(session_key=new_key)


def _prune(person) -> None:
    """Forget records of sessions that no longer exist (expired, flushed or deleted)."""
    keys = list(SessionRecord.objects.filter(person=person).values_list("session_key", flat=True))
    alive = set(Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
                .values_list("session_key", flat=True))
    gone = [k for k in keys if k not in alive]
    if gone:
        SessionRecord.objects.filter(session_key__in=gone).delete()


# --- the list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    pk: int
    created_at: datetime
    last_seen_at: datetime
    ip: str
    browser: str
    system: str
    user_agent: str
    current: bool


def _usable(person, data: dict) -> bool:
    return str(data.get(SESSION_KEY, "")) == str(person.pk) and constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), person.get_session_auth_hash()
    )


def _usable_records(person, *, now=None):
    """``(record, session)`` for each session of ``person`` that can still be used."""
    now = now or timezone.now()
    records = list(SessionRecord.objects.filter(person=person).order_by("-last_seen_at", "-pk"))
    sessions = {s.session_key: s for s in Session.objects.filter(
        session_key__in=[r.session_key for r in records], expire_date__gt=now)}
    idle = settings.SESSION_IDLE_MINUTES
    for record in records:
        session = sessions.get(record.session_key)
        if session is None or not _usable(person, session.get_decoded()):
            continue  # expired, signed out, or from before a password change
        if idle and record.last_seen_at < now - timedelta(minutes=idle, seconds=60):
            continue  # idle: its next request signs it out (with the custody event)
        yield record


def list_sessions(person, *, current_key: str | None) -> list[SessionView]:
    """The person's usable sessions, most recently used first, the current one marked."""
    views = []
    for r in _usable_records(person):
        browser, system = browser_and_system(r.user_agent)
        views.append(SessionView(pk=r.pk, created_at=r.created_at, last_seen_at=r.last_seen_at, ip=r.ip,
                                 browser=browser, system=system, user_agent=r.user_agent,
                                 current=r.session_key == current_key))
    return views


# --- signing sessions out --------------------------------------------------------------------


def _delete_sessions(keys: list[str]) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for key in keys:
        store.delete(key)
    SessionRecord.objects.filter(session_key__in=keys).delete()


def end_other_sessions_of(person, *, keep: str | None) -> int:
    """Sign out every session of ``person`` but ``keep`` (no event: the caller's service writes
    one); how many there were."""
    keys = list(SessionRecord.objects.filter(person=person).exclude(session_key=keep or "")
                .values_list("session_key", flat=True))
    _delete_sessions(keys)
    return len(keys)


def end_session(request, record_id: int, *, actor) -> None:
    """Sign out one of ``actor``'s other sessions: its next request is signed out."""
    with transaction.atomic():
        record = SessionRecord.objects.select_for_update().filter(pk=record_id, person=actor).first()
        if record is None:
            raise SessionError(_("该会话已结束或不存在。"), code="session_not_found")
        if record.session_key == request.session.session_key:
            raise SessionError(_("这是当前会话：请使用“退出登录”。"), code="session_current")
        _delete_sessions([record.session_key])
        record_event(EventCode.SESSION_ENDED, actor=actor, subject=actor,
                     details={"sessions": 1, "ip": client_ip(request)})


def end_other_sessions(request, *, actor) -> int:
    """Sign out every session of ``actor`` but this one; how many were signed out."""
    with transaction.atomic():
        ended = end_other_sessions_of(actor, keep=request.session.session_key)
        if ended:
            record_event(EventCode.SESSION_ENDED, actor=actor, subject=actor,
                         details={"sessions": ended, "ip": client_ip(request)})
    return ended


# --- the browser, in words --------------------------------------------------------------------

# (pattern, Chinese name with the major version as {v}): the first that matches names the
# browser (order matters: Edge and most Chinese browsers also say "Chrome", every one "Mozilla").
_BROWSERS = (
    (re.compile(r"QAXBrowser|Qaxbrowser"), gettext_lazy("奇安信可信浏览器")),
    (re.compile(r"360SE|360EE|QihooBrowser"), gettext_lazy("360 安全浏览器")),
    (re.compile(r"MetaSr"), gettext_lazy("搜狗浏览器")),
    (re.compile(r"QQBrowser/(\d+)"), gettext_lazy("腾讯浏览器 {v}")),
    (re.compile(r"UCBrowser/(\d+)"), gettext_lazy("优视浏览器 {v}")),
    (re.compile(r"Edg(?:e|A|iOS)?/(\d+)"), gettext_lazy("微软浏览器 {v}")),
    (re.compile(r"OPR/(\d+)"), gettext_lazy("欧朋浏览器 {v}")),
    (re.compile(r"Firefox/(\d+)"), gettext_lazy("火狐浏览器 {v}")),
    (re.compile(r"HeadlessChrome/(\d+)"), gettext_lazy("谷歌浏览器 {v}（无界面）")),
    (re.compile(r"(?:Chrome|Chromium|CriOS)/(\d+)"), gettext_lazy("谷歌浏览器 {v}")),
    (re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"), gettext_lazy("苹果浏览器 {v}")),
)
_SYSTEMS = (
    (re.compile(r"HarmonyOS|OpenHarmony"), gettext_lazy("鸿蒙系统")),
    (re.compile(r"Android"), gettext_lazy("安卓系统")),
    (re.compile(r"iPhone|iPad|iPod"), gettext_lazy("苹果移动设备")),
    (re.compile(r"Windows"), gettext_lazy("视窗系统")),
    (re.compile(r"Macintosh|Mac OS X"), gettext_lazy("苹果电脑")),
    (re.compile(r"UOS|uos"), gettext_lazy("统信系统")),
    (re.compile(r"Kylin|kylin"), gettext_lazy("麒麟系统")),
    (re.compile(r"Linux|X11|CrOS"), gettext_lazy("开源桌面系统")),
)


def browser_and_system(user_agent: str) -> tuple[str, str]:
    """A user agent as a person reads it, in Chinese: ("谷歌浏览器 124", "视窗系统"); the raw
    string stays available as technical detail."""
    if not user_agent:
        return _("未知浏览器"), ""
    browser = _("其他浏览器")
    for pattern, name in _BROWSERS:
        match = pattern.search(user_agent)
        if match:
            browser = str(name).format(v=match.group(1) if match.groups() else "").strip()
            break
    system = next((str(name) for pattern, name in _SYSTEMS if pattern.search(user_agent)), "")
    return browser, system


def describe_user_agent(user_agent: str) -> str:
    """``browser_and_system`` on one line: "谷歌浏览器 124 · 视窗系统"."""
    browser, system = browser_and_system(user_agent)
    return f"{browser} · {system}" if system else browser
