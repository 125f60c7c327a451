"""Two-factor sign-in of a level-3 system (ACC-6, issue 9): 动态口令 and recovery codes.

Every sign-in here goes through the forms (``client.force_login`` stands for a complete
sign-in, both factors: core.testing.force_login_verified).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.testing import make_person, totp_code
from custody.choices import EventCode
from custody.models import Event
from orgs.services import issue_api_token
from orgs.twofactor import PENDING_KEY, requires_two_factor, totp_device
from web.tests.signin import (  # noqa: F401 (fixtures)
    ENROL,
    HOME,
    LOGIN,
    PASSWORD,
    SECURITY,
    VERIFY,
    enrol_through_page,
    head_fixture,
    limits_fixture,
    officer_fixture,
    password_step,
    signed_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-6")]


def test_an_officer_may_sign_in_with_the_password_alone(client, officer):
    assert not requires_two_factor(officer)
    assert password_step(client, "zhangsan")["Location"] == HOME
    assert client.get(HOME).status_code == 200
    page = client.get(SECURITY).content.decode()
    assert "未启用" in page and "启用动态口令" in page


def test_enrolment_shows_a_qr_code_and_the_key_and_issues_ten_recovery_codes(client, officer):
    password_step(client, "zhangsan")
    page = client.get(ENROL).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page and "data-otp-secret" in page
    assert "TOTP" not in page.replace("otp", "")
    codes = enrol_through_page(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c.replace("-", "")) == 12 and c.replace("-", "").isdigit() for c in codes)
    device = totp_device(officer)
    assert device is not None and device.confirmed
    enrolled = Event.objects.get(action=EventCode.OTP_ENROLLED)
    assert enrolled.actor_id == officer.pk and enrolled.details == {"method": "totp", "ip": "127.0.0.1"}
    issued = Event.objects.get(action=EventCode.RECOVERY_CODES_ISSUED)
    assert issued.details == {"codes": 10, "ip": "127.0.0.1"}
    assert client.get(HOME).status_code == 200  # this session counts as verified
    assert "已启用" in client.get(SECURITY).content.decode()


def test_a_wrong_code_at_enrolment_enrols_nothing(client, officer):
    password_step(client, "zhangsan")
    client.get(ENROL)
    response = client.post(ENROL, {"code": "000000"})
    assert response.status_code == 400 and "动态口令不正确" in response.content.decode()
    assert totp_device(officer) is None


def test_sign_in_with_a_code_after_the_password(client, officer):
    password_step(client, "zhangsan")
    enrol_through_page(client)
    client.post(reverse("web:logout"))
    response = password_step(client, "zhangsan")
    assert response["Location"] == VERIFY
    assert not signed_in(client)
    page = client.get(VERIFY)
    assert page.status_code == 200 and "验证动态口令" in page.content.decode()
    logins = Event.objects.filter(action=EventCode.LOGIN).count()
    response = client.post(VERIFY, {"code": totp_code(totp_device(officer))})
    assert response.status_code == 302 and response["Location"] == HOME
    assert signed_in(client) and PENDING_KEY not in client.session
    assert client.get(HOME).status_code == 200
    assert Event.objects.filter(action=EventCode.LOGIN).count() == logins + 1


def test_the_second_step_cannot_be_skipped(client, officer, unit):
    device = _enrol_directly(officer)
    assert password_step(client, "zhangsan")["Location"] == VERIFY
    for url in (HOME, SECURITY, reverse("web:recording_list"), reverse("web:password_change"), ENROL):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN), url
    assert client.get("/api/v1/recordings").status_code == 401
    assert not signed_in(client)
    # the code still works afterwards: only the pending sign-in was kept
    assert client.post(VERIFY, {"code": totp_code(device)})["Location"] == HOME


def test_a_code_is_accepted_once(client, officer):
    device = _enrol_directly(officer)
    password_step(client, "zhangsan")
    code = totp_code(device)
    assert client.post(VERIFY, {"code": code})["Location"] == HOME
    other = Client()
    password_step(other, "zhangsan")
    response = other.post(VERIFY, {"code": code})
    assert response.status_code == 400 and not signed_in(other)


def test_a_wrong_code_is_refused_in_chinese_and_recorded(client, officer):
    device = _enrol_directly(officer)
    password_step(client, "zhangsan")
    response = client.post(VERIFY, {"code": _wrong(device)})
    assert response.status_code == 400
    assert "动态口令不正确" in response.content.decode()
    assert not signed_in(client)
    failed = Event.objects.get(action=EventCode.OTP_FAILED)
    assert failed.actor_id == officer.pk
    assert failed.details == {"method": "totp", "ip": "127.0.0.1", "failures": 1}
    # django-otp's throttling: the next try straight away is refused without being checked
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 400 and "尝试过于频繁" in response.content.decode()


def test_five_wrong_codes_lock_the_account_like_five_wrong_passwords(client, officer, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no waiting between tries: only the lockout counts
    device = _enrol_directly(officer)
    password_step(client, "zhangsan")
    for _n in range(4):
        assert client.post(VERIFY, {"code": _wrong(device)}).status_code == 400
    locked = client.post(VERIFY, {"code": _wrong(device)})
    assert locked.status_code == 429 and "已暂时锁定" in locked.content.decode()
    assert Event.objects.filter(action=EventCode.OTP_FAILED).count() == 5
    assert Event.objects.filter(action=EventCode.LOGIN_LOCKED_OUT, subject_id="zhangsan").exists()
    # the pending sign-in is gone, and the right password does not open the account now
    assert client.get(VERIFY)["Location"] == LOGIN
    assert password_step(client, "zhangsan").status_code == 429
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(client, officer):
    password_step(client, "zhangsan")
    codes = enrol_through_page(client)
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    response = client.post(VERIFY, {"code": codes[3]})
    assert response["Location"] == HOME and signed_in(client)
    used = Event.objects.get(action=EventCode.RECOVERY_CODE_USED)
    assert used.details == {"remaining": 9, "ip": "127.0.0.1"}
    assert "还剩 9 个" in client.get(HOME).content.decode()
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    again = client.post(VERIFY, {"code": codes[3].replace("-", " ")})
    assert again.status_code == 400 and "恢复码不正确或已使用过" in again.content.decode()
    assert not signed_in(client)


def test_regenerated_recovery_codes_replace_the_old_ones(client, officer):
    password_step(client, "zhangsan")
    old = enrol_through_page(client)
    response = client.post(reverse("web:security_recovery_codes"))
    assert response.status_code == 200
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert Event.objects.filter(action=EventCode.RECOVERY_CODES_ISSUED).count() == 2
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    assert client.post(VERIFY, {"code": old[0]}).status_code == 400
    _static_unthrottle(officer)  # (a failure slows the next try down for a second)
    assert client.post(VERIFY, {"code": new[0]})["Location"] == HOME


def test_a_department_head_must_enrol_before_any_other_page(client, head):
    assert requires_two_factor(head)
    assert password_step(client, "machao")["Location"] == ENROL
    for url in (HOME, SECURITY, reverse("web:recording_list"), reverse("web:my_access"), "/no-such-page/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == ENROL, url
    assert client.get("/api/v1/recordings").status_code == 401  # the session is not the API's
    page = client.get(ENROL)
    assert page.status_code == 200
    assert "您的角色须使用双因素认证" in page.content.decode()
    enrol_through_page(client)
    assert client.get(HOME).status_code == 200
    client.post(reverse("web:logout"))
    assert password_step(client, "machao")["Location"] == VERIFY


@pytest.mark.parametrize("role", ["legal_office", "system_admin", "security_admin", "audit_admin"])
def test_every_role_that_opens_others_records_or_the_platform_must_enrol(client, unit, role):
    make_person(role, department=unit.department, username="boss", password=PASSWORD)
    assert password_step(client, "boss")["Location"] == ENROL
    assert client.get(HOME)["Location"] == ENROL


@pytest.mark.parametrize("role", ["officer", "custodian", "unit_head"])
def test_other_roles_may_enrol_but_need_not(client, unit, role):
    make_person(role, unit=unit, username="staff", password=PASSWORD)
    assert password_step(client, "staff")["Location"] == HOME


def test_a_department_head_cannot_remove_the_second_factor_only_replace_it(client, head):
    password_step(client, "machao")
    enrol_through_page(client)
    first = totp_device(head)
    response = client.post(reverse("web:security_totp_remove"), {"password": PASSWORD})
    assert response.status_code == 302
    assert "不能停用动态口令" in client.get(SECURITY).content.decode()
    assert totp_device(head) == first
    # replacing: a new key confirmed with its own code; the old device is gone
    enrol_through_page(client)
    second = totp_device(head)
    assert second is not None and second.pk != first.pk
    assert Event.objects.filter(action=EventCode.OTP_REMOVED).count() == 1
    assert client.get(HOME).status_code == 200


def test_an_officer_removes_the_second_factor_with_the_password(client, officer):
    password_step(client, "zhangsan")
    enrol_through_page(client)
    client.post(reverse("web:security_totp_remove"), {"password": "wrong"})
    assert "密码不正确" in client.get(SECURITY).content.decode() and totp_device(officer) is not None
    client.post(reverse("web:security_totp_remove"), {"password": PASSWORD})
    assert totp_device(officer) is None
    removed = Event.objects.get(action=EventCode.OTP_REMOVED)
    assert removed.details == {"method": "totp", "ip": "127.0.0.1"}
    assert client.get(HOME).status_code == 200  # this session carries on
    client.post(reverse("web:logout"))
    assert password_step(client, "zhangsan")["Location"] == HOME  # the password alone again


def test_enrolling_signs_out_the_sessions_that_had_the_password_alone(client, officer):
    other = Client()
    password_step(other, "zhangsan")
    assert other.get(HOME).status_code == 200
    password_step(client, "zhangsan")
    enrol_through_page(client)
    response = other.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert Event.objects.get(action=EventCode.SESSION_ENDED).details == {"sessions": 1, "ip": "127.0.0.1"}


def test_a_session_from_before_the_second_factor_is_signed_out(client, officer):
    """A session signed in with the password alone (here: an older one, without the note that
    says so) whose account has a 动态口令 now is not left signed in."""
    client.post(LOGIN, {"username": "zhangsan", "password": PASSWORD})
    session = client.session
    from orgs.twofactor import PASSWORD_ONLY_KEY

    del session[PASSWORD_ONLY_KEY]
    session.save()
    _enrol_directly(officer)
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_api_tokens_are_not_affected(client, head):
    _row, token = issue_api_token(head, "办案系统对接", actor=None)
    response = client.get("/api/v1/recordings", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200  # no device, required: the token still works
    password_step(client, "machao")  # a session held on the enrolment page, with a token too
    assert client.get("/api/v1/recordings", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_a_lockout_still_works_at_the_password_step_for_a_person_with_a_second_factor(client, head):
    _enrol_directly(head)
    for _ in range(5):
        password_step(client, "machao", "wrong")
    assert password_step(client, "machao").status_code == 429
    assert not signed_in(client) and PENDING_KEY not in client.session


def test_the_pending_sign_in_expires(client, officer, monkeypatch):
    import time as time_module

    device = _enrol_directly(officer)
    password_step(client, "zhangsan")
    later = time_module.time() + 301
    monkeypatch.setattr("orgs.twofactor.time.time", lambda: later)
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response["Location"] == LOGIN and not signed_in(client)


# --- helpers ----------------------------------------------------------------------------------


def _enrol_directly(person):
    from core.testing import enrol_totp

    return enrol_totp(person)


def _wrong(device) -> str:
    right = int(totp_code(device))
    return f"{(right + 1) % 1_000_000:06d}"


def _static_unthrottle(person):
    from orgs.models import RecoveryCodeDevice

    RecoveryCodeDevice.objects.filter(user=person).update(throttling_failure_count=0, throttling_failure_timestamp=None)
