"""Passkeys (通行密钥, WebAuthn) as a second factor (ACC-6, issue 9): adding one on the 账号安全
page, signing in with the password and a passkey, failures, removing one — through the same
JSON endpoints the library's script calls, answered by a software passkey (web.tests.passkeys).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp_webauthn.models import WebAuthnCredential
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.testing import enrol_totp, make_person, totp_code
from custody.choices import EventCode
from custody.models import Event
from orgs.passkeys import allowed_origins, passkeys_available, relying_party_id
from orgs.twofactor import PENDING_KEY, has_two_factor, recovery_codes_left, totp_device
from web.tests.passkeys import SoftPasskey, b64url
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
from web.views.passkeys import SCRIPT_TEXTS

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-6")]

ADDED = reverse("web:security_passkey_added")
REG_BEGIN = reverse("otp_webauthn:credential-registration-begin")
REG_DONE = reverse("otp_webauthn:credential-registration-complete")
AUTH_BEGIN = reverse("otp_webauthn:credential-authentication-begin")
AUTH_DONE = reverse("otp_webauthn:credential-authentication-complete")
TEXTS = reverse("otp_webauthn:js-i18n-catalog")
ENDPOINTS = (REG_BEGIN, REG_DONE, AUTH_BEGIN, AUTH_DONE)


def _json(client, url, body=None, **extra):
    data = json.dumps(body) if body is not None else ""
    return client.post(url, data, content_type="application/json", **extra)


def _add_passkey(client, passkey=None) -> SoftPasskey:
    """Add a passkey through the endpoints, as the script on the 账号安全 page does."""
    passkey = passkey or SoftPasskey()
    options = client.post(REG_BEGIN)
    assert options.status_code == 200, options.content.decode()
    done = _json(client, REG_DONE, passkey.register(options.json()), HTTP_USER_AGENT=CHROME)
    assert done.status_code == 200, done.content.decode()
    assert done.json()["id"]
    return passkey


def _use_passkey(client, passkey, **answer):
    options = client.post(AUTH_BEGIN)
    assert options.status_code == 200, options.content.decode()
    return _json(client, AUTH_DONE, passkey.authenticate(options.json(), **answer))


CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


# --- adding one ---------------------------------------------------------------------------------


def test_an_officer_adds_a_passkey_and_gets_recovery_codes_once(client, officer):
    password_step(client, "zhangsan")
    page = client.get(SECURITY).content.decode()
    assert "通行密钥" in page and 'id="otp_webauthn_config"' in page and "passkey-registration-placeholder" in page
    assert not has_two_factor(officer)
    _add_passkey(client)
    device = WebAuthnCredential.objects.get(user=officer)
    assert device.confirmed and device.name == "通行密钥（谷歌浏览器 130 · 视窗系统）"
    assert has_two_factor(officer)
    enrolled = Event.objects.get(action=EventCode.OTP_ENROLLED)
    assert enrolled.actor_id == officer.pk and enrolled.details == {"method": "webauthn", "ip": "127.0.0.1"}
    # the page the script goes to next: the recovery codes, this once
    shown = client.post(ADDED)
    assert shown.status_code == 200 and len(shown.context["codes"]) == 10
    assert recovery_codes_left(officer) == 10
    assert Event.objects.filter(action=EventCode.RECOVERY_CODES_ISSUED).count() == 1
    again = client.post(ADDED)  # codes exist: none issued, none shown
    assert again.status_code == 302 and again["Location"] == SECURITY
    assert Event.objects.filter(action=EventCode.RECOVERY_CODES_ISSUED).count() == 1
    # listed with name, created, last used
    page = client.get(SECURITY).content.decode()
    assert "通行密钥（谷歌浏览器 130 · 视窗系统）" in page and "尚未使用" in page and "已启用" in page
    assert client.get(HOME).status_code == 200  # this session counts as verified


def test_adding_the_first_passkey_signs_out_sessions_with_the_password_alone(client, officer):
    other = Client()
    password_step(other, "zhangsan")
    assert other.get(HOME).status_code == 200
    password_step(client, "zhangsan")
    _add_passkey(client)
    response = other.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert Event.objects.get(action=EventCode.SESSION_ENDED).details == {"sessions": 1, "ip": "127.0.0.1"}


def test_a_department_head_may_enrol_a_passkey_instead_of_the_totp(client, head):
    assert password_step(client, "machao")["Location"] == ENROL
    page = client.get(ENROL).content.decode()
    assert "或者：使用通行密钥" in page and 'id="otp_webauthn_config"' in page
    assert client.get(TEXTS).status_code == 200  # the script's texts load on the held page
    passkey = _add_passkey(client)
    shown = client.post(ADDED, {"forced": "1"})
    assert shown.status_code == 200 and len(shown.context["codes"]) == 10
    assert 'href="/"' in shown.content.decode()  # continue to the platform
    assert client.get(HOME).status_code == 200
    assert totp_device(head) is None and has_two_factor(head)
    client.post(reverse("web:logout"))
    assert password_step(client, "machao")["Location"] == VERIFY
    assert _use_passkey(client, passkey).json()["redirect_url"] == HOME
    assert client.get(HOME).status_code == 200


def test_a_second_passkey_is_added_once_signed_in_with_the_first(client, officer):
    password_step(client, "zhangsan")
    _add_passkey(client)
    _add_passkey(client)
    assert WebAuthnCredential.objects.filter(user=officer).count() == 2
    assert not Event.objects.filter(action=EventCode.SESSION_ENDED).exists()


def test_a_registration_cannot_be_completed_twice_or_without_beginning(client, officer):
    password_step(client, "zhangsan")
    passkey = SoftPasskey()
    answer = passkey.register(client.post(REG_BEGIN).json())
    assert _json(client, REG_DONE, answer).status_code == 200
    replay = _json(client, REG_DONE, answer)
    assert replay.status_code == 400 and replay.json()["code"] == "invalid_state"
    assert "验证已过期或未开始" in replay.json()["detail"]
    assert WebAuthnCredential.objects.filter(user=officer).count() == 1


def test_a_registration_from_another_origin_is_refused(client, officer):
    password_step(client, "zhangsan")
    passkey = SoftPasskey()
    answer = passkey.register(client.post(REG_BEGIN).json(), origin="https://evil.example")
    response = _json(client, REG_DONE, answer)
    assert response.status_code == 422 and "通行密钥验证未通过" in response.json()["detail"]
    assert not WebAuthnCredential.objects.exists()
    assert not Event.objects.filter(action=EventCode.OTP_ENROLLED).exists()


def test_registration_needs_a_signed_in_session(client, officer):
    for url in (REG_BEGIN, REG_DONE):
        response = client.post(url)
        assert response.status_code == 403 and response.json()["code"] == "not_authenticated"
    password_step(client, "zhangsan")
    enrol_totp(officer)  # enrolled elsewhere: this password-only session is signed out
    assert client.post(REG_BEGIN).status_code == 403


# --- signing in with one ------------------------------------------------------------------------


def test_sign_in_with_the_password_and_a_passkey(client, officer):
    password_step(client, "zhangsan")
    passkey = _add_passkey(client)
    client.post(ADDED)  # the recovery codes
    client.post(reverse("web:logout"))
    assert password_step(client, "zhangsan")["Location"] == VERIFY
    page = client.get(VERIFY).content.decode()
    assert "使用通行密钥" in page and "第二步：验证通行密钥" in page
    assert 'name="code"' in page and "恢复码" in page  # the codes issued with the passkey stand in
    assert "动态口令" not in page.split("<body", 1)[1].split("验证失败的尝试", 1)[0]
    options = client.post(AUTH_BEGIN).json()
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(passkey.credential_id)]
    logins = Event.objects.filter(action=EventCode.LOGIN).count()
    response = _json(client, AUTH_DONE, passkey.authenticate(options))
    assert response.status_code == 200 and response.json()["redirect_url"] == HOME
    assert signed_in(client) and PENDING_KEY not in client.session
    device = WebAuthnCredential.objects.get(user=officer)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert device.last_used_at is not None and device.sign_count == 1
    assert Event.objects.filter(action=EventCode.LOGIN).count() == logins + 1
    assert client.get(HOME).status_code == 200


def test_sign_in_goes_where_it_was_going(client, officer):
    password_step(client, "zhangsan")
    passkey = _add_passkey(client)
    client.post(reverse("web:logout"))
    client.post(LOGIN + "?next=/security/", {"username": "zhangsan", "password": PASSWORD, "next": "/security/"})
    response = _use_passkey(client, passkey)
    assert response.json()["redirect_url"] == SECURITY


def test_a_person_with_both_sees_both_and_either_works(client, head):
    password_step(client, "machao")

    enrol_through_page(client)
    passkey = _add_passkey(client)
    client.post(reverse("web:logout"))
    password_step(client, "machao")
    page = client.get(VERIFY).content.decode()
    assert "第二步：验证动态口令或通行密钥" in page and "使用通行密钥" in page and 'placeholder="6 位数字"' in page
    assert client.post(VERIFY, {"code": totp_code(totp_device(head))})["Location"] == HOME
    client.post(reverse("web:logout"))
    password_step(client, "machao")
    assert _use_passkey(client, passkey).status_code == 200


def test_a_passkey_cannot_skip_the_password(client, officer):
    """No passwordless sign-in: without a pending sign-in the ceremony does not begin."""
    password_step(client, "zhangsan")
    passkey = _add_passkey(client)
    client.post(reverse("web:logout"))
    response = client.post(AUTH_BEGIN)
    assert response.status_code == 403 and "请重新输入用户名和密码" in response.json()["detail"]
    response = _json(client, AUTH_DONE, passkey.authenticate({"challenge": "AAAA"}))
    assert response.status_code in (400, 403) and not signed_in(client)


def test_a_forged_answer_is_refused_recorded_and_counted(client, officer):
    password_step(client, "zhangsan")
    passkey = _add_passkey(client)
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    response = _use_passkey(client, passkey, signer=SoftPasskey())  # someone else's key signed it
    assert response.status_code == 422
    assert response.json()["detail"].startswith("通行密钥验证未通过")
    assert not signed_in(client) and PENDING_KEY in client.session
    failed = Event.objects.get(action=EventCode.OTP_FAILED)
    assert failed.actor_id == officer.pk and failed.details == {"method": "webauthn", "ip": "127.0.0.1"}
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get().failures_since_start == 1
    # the right answer still works afterwards
    assert _use_passkey(client, passkey).status_code == 200


@pytest.mark.parametrize("answer", [
    {"origin": "https://evil.example"},
    {"rp_id": "evil.example"},
])
def test_an_answer_for_another_site_is_refused(client, officer, answer):
    password_step(client, "zhangsan")
    passkey = _add_passkey(client)
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    response = _use_passkey(client, passkey, **answer)
    assert response.status_code == 422 and not signed_in(client)
    assert Event.objects.filter(action=EventCode.OTP_FAILED).count() == 1


def test_someone_elses_passkey_is_refused(client, officer, unit):
    make_person("officer", unit=unit, username="lisi", password=PASSWORD)
    password_step(client, "lisi")
    theirs = _add_passkey(client)
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    _add_passkey(client)
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    response = _use_passkey(client, theirs)
    assert response.status_code == 403 and "不属于此账号" in response.json()["detail"]
    unknown = _use_passkey(client, SoftPasskey())
    assert unknown.status_code == 404 and "未在本平台登记" in unknown.json()["detail"]
    assert Event.objects.filter(action=EventCode.OTP_FAILED, actor_id=officer.pk).count() == 2
    assert not signed_in(client)


def test_five_failures_lock_the_account_like_wrong_codes(client, officer):
    password_step(client, "zhangsan")
    passkey = _add_passkey(client)
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    for _n in range(4):
        assert _use_passkey(client, passkey, signer=SoftPasskey()).status_code == 422
    locked = _use_passkey(client, passkey, signer=SoftPasskey())
    assert locked.status_code == 429 and "已暂时锁定" in locked.json()["detail"]
    assert Event.objects.filter(action=EventCode.LOGIN_LOCKED_OUT, subject_id="zhangsan").exists()
    assert PENDING_KEY not in client.session and not signed_in(client)
    assert client.post(AUTH_BEGIN).status_code == 403  # the pending sign-in is gone
    assert password_step(client, "zhangsan").status_code == 429


def test_an_answer_is_accepted_once(client, officer):
    password_step(client, "zhangsan")
    passkey = _add_passkey(client)
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    options = client.post(AUTH_BEGIN).json()
    answer = passkey.authenticate(options)
    assert _json(client, AUTH_DONE, answer).status_code == 200
    client.post(reverse("web:logout"))
    password_step(client, "zhangsan")
    client.post(AUTH_BEGIN)  # a new challenge: the old answer does not meet it
    replay = _json(client, AUTH_DONE, answer)
    assert replay.status_code == 422 and not signed_in(client)
    again = _json(client, AUTH_DONE, answer)  # and the state was used up by the try
    assert again.status_code == 400 and again.json()["code"] == "invalid_state"


# --- no 500 on bad input --------------------------------------------------------------------------


def _ready_for_every_endpoint(client, officer):
    """A pending sign-in in ``client`` (authentication) and a signed-in ``other`` (registration)."""
    other = Client()
    password_step(other, "zhangsan")
    passkey = _add_passkey(other)
    password_step(client, "zhangsan")
    return other, passkey


BAD_BODIES = [
    (b"{not json", "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'"a string"', "application/json"),
    (b"null", "application/json"),
    (b"[" * 5000 + b"]" * 5000, "application/json"),
    (b'{"id": 1, "rawId": [], "response": "x", "type": null}', "application/json"),
    (b'{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"clientDataJSON": "!!!"}}', "application/json"),
    (b"id=1&response=2", "application/x-www-form-urlencoded"),
    (b"", "text/plain"),
]


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
def test_bad_bodies_answer_a_clear_4xx_never_500(client, officer, body, content_type):
    other, _passkey = _ready_for_every_endpoint(client, officer)
    for session, begin, done in ((other, REG_BEGIN, REG_DONE), (client, AUTH_BEGIN, AUTH_DONE)):
        for with_state in (False, True):
            if with_state:
                assert session.post(begin).status_code == 200
            response = session.generic("POST", done, body, content_type=content_type)
            assert 400 <= response.status_code < 500, (done, with_state, response.content[:300])
            assert response["Content-Type"] == "application/json"
            assert re.search(r"[\u4e00-\u9fff]", response.json()["detail"]), response.json()
    assert not signed_in(client)


def test_other_methods_and_a_missing_pending_sign_in_are_4xx(client, officer):
    for url in ENDPOINTS:
        for method in ("GET", "PUT", "DELETE", "POST"):
            response = client.generic(method, url)
            assert 400 <= response.status_code < 500, (method, url, response.status_code)
    assert client.get(TEXTS).status_code == 200


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40) | st.sampled_from(["AAAA", "public-key", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "rawId", "type", "response", "clientDataJSON", "attestationObject",
                         "authenticatorData", "signature", "userHandle", "transports", "clientExtensionResults",
                         "authenticatorAttachment", "credProps", "rk"]), inner, max_size=5),
    max_leaves=12,
)


BODIES = st.dictionaries(
    st.sampled_from(["id", "rawId", "type", "response", "clientExtensionResults", "authenticatorAttachment"]),
    JSON_VALUES, max_size=6,
)


def test_any_json_object_answers_4xx_never_500(client, officer):
    other, _passkey = _ready_for_every_endpoint(client, officer)

    @hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(body=BODIES)
    def check(body):
        for session, begin, done in ((other, REG_BEGIN, REG_DONE), (client, AUTH_BEGIN, AUTH_DONE)):
            session.post(begin)
            response = _json(session, done, body)
            assert 400 <= response.status_code < 500, (done, body, response.content[:300])

    check()


# --- removing one ---------------------------------------------------------------------------------


def test_an_officer_removes_a_passkey_with_the_password(client, officer):
    password_step(client, "zhangsan")
    _add_passkey(client)
    client.post(ADDED)
    device = WebAuthnCredential.objects.get(user=officer)
    remove = reverse("web:security_passkey_remove", args=[device.pk])
    client.post(remove, {"password": "wrong"})
    assert "密码不正确，通行密钥未删除" in client.get(SECURITY).content.decode()
    assert WebAuthnCredential.objects.filter(pk=device.pk).exists()
    client.post(remove, {"password": PASSWORD})
    assert not WebAuthnCredential.objects.filter(pk=device.pk).exists()
    removed = Event.objects.get(action=EventCode.OTP_REMOVED)
    assert removed.details == {"method": "webauthn", "ip": "127.0.0.1"}
    assert recovery_codes_left(officer) == 0  # the last second factor: the codes go with it
    assert client.get(HOME).status_code == 200  # this session carries on, with the password alone
    client.post(reverse("web:logout"))
    assert password_step(client, "zhangsan")["Location"] == HOME


def test_only_ones_own_passkey_can_be_removed(client, officer, unit):
    make_person("officer", unit=unit, username="lisi", password=PASSWORD)
    other = Client()
    password_step(other, "lisi")
    _add_passkey(other)
    theirs = WebAuthnCredential.objects.get(user__username="lisi")
    password_step(client, "zhangsan")
    client.post(reverse("web:security_passkey_remove", args=[theirs.pk]), {"password": PASSWORD})
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()
    assert "该通行密钥已删除或不存在" in client.get(SECURITY).content.decode()


def test_a_department_head_keeps_at_least_one_second_factor(client, head):
    password_step(client, "machao")
    _add_passkey(client)
    client.post(ADDED, {"forced": "1"})
    only = WebAuthnCredential.objects.get(user=head)
    page = client.get(SECURITY).content.decode()
    assert "删除这个通行密钥" not in page
    client.post(reverse("web:security_passkey_remove", args=[only.pk]), {"password": PASSWORD})
    assert WebAuthnCredential.objects.filter(pk=only.pk).exists()
    assert "请先添加另一个通行密钥或启用动态口令" in client.get(SECURITY).content.decode()
    # with a 动态口令 too, the passkey the session signed in with can go; the session stays

    enrol_through_page(client)
    client.post(reverse("web:security_passkey_remove", args=[only.pk]), {"password": PASSWORD})
    assert not WebAuthnCredential.objects.filter(pk=only.pk).exists()
    assert recovery_codes_left(head) == 10  # the 动态口令 is left: the codes stay
    assert client.get(HOME).status_code == 200


def test_removing_the_device_the_session_signed_in_with_keeps_it_signed_in(client, head):
    """A department head with a passkey may stop using the 动态口令; this session, signed in
    with the 动态口令, goes on under the passkey (not signed out by the two-factor gate)."""
    enrol_totp(head)
    password_step(client, "machao")
    assert client.post(VERIFY, {"code": totp_code(totp_device(head))})["Location"] == HOME
    _add_passkey(client)
    page = client.get(SECURITY).content.decode()
    assert "停用动态口令" in page  # a passkey is left: allowed for a department head
    client.post(reverse("web:security_totp_remove"), {"password": PASSWORD})
    assert totp_device(head) is None
    assert client.get(HOME).status_code == 200
    device = WebAuthnCredential.objects.get(user=head)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


# --- where passkeys work --------------------------------------------------------------------------


def test_the_relying_party_is_the_host_name_and_its_https_origin(rf, settings):
    settings.ALLOWED_HOSTS = ["avr.example.gov.cn", "localhost", "127.0.0.1"]
    request = rf.get("/", HTTP_HOST="avr.example.gov.cn")
    assert relying_party_id(request) == "avr.example.gov.cn"
    assert allowed_origins(request) == ["https://avr.example.gov.cn"]
    assert passkeys_available(request)
    local = rf.get("/", HTTP_HOST="localhost:8000")
    assert relying_party_id(local) == "localhost"
    assert allowed_origins(local) == ["https://localhost:8000", "http://localhost:8000"]
    assert not passkeys_available(rf.get("/", HTTP_HOST="127.0.0.1:8000"))


def test_under_an_ip_address_the_page_says_passkeys_need_the_name(client, officer, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    password_step(client, "zhangsan")
    page = client.get(SECURITY, HTTP_HOST="127.0.0.1").content.decode()
    assert "通过 IP 地址访问平台时不能使用通行密钥" in page and "otp_webauthn_config" not in page


def test_every_text_of_the_librarys_script_is_in_chinese(client):
    import django_otp_webauthn

    static = Path(django_otp_webauthn.__file__).parent / "static" / "django_otp_webauthn"
    used = set()
    for script in ("otp_webauthn_register.js", "otp_webauthn_auth.js"):
        source = json.loads((static / f"{script}.map").read_text())
        for name, text in zip(source["sources"], source["sourcesContent"], strict=True):
            if name.endswith((".ts",)) and "node_modules" not in name:
                used |= set(re.findall(r'gettext\(\s*"((?:[^"\\]|\\.)*)"', text))
    assert used and used <= set(SCRIPT_TEXTS), sorted(used - set(SCRIPT_TEXTS))
    catalog = client.get(TEXTS)
    assert catalog.status_code == 200 and catalog["Content-Type"].startswith("text/javascript")
    body = catalog.content.decode()
    assert "\\u6dfb\\u52a0\\u901a\\u884c\\u5bc6\\u94a5" in body or "添加通行密钥" in body
    assert "eval(" not in body and "new Function" not in body
