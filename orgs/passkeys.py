"""Passkeys (通行密钥: WebAuthn / FIDO2) as a second factor (ACC-6), with django-otp-webauthn.

- **What**: a key pair made by the person's device (Windows Hello, Touch ID, an Android phone,
  a USB security key); the platform keeps the public key (the library's ``WebAuthnCredential``,
  a django-otp device), never a secret. All the WebAuthn checking is the library's (py_webauthn):
  this module only says who the relying party is, names the passkeys, and writes the custody
  events.
- **Second factor only**: after the password, like the 动态口令 (``orgs.twofactor``); sign-in with
  a passkey alone is switched off (``OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False``).
- **Relying party**: the host name the browser reached the platform by — one of
  ``AVR_ALLOWED_HOSTS``, as Django has already checked — and the origin expected is that name
  over HTTPS (plain HTTP only for ``localhost``, which browsers treat as secure). A passkey works
  only under the name it was added with; under an IP address WebAuthn has no relying party, so
  none are offered (``passkeys_available``).
- **Failures** at sign-in are ``auth.otp_failed`` events (method ``webauthn``) and count toward the
  sign-in lockout (django-axes) like a wrong code. The library keeps no per-device throttling
  count for passkeys: none is needed against guessing (every try needs a fresh challenge from
  the server and a signature from the device).
"""

from __future__ import annotations

import ipaddress
from logging import getLogger

from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http.request import split_domain_port
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.utils import rewrite_exceptions

from core.clients import client_ip
from custody.choices import EventCode
from custody.services import record_event
from orgs import twofactor
from orgs.twofactor import (
    PASSWORD_ONLY_KEY,
    SecondStep,
    SecondStepExpired,
    SecondStepLocked,
    TwoFactorError,
)

MAX_PASSKEYS = 10
NAME_LENGTH = 64  # django-otp's Device.name

_log = getLogger("django_otp_webauthn")


class PasskeyRefused(TwoFactorError):
    """The passkey did not check out (wrong device, bad signature, stale challenge …)."""

    code = "passkey_refused"


# The library's refusals (its exception codes), as people read them. Its own texts are
# English; an unknown code gets the general one.
_REFUSALS = {
    "malformed_request": gettext_lazy("请求格式不正确，请刷新页面后重试。"),
    "invalid_state": gettext_lazy("验证已过期或未开始，请刷新页面后重试。"),
    "not_authenticated": gettext_lazy("请先登录。"),
    "user_not_verified": gettext_lazy("请先用已有的双因素认证方式重新登录，再添加通行密钥。"),
    "passwordless_login_disabled": gettext_lazy("请先输入用户名和密码。"),
    "user_disabled": gettext_lazy("该账号已停用。"),
    "credential_disabled": gettext_lazy("该通行密钥已停用。"),
    "credential_not_found": gettext_lazy("该通行密钥未在本平台登记，可能已被删除，请换一个通行密钥或使用动态口令。"),
    "credential_user_mismatch": gettext_lazy("该通行密钥不属于此账号，请换一个通行密钥。"),
}
_GENERAL_REFUSAL = gettext_lazy("通行密钥验证未通过，请重试，或换一个通行密钥、使用动态口令。")


def refusal_message(code: str) -> str:
    return str(_REFUSALS.get(code, _GENERAL_REFUSAL))


# --- the relying party --------------------------------------------------------------------


def relying_party_id(request) -> str:
    """OTP_WEBAUTHN_RP_ID_CALLABLE: the host name of this request (validated by Django
    against ALLOWED_HOSTS), without its port."""
    domain, _port = split_domain_port(request.get_host())
    return domain.rstrip(".")


def passkeys_available(request) -> bool:
    """Can a browser use passkeys here? Not under an IP address (no relying party for one)."""
    domain = relying_party_id(request).strip("[]")
    if not domain:
        return False
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return True
    return False


def allowed_origins(request) -> list[str]:
    """The origins a ceremony may come from: this host over HTTPS; over HTTP only for
    localhost (the one plain-HTTP secure context a browser runs WebAuthn in)."""
    host = request.get_host()
    domain = relying_party_id(request)
    origins = [f"https://{host}"]
    if domain == "localhost" or domain.endswith(".localhost"):
        origins.append(f"http://{host}")
    return origins


def default_name(request) -> str:
    """A new passkey's name: the browser and system it was added in (谷歌浏览器 130 · 视窗系统)."""
    from orgs.sessions import describe_user_agent

    agent = request.headers.get("User-Agent", "") if request is not None else ""
    described = describe_user_agent(agent) if agent else ""
    return (_("通行密钥（%(where)s）") % {"where": described} if described else _("通行密钥"))[:NAME_LENGTH]


class PasskeyHelper(WebAuthnHelper):
    """OTP_WEBAUTHN_HELPER_CLASS: the library's ceremonies with our relying party and names."""

    def get_allowed_origins(self) -> list[str]:
        return allowed_origins(self.request)

    def get_credential_display_name(self, user) -> str:
        return f"{user.display_name}（{user.username}）"

    def create_credential(self, user, response, parsed_credential, original_data):
        device = super().create_credential(user, response, parsed_credential, original_data)
        device.name = default_name(self.request)
        return device


def _helper(request) -> PasskeyHelper:
    return WebAuthnCredential.get_webauthn_helper(request=request)


# --- reads ----------------------------------------------------------------------------------


def list_passkeys(person) -> list[WebAuthnCredential]:
    if person is None or not getattr(person, "pk", None):
        return []
    return list(WebAuthnCredential.objects.filter(user=person, confirmed=True).order_by("created_at", "pk"))


def has_passkey(person) -> bool:
    if person is None or not getattr(person, "pk", None):
        return False
    return WebAuthnCredential.objects.filter(user=person, confirmed=True).exists()


