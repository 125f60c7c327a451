"""One's signed-in sessions on the 账号安全 page, and signing them out (ACC-6, issue 9)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.testing import make_person
from custody.choices import EventCode
from custody.models import Event
from orgs.middleware import SEEN_KEY
from orgs.models import SessionRecord
from orgs.sessions import describe_user_agent, list_sessions

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-6")]

PASSWORD = "Correct-horse-2026"
HOME, SECURITY, LOGIN = reverse("web:home"), reverse("web:security_overview"), reverse("web:login")
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/124.0.0.0 Safari/537.36")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def person(unit):
    return make_person("officer", unit=unit, username="zhangsan", password=PASSWORD)


def _sign_in(ip: str, agent: str) -> Client:
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    response = client.post(LOGIN, {"username": "zhangsan", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == HOME
    return client


def test_each_session_is_listed_with_its_address_browser_and_times(person):
    office = _sign_in("10.1.1.1", CHROME_WINDOWS)
    home = _sign_in("10.2.2.2", FIREFOX_LINUX)
    page = office.get(SECURITY)
    assert page.status_code == 200
    sessions = page.context["sessions"]
    assert [s.ip for s in sessions] == ["10.2.2.2", "10.1.1.1"]  # most recently used first
    assert [s.current for s in sessions] == [False, True]
    body = page.content.decode()
    assert "当前会话" in body and "谷歌浏览器 124" in body and "视窗系统" in body
    assert "火狐浏览器 128" in body and "开源桌面系统" in body
    assert body.count(">注销</button>") == 1 and "注销其他全部会话" in body
    assert home.get(SECURITY).context["sessions"][0].current


def test_signing_out_another_session_ends_it_at_its_next_request(person):
    office = _sign_in("10.1.1.1", CHROME_WINDOWS)
    phone = _sign_in("10.2.2.2", FIREFOX_LINUX)
    assert phone.get(HOME).status_code == 200
    other = next(s for s in office.get(SECURITY).context["sessions"] if not s.current)
    response = office.post(reverse("web:security_session_end", args=[other.pk]))
    assert response.status_code == 302
    assert "该会话已注销" in office.get(SECURITY).content.decode()
    signed_out = phone.get(HOME)
    assert signed_out.status_code == 302 and signed_out["Location"].startswith(LOGIN)
    assert office.get(HOME).status_code == 200
    event = Event.objects.get(action=EventCode.SESSION_ENDED)
    assert event.actor_id == person.pk and event.details == {"sessions": 1, "ip": "10.1.1.1"}
    assert [s.ip for s in list_sessions(person, current_key=None)] == ["10.1.1.1"]


def test_the_current_session_is_not_signed_out_from_the_list(person):
    office = _sign_in("10.1.1.1", CHROME_WINDOWS)
    current = office.get(SECURITY).context["sessions"][0]
    office.post(reverse("web:security_session_end", args=[current.pk]))
    assert "这是当前会话" in office.get(SECURITY).content.decode()
    assert not Event.objects.filter(action=EventCode.SESSION_ENDED).exists()


def test_another_persons_session_cannot_be_signed_out(person, unit):
    make_person("officer", unit=unit, username="lisi", password=PASSWORD)
    theirs = Client()
    theirs.post(LOGIN, {"username": "lisi", "password": PASSWORD})
    record = SessionRecord.objects.get(person__username="lisi")
    mine = _sign_in("10.1.1.1", CHROME_WINDOWS)
    mine.post(reverse("web:security_session_end", args=[record.pk]))
    assert "该会话已结束或不存在" in mine.get(SECURITY).content.decode()
    assert theirs.get(HOME).status_code == 200


def test_signing_out_all_other_sessions(person):
    sessions = [_sign_in(f"10.0.0.{n}", CHROME_WINDOWS) for n in range(1, 4)]
    keeper = sessions[0]
    keeper.post(reverse("web:security_sessions_end_others"))
    assert "已注销其他 2 个会话" in keeper.get(SECURITY).content.decode()
    for other in sessions[1:]:
        assert other.get(HOME)["Location"].startswith(LOGIN)
    assert keeper.get(HOME).status_code == 200
    assert Event.objects.get(action=EventCode.SESSION_ENDED).details == {"sessions": 2, "ip": "10.0.0.1"}
    keeper.post(reverse("web:security_sessions_end_others"))
    assert "没有其他会话" in keeper.get(SECURITY).content.decode()
    assert Event.objects.filter(action=EventCode.SESSION_ENDED).count() == 1


def test_signing_out_removes_the_session_from_the_list(person):
    office = _sign_in("10.1.1.1", CHROME_WINDOWS)
    phone = _sign_in("10.2.2.2", FIREFOX_LINUX)
    phone.post(reverse("web:logout"))
    assert [s.ip for s in office.get(SECURITY).context["sessions"]] == ["10.1.1.1"]
    assert SessionRecord.objects.filter(person=person).count() == 1


def test_after_a_password_change_only_the_current_session_is_listed(person):
    office = _sign_in("10.1.1.1", CHROME_WINDOWS)
    phone = _sign_in("10.2.2.2", FIREFOX_LINUX)
    response = office.post(reverse("web:password_change"), {
        "old_password": PASSWORD, "new_password1": "Changed-secret-2027", "new_password2": "Changed-secret-2027"})
    assert response.status_code == 302
    sessions = office.get(SECURITY).context["sessions"]
    assert [(s.ip, s.current) for s in sessions] == [("10.1.1.1", True)]  # the key changed; its record followed
    assert phone.get(HOME)["Location"].startswith(LOGIN)


def test_last_seen_is_touched_at_most_once_a_minute(person):
    office = _sign_in("10.1.1.1", CHROME_WINDOWS)
    record = SessionRecord.objects.get(person=person)
    first_seen = record.last_seen_at
    office.get(HOME)
    record.refresh_from_db()
    assert record.last_seen_at == first_seen  # the sign-in itself counted as seen
    session = office.session
    session[SEEN_KEY] = time.time() - 61
    session.save()
    SessionRecord.objects.filter(pk=record.pk).update(last_seen_at=timezone.now() - timedelta(minutes=2))
    office.get(HOME, REMOTE_ADDR="10.1.1.9")
    record.refresh_from_db()
    assert timezone.now() - record.last_seen_at < timedelta(seconds=5) and record.ip == "10.1.1.9"


def test_an_idle_session_is_not_listed(person, settings):
    settings.SESSION_IDLE_MINUTES = 30
    office = _sign_in("10.1.1.1", CHROME_WINDOWS)
    _sign_in("10.2.2.2", FIREFOX_LINUX)
    SessionRecord.objects.filter(ip="10.2.2.2").update(last_seen_at=timezone.now() - timedelta(minutes=45))
    assert [s.ip for s in office.get(SECURITY).context["sessions"]] == ["10.1.1.1"]


@pytest.mark.parametrize(("agent", "shown"), [
    (CHROME_WINDOWS, "谷歌浏览器 124 · 视窗系统"),
    (FIREFOX_LINUX, "火狐浏览器 128 · 开源桌面系统"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
     "Safari/537.36 Edg/124.0.2478.51", "微软浏览器 124 · 视窗系统"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", "苹果浏览器 17 · 苹果移动设备"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile "
     "Safari/537.36", "谷歌浏览器 124 · 安卓系统"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 "
     "Safari/537.36", "谷歌浏览器 156（无界面） · 开源桌面系统"),
    ("curl/8.5.0", "其他浏览器"),
    ("", "未知浏览器"),
])
def test_the_browser_is_named_in_chinese(agent, shown):
    assert describe_user_agent(agent) == shown
