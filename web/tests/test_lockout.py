"""Sign-in lockout after repeated failures, per account and per client address (ACC-6).

The finding of issue 9: 30 wrong passwords in 14 s, then the right one signed in.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.testing import make_person
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-6")]

PASSWORD = "Correct-horse-2026"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def _login(client, username, password, ip="10.0.0.7"):
    return client.post(reverse("web:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, unit):
    make_person("officer", unit=unit, username="zhangsan", password=PASSWORD)
    for _ in range(4):
        assert _login(client, "zhangsan", "wrong").status_code == 400
    locked = _login(client, "zhangsan", "wrong")
    assert locked.status_code == 429
    assert "已暂时锁定 15 分钟" in locked.content.decode()
    right = _login(client, "zhangsan", PASSWORD)
    assert right.status_code == 429  # the right password does not open a locked account
    assert "_auth_user_id" not in client.session
    event = Event.objects.get(action=EventCode.LOGIN_LOCKED_OUT)
    assert event.subject_id == "zhangsan"
    assert event.details["failures"] == 5 and event.details["ip"] == "10.0.0.7"


def test_the_account_is_one_whatever_the_case_or_width_of_its_name(client, unit):
    make_person("officer", unit=unit, username="zhangsan", password=PASSWORD)
    for name in ("zhangsan", "ZhangSan", "ＺＨＡＮＧＳＡＮ", "zhangsan ", "ZHANGSAN"):
        _login(client, name, "wrong", ip=f"10.0.1.{len(name)}")
    assert _login(client, "zhangsan", PASSWORD, ip="10.0.2.1").status_code == 429


def test_one_client_address_is_locked_across_accounts(client, unit):
    for n in range(5):
        _login(client, f"guess{n}", "wrong", ip="10.9.9.9")
    make_person("officer", unit=unit, username="lisi", password=PASSWORD)
    assert _login(client, "lisi", PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(client, "lisi", PASSWORD, ip="10.9.9.10").status_code == 302  # another address


def test_a_success_before_the_limit_resets_the_count(client, unit):
    make_person("officer", unit=unit, username="zhangsan", password=PASSWORD)
    for _ in range(4):
        _login(client, "zhangsan", "wrong")
    assert _login(client, "zhangsan", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "zhangsan", "wrong", ip="10.0.0.8").status_code == 400


def test_a_security_administrator_unlocks_an_account(client, unit):
    make_person("officer", unit=unit, username="zhangsan", password=PASSWORD)
    for _ in range(5):
        _login(client, "zhangsan", "wrong")
    assert _login(client, "zhangsan", PASSWORD, ip="10.0.3.1").status_code == 429
    call_command("axes_reset_username", "zhangsan")
    assert _login(client, "zhangsan", PASSWORD, ip="10.0.3.1").status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, unit, settings):
    from axes.models import AccessAttempt

    make_person("officer", unit=unit, username="zhangsan", password=PASSWORD)
    for _ in range(5):
        _login(client, "zhangsan", "wrong")
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16))
    assert _login(client, "zhangsan", PASSWORD).status_code == 302