# --- adding one -----------------------------------------------------------------------------


def check_can_register(person) -> None:
    """Before a registration ceremony starts (and again when it completes)."""
    if person.must_change_password:
        raise TwoFactorError(_("请先修改密码，再添加通行密钥。"), code="password_change_due", status=403)
    if WebAuthnCredential.objects.filter(user=person).count() >= MAX_PASSKEYS:
        raise TwoFactorError(
            _("每个账号最多登记 %(n)s 个通行密钥，请先删除不用的。") % {"n": MAX_PASSKEYS},
            code="passkey_limit", status=409,
        )


def begin_registration(request, *, actor) -> tuple[dict, dict]:
    """The options for the browser and the state to keep in the session (the library's)."""
    check_can_register(actor)
    return _helper(request).register_begin(user=actor)


def enrol_passkey(request, *, actor, state: dict, data: dict) -> WebAuthnCredential:
    """Check the browser's answer to the registration (the library) and keep the passkey. The
    first second factor of an account signs out its other sessions (signed in with the password
    alone) and makes this session count as verified; recovery codes are issued on the page
    that follows (``orgs.twofactor.issue_missing_recovery_codes``), so they are never stored
    in the clear, not even in the session."""
    from orgs.sessions import end_other_sessions_of

    ip = client_ip(request)
    with transaction.atomic():
        check_can_register(actor)
        first = not twofactor.has_two_factor(actor)
        with rewrite_exceptions(logger=_log):
            device = _helper(request).register_complete(user=actor, state=state, data=data)
        record_event(EventCode.OTP_ENROLLED, actor=actor, subject=actor, details={"method": "webauthn", "ip": ip})
        if first:
            ended = end_other_sessions_of(actor, keep=request.session.session_key)
            if ended:
                record_event(EventCode.SESSION_ENDED, actor=actor, subject=actor,
                             details={"sessions": ended, "ip": ip})
    request.session.pop(PASSWORD_ONLY_KEY, None)
    verified = getattr(request.user, "is_verified", None)
    if verified is None or not verified():
        otp_login(request, device)
    return device


# --- the second step of signing in ----------------------------------------------------------


def _pending(request):
    person = twofactor.pending_person(request)
    if person is None:
        raise SecondStepExpired(_("验证已超时，请重新输入用户名和密码。"), status=403)
    if twofactor.locked(request, person):
        twofactor.cancel_second_step(request)
        raise SecondStepLocked(_("该账号或本机地址验证失败次数过多，已暂时锁定，请稍后再登录。"))
    if not has_passkey(person):
        raise TwoFactorError(_("该账号没有可用的通行密钥，请使用动态口令或恢复码。"), code="passkey_missing", status=403)
    return person


def begin_second_step(request) -> tuple[dict, dict]:
    """The options for the browser (this account's passkeys) and the state to keep."""
    person = _pending(request)
    return _helper(request).authenticate_begin(user=person, require_user_verification=False)


def verify_second_step(request, *, state: dict, data: dict) -> SecondStep:
    """Check the browser's answer (the library) for the pending sign-in and sign the session
    in. A refusal is an ``auth.otp_failed`` event and counts toward the sign-in lockout."""
    from orgs.services import start_session

    person = _pending(request)
    try:
        with rewrite_exceptions(logger=_log):
            device = _helper(request).authenticate_complete(user=person, state=state, data=data)
        if not device.confirmed:
            raise webauthn_errors.CredentialDisabled()
    except webauthn_errors.OTPWebAuthnApiError as exc:
        with transaction.atomic():
            record_event(EventCode.OTP_FAILED, actor=person, subject=person,
                         details={"method": "webauthn", "ip": client_ip(request)})
        # after the block commits: the event stays
        user_login_failed.send(sender=__name__, credentials={"username": person.username}, request=request)
        if getattr(request, "axes_locked_out", False):
            twofactor.cancel_second_step(request)
        raise PasskeyRefused(refusal_message(exc.code), status=exc.status_code if exc.status_code < 500 else 400) from exc
    next_url = twofactor.pending_next(request)
    with transaction.atomic():
        twofactor.cancel_second_step(request)
        start_session(request, person, device=device)
    return SecondStep(person=person, recovery_code_used=False, remaining=0, next_url=next_url)


# --- removing one ---------------------------------------------------------------------------


def remove_passkey(request, pk: int, password: str, *, actor) -> None:
    """Delete one of ``actor``'s passkeys, with the password to confirm. A person who must use a
    second factor keeps at least one (another passkey or the 动态口令). With the last second
    factor the recovery codes go too, as when the 动态口令 is removed."""
    if not password or not actor.check_password(password):
        raise TwoFactorError(_("密码不正确，通行密钥未删除。"), code="password_wrong")
    with transaction.atomic():
        device = WebAuthnCredential.objects.select_for_update().filter(pk=pk, user=actor).first()
        if device is None:
            raise TwoFactorError(_("该通行密钥已删除或不存在。"), code="passkey_missing", status=404)
        persistent_id = device.persistent_id
        remaining = twofactor.second_factors(actor, excluding=device)
        if not remaining and twofactor.requires_two_factor(actor):
            raise TwoFactorError(
                _("您的角色必须使用双因素认证：请先添加另一个通行密钥或启用动态口令，再删除这一个。"),
                code="otp_required",
            )
        device.delete()
        if not remaining:
            from orgs.recovery import remove_codes

            remove_codes(actor)
        record_event(EventCode.OTP_REMOVED, actor=actor, subject=actor,
                     details={"method": "webauthn", "ip": client_ip(request)})
    twofactor.after_device_removed(request, removed=persistent_id, remaining=remaining)
