"""A security administrator resets someone's two-factor sign-in (phone lost; ACC-6, issue 9):
``orgs.twofactor.reset_two_factor`` and the ``reset_two_factor`` command."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp_webauthn.models import WebAuthnCredential

from core.testing import enrol_totp, make_person, make_unit, totp_code
from custody.choices import EventCode
from custody.models import Event
from orgs.models import RecoveryCode, RecoveryCodeDevice, SessionRecord
from orgs.recovery import issue_codes
from orgs.twofactor import TwoFactorError, has_two_factor, reset_two_factor, totp_device

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-6")]

PASSWORD = "Correct-horse-2026"


@pytest.fixture
def unit(db):
    return make_unit()


@pytest.fixture
def security_admin(unit):
    return make_person("security_admin", department=unit.department, username="anquan", password=PASSWORD)


@pytest.fixture
def head(unit):
    person = make_person("department_head", department=unit.department, username="machao", password=PASSWORD)
    enrol_totp(person)
    _passkey(person)
    issue_codes(person)
    return person


def _passkey(person) -> WebAuthnCredential:
    """A stored passkey (what the registration ceremony leaves: web/tests/test_passkeys.py)."""
    return WebAuthnCredential.objects.create(
        user=person, name="通行密钥", confirmed=True, credential_id=os.urandom(32), public_key=b"\xa5",
        aaguid="00000000-0000-0000-0000-000000000000",
    )


def _signed_in_session(person) -> Client:
    client = Client()
    client.force_login(person)
    assert client.get(reverse("web:home")).status_code == 200
    return client


def test_a_security_admin_resets_a_department_heads_second_factors(security_admin, head):
    session = _signed_in_session(head)
    methods = reset_two_factor(head, actor=security_admin, comment="  手机丢失，本人书面申请  ")
    assert methods == ["totp", "webauthn"]
    assert totp_device(head) is None and not WebAuthnCredential.objects.filter(user=head).exists()
    assert not RecoveryCodeDevice.objects.filter(user=head).exists() and not RecoveryCode.objects.exists()
    assert not has_two_factor(head)
    event = Event.objects.get(action=EventCode.OTP_RESET)
    assert event.actor_id == security_admin.pk
    assert (event.subject_type, event.subject_id) == ("person", str(head.pk))
    assert event.details == {"method": ["totp", "webauthn"], "comment": "手机丢失，本人书面申请", "ip": "",
                             "sessions": 1}
    # the person's session is over
    assert not SessionRecord.objects.filter(person=head).exists()
    response = session.get(reverse("web:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("web:login"))


def test_after_a_reset_a_person_who_must_use_it_enrols_again_at_sign_in(security_admin, head):
    reset_two_factor(head, actor=security_admin, comment="手机丢失")
    client = Client()
    response = client.post(reverse("web:login"), {"username": "machao", "password": PASSWORD})
    assert response["Location"] == reverse("web:security_totp")  # no second step: nothing to give
    held = client.get(reverse("web:recording_list"))
    assert held.status_code == 302 and held["Location"] == reverse("web:security_totp")


def test_one_method_is_named_as_it_is(security_admin, unit):
    officer = make_person("officer", unit=unit, username="zhangsan", password=PASSWORD)
    device = enrol_totp(officer)
    assert totp_code(device)
    assert reset_two_factor(officer, actor=security_admin, comment="换手机") == ["totp"]
    assert Event.objects.get(action=EventCode.OTP_RESET).details["method"] == "totp"


@pytest.mark.parametrize("role", ["system_admin", "audit_admin", "department_head", "legal_office", "officer"])
def test_only_a_security_admin_may_reset(unit, head, role):
    other = make_person(role, department=unit.department, unit=unit if role == "officer" else None)
    with pytest.raises(TwoFactorError) as refused:
        reset_two_factor(head, actor=other, comment="手机丢失")
    assert refused.value.status == 403 and "只有安全管理员" in refused.value.message
    assert has_two_factor(head) and not Event.objects.filter(action=EventCode.OTP_RESET).exists()


def test_an_inactive_security_admin_may_not_reset(security_admin, head):
    security_admin.is_active = False
    security_admin.save()
    with pytest.raises(TwoFactorError):
        reset_two_factor(head, actor=security_admin, comment="手机丢失")
    assert has_two_factor(head)


def test_a_security_admin_cannot_reset_their_own(security_admin):
    enrol_totp(security_admin)
    with pytest.raises(TwoFactorError) as refused:
        reset_two_factor(security_admin, actor=security_admin, comment="手机丢失")
    assert "不能重置自己的" in refused.value.message
    assert has_two_factor(security_admin)


@pytest.mark.parametrize(("comment", "says"), [
    ("", "请填写重置原因"),
    ("   \n ", "请填写重置原因"),
    (None, "请填写重置原因"),
    ("长" * 501, "不能超过 500 个字"),
])
def test_a_reason_is_required_and_bounded(security_admin, head, comment, says):
    with pytest.raises(TwoFactorError) as refused:
        reset_two_factor(head, actor=security_admin, comment=comment)
    assert says in refused.value.message
    assert has_two_factor(head) and not Event.objects.filter(action=EventCode.OTP_RESET).exists()


def test_five_hundred_characters_are_enough(security_admin, head):
    reset_two_factor(head, actor=security_admin, comment="长" * 500)
    assert Event.objects.get(action=EventCode.OTP_RESET).details["comment"] == "长" * 500


def test_nothing_to_reset_is_said_so(security_admin, unit):
    plain = make_person("officer", unit=unit)
    with pytest.raises(TwoFactorError) as refused:
        reset_two_factor(plain, actor=security_admin, comment="手机丢失")
    assert refused.value.status == 409 and "无需重置" in refused.value.message


# --- the command ------------------------------------------------------------------------------


def _run(*args) -> str:
    out = StringIO()
    call_command("reset_two_factor", *args, stdout=out)
    return out.getvalue()


def test_the_command_resets_and_says_so_in_chinese(security_admin, head):
    out = _run("machao", "--by", "anquan", "--comment", "手机丢失，本人书面申请")
    assert "已重置" in out and "动态口令、通行密钥" in out and "须重新绑定" in out
    assert not has_two_factor(head)
    event = Event.objects.get(action=EventCode.OTP_RESET)
    assert event.actor_id == security_admin.pk and event.details["comment"] == "手机丢失，本人书面申请"
    assert event.request_id  # under a correlation id, as every command


@pytest.mark.parametrize(("args", "says"), [
    (("nobody", "--by", "anquan", "--comment", "手机丢失"), "用户 nobody 不存在"),
    (("machao", "--by", "nobody", "--comment", "手机丢失"), "用户 nobody 不存在"),
    (("machao", "--by", "machao", "--comment", "手机丢失"), "只有安全管理员"),
    (("anquan", "--by", "anquan", "--comment", "手机丢失"), "不能重置自己的"),
    (("machao", "--by", "anquan", "--comment", " "), "请填写重置原因"),
])
def test_the_command_refuses_in_chinese(security_admin, head, args, says):
    enrol_totp(security_admin)
    with pytest.raises(CommandError, match=says):
        _run(*args)
    assert has_two_factor(head)
