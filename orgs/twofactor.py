"""Two-factor sign-in (ACC-6; 等保2.0 三级: 采用两种或两种以上组合的鉴别技术), with django-otp.

- **Who**: ``requires_two_factor(person)`` — department heads, the legal office and the three
  separated administrators must use it; everyone else may (the 账号安全 page).
- **What**: a 动态口令 (TOTP, RFC 6238: 6 digits every 30 s, any authenticator app) and/or
  通行密钥 (passkeys, WebAuthn: ``orgs.passkeys``), and ten single-use recovery codes of 12
  digits (``orgs.recovery``: stored hashed), shown once and regenerable, issued with the first
  second factor; removing the last second factor removes them too.
- **When**: after the password, a person with a confirmed device gives a code
  (``begin_second_step`` / ``verify_second_step``) or uses a passkey
  (``orgs.passkeys.verify_second_step``): until then the session is not signed in at all, only
  "password accepted, code due" for ``PENDING_SECONDS``. A person who must use it
  and has none yet is signed in but held on the enrolment page by
  ``orgs.middleware.TwoFactorMiddleware`` until enrolled. Wrong codes slow down the next try
  (django-otp's throttling) and count toward the sign-in lockout (django-axes, orgs.lockout).
  API tokens are not affected.
- **Phone lost**: a security administrator resets the account (``reset_two_factor``; the
  ``reset_two_factor`` command): every second factor and recovery code goes, every session
  ends, and a person who must use one enrols again at the next sign-in.

Every state change is one service here (or in ``orgs.passkeys``) with its custody event.
"""

from __future__ import annotations

import base64
import io
import math
import time
import unicodedata
from binascii import unhexlify
from dataclasses import dataclass

from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from core.clients import client_ip
from core.errors import DomainError
from custody.choices import EventCode
from custody.services import record_event
from orgs import recovery
from orgs.choices import SEPARATED_ADMIN_ROLES, Role
from orgs.recovery import RECOVERY_CODES, RECOVERY_DIGITS

# People whose accounts open other people's records or the platform itself.
REQUIRED_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE, *SEPARATED_ADMIN_ROLES})

TOTP_DIGITS = 6
PENDING_KEY = "_avr_2fa_pending"  # password accepted, code due: {"person", "backend", "at", "next"}
PENDING_SECONDS = 300
SETUP_KEY = "_avr_2fa_setup"  # the key being enrolled (hex), until confirmed with a code from it
PASSWORD_ONLY_KEY = "_avr_2fa_none"  # signed in without a second factor, none being enrolled then
DEVICE_NAME = "动态口令"
RESET_COMMENT_MAX = 500


class TwoFactorError(DomainError):
    code = "two_factor_error"


class SecondStepExpired(TwoFactorError):
    code = "second_step_expired"


class SecondStepLocked(TwoFactorError):
    """The account or address is locked out (orgs.lockout): the sign-in starts again later."""

    code = "second_step_locked"
    status = 429


def requires_two_factor(person) -> bool:
    """The one rule: must this person sign in with a second factor?"""
    return bool(person is not None and person.is_authenticated and person.has_role(*REQUIRED_ROLES))


def totp_device(person) -> TOTPDevice | None:
    """The person's confirmed 动态口令, if any."""
    if person is None or not getattr(person, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=person, confirmed=True).order_by("pk").first()


def has_two_factor(person) -> bool:
    """Has this person a second factor: a 动态口令 or a passkey (recovery codes only stand in)?"""
    from orgs.passkeys import has_passkey

    return totp_device(person) is not None or has_passkey(person)


def second_factors(person, *, excluding=None) -> list:
    """The person's confirmed 动态口令 and passkeys, but ``excluding`` (one being removed)."""
    from django_otp_webauthn.models import WebAuthnCredential

    devices = [*TOTPDevice.objects.filter(user=person, confirmed=True).order_by("pk"),
               *WebAuthnCredential.objects.filter(user=person, confirmed=True).order_by("pk")]
    return [d for d in devices if excluding is None or d.persistent_id != excluding.persistent_id]


def recovery_codes_left(person) -> int:
    return recovery.codes_left(person)


def _normalise(code: str) -> str:
    """What was typed, as digits only: full-width digits, spaces and dashes are forgiven."""
    text = unicodedata.normalize("NFKC", code if isinstance(code, str) else "")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-_—–")


format_recovery_code = recovery.format_code


# --- the second step of signing in ----------------------------------------------------------


def second_step_due(person) -> bool:
    """After the password: does this person give a code before the session is signed in?"""
    return has_two_factor(person)


def begin_second_step(request, person, *, next_url: str = "") -> None:
    """The password was right: remember who, for ``PENDING_SECONDS``; nobody is signed in yet."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "person": person.pk,
        "backend": getattr(person, "backend", ""),
        "at": time.time(),
        "next": next_url,
    }


def pending_person(request):
    """Whose password was accepted in this session and whose code is due, or None."""
    from orgs.models import Person

    data = request.session.get(PENDING_KEY) if hasattr(request, "session") else None
    if not isinstance(data, dict):
        return None
    at = data.get("at")
    if not isinstance(at, (int, float)) or time.time() - at > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    person = Person.objects.filter(pk=data.get("person"), is_active=True).first()
    if person is None:
        request.session.pop(PENDING_KEY, None)
        return None
    person.backend = data.get("backend") or "django.contrib.auth.backends.ModelBackend"
    return person


def pending_next(request) -> str:
    data = request.session.get(PENDING_KEY)
    return str(data.get("next") or "") if isinstance(data, dict) else ""


def cancel_second_step(request) -> None:
    request.session.pop(PENDING_KEY, None)


def locked(request, person) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, {"username": person.username})


@dataclass(frozen=True)
class SecondStep:
    person: object
    recovery_code_used: bool
    remaining: int  # recovery codes left (when one was used)
    next_url: str  # where the sign-in was going


def verify_second_step(request, code: str) -> SecondStep:
    """Check the code (a 动态口令, or a recovery code, used up by this) of the pending sign-in
    and sign the session in. A wrong code is an ``auth.otp_failed`` event, slows the next try
    and counts toward the sign-in lockout."""
    from orgs.services import start_session

    person = pending_person(request)
    if person is None:
        raise SecondStepExpired(_("验证已超时，请重新输入用户名和密码。"))
    if locked(request, person):
        cancel_second_step(request)
        raise SecondStepLocked(_("该账号或本机地址验证失败次数过多，已暂时锁定，请稍后再登录。"))
    typed = _normalise(code)
    failure = None
    with transaction.atomic():
        totp = TOTPDevice.objects.select_for_update().filter(user=person, confirmed=True).order_by("pk").first()
        if totp is None and not has_two_factor(person):  # removed meanwhile: sign in again
            cancel_second_step(request)
            raise SecondStepExpired(_("该账号的双因素认证已停用，请重新登录。"))
        codes = None
        if (len(typed) == RECOVERY_DIGITS and typed.isdigit()) or totp is None:
            codes = recovery.recovery_device(person, for_update=True)
        # a 动态口令, or what was typed is checked (and counted) as one; a person with passkeys
        # only gives a recovery code here
        device = codes or totp
        if device is None:
            raise TwoFactorError(_("该账号没有可用的恢复码，请使用通行密钥。"), code="otp_no_codes")
        allowed, throttle = device.verify_is_allowed()
        if not allowed:
            raise TwoFactorError(
                _("尝试过于频繁，请 %(n)s 秒后再试。") % {"n": _wait_seconds(throttle)}, code="otp_throttled"
            )
        if not typed or not device.verify_token(typed):
            failure = (_("恢复码不正确或已使用过。") if device is not totp
                       else _("动态口令不正确，请输入身份验证器中当前显示的 6 位数字。"))
            record_event(
                EventCode.OTP_FAILED,
                actor=person,
                subject=person,
                details={"method": "totp" if device is totp else "recovery_code", "ip": client_ip(request),
                         "failures": device.throttling_failure_count},
            )
    if failure is not None:
        # after the block commits: the event and the throttling count stay
        user_login_failed.send(sender=__name__, credentials={"username": person.username}, request=request)
        if getattr(request, "axes_locked_out", False):
            cancel_second_step(request)
        raise TwoFactorError(failure, code="otp_wrong")
    next_url = pending_next(request)
    used_recovery = device is not totp
    with transaction.atomic():
        cancel_second_step(request)
        start_session(request, person, device=device)
        remaining = 0
        if used_recovery:
            remaining = recovery.codes_left(person)
            record_event(
                EventCode.RECOVERY_CODE_USED,
                actor=person,
                subject=person,
                details={"remaining": remaining, "ip": client_ip(request)},
            )
    return SecondStep(person=person, recovery_code_used=used_recovery, remaining=remaining, next_url=next_url)


def _wait_seconds(throttle) -> int:
    locked_until = (throttle or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


# --- enrolment ------------------------------------------------------------------------------


def setup_key(request) -> str:
    """The key (hex) offered for enrolment in this session: the same until confirmed, so a
    reload shows the same QR code."""
    key = request.session.get(SETUP_KEY)
    if not isinstance(key, str) or len(key) != 40:
        key = default_key()
        request.session[SETUP_KEY] = key
    return key


def setup_secret(key: str) -> str:
    """The key as an authenticator app takes it typed in: base32 in groups of four."""
    text = base64.b32encode(unhexlify(key)).decode("ascii").rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def setup_uri(person, key: str) -> str:
    return TOTPDevice(user=person, key=key, name=DEVICE_NAME).config_url


def qr_code_data_uri(text: str) -> str:
    """``text`` as a QR code: an SVG image in a data: URI (no inline style, CSP-safe)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_recovery_codes(person) -> list[str]:
    return recovery.issue_codes(person)


def enrol_totp(request, code: str, *, actor) -> list[str]:
    """Confirm the offered key with a code from the app: it becomes the person's 动态口令 (a
    previous one is replaced), ten new recovery codes are issued (returned, shown once), this
    session counts as verified, and the person's other sessions — signed in without it — are
    signed out."""
    from orgs.sessions import end_other_sessions_of

    key = request.session.get(SETUP_KEY)
    if not isinstance(key, str) or len(key) != 40:
        raise TwoFactorError(_("二维码已过期，请重新扫描页面上的二维码。"), code="otp_setup_missing")
    typed = _normalise(code)
    totp = TOTP(unhexlify(key), step=30, t0=0, digits=TOTP_DIGITS)
    if not (len(typed) == TOTP_DIGITS and typed.isdigit() and totp.verify(int(typed), tolerance=1)):
        raise TwoFactorError(
            _("动态口令不正确：请确认已扫描本页的二维码，并输入身份验证器中当前显示的 6 位数字。"),
            code="otp_wrong",
        )
    ip = client_ip(request)
    with transaction.atomic():
        old = list(TOTPDevice.objects.select_for_update().filter(user=actor))
        replaced = any(d.confirmed for d in old)
        TOTPDevice.objects.filter(pk__in=[d.pk for d in old]).delete()
        if replaced:
            record_event(EventCode.OTP_REMOVED, actor=actor, subject=actor, details={"method": "totp", "ip": ip})
        device = TOTPDevice.objects.create(
            user=actor, name=DEVICE_NAME, key=key, digits=TOTP_DIGITS, confirmed=True, last_t=totp.t()
        )
        record_event(EventCode.OTP_ENROLLED, actor=actor, subject=actor, details={"method": "totp", "ip": ip})
        codes = _new_recovery_codes(actor)
        record_event(EventCode.RECOVERY_CODES_ISSUED, actor=actor, subject=actor, details={"codes": RECOVERY_CODES, "ip": ip})
        ended = end_other_sessions_of(actor, keep=request.session.session_key)
        if ended:
            record_event(EventCode.SESSION_ENDED, actor=actor, subject=actor, details={"sessions": ended, "ip": ip})
    request.session.pop(SETUP_KEY, None)
    request.session.pop(PASSWORD_ONLY_KEY, None)
    otp_login(request, device)
    return codes


def remove_totp(request, password: str, *, actor) -> None:
    """Stop using the 动态口令, with the password to confirm; with it the recovery codes, unless
    a passkey is left. Refused for a person who must use a second factor and has no passkey:
    they enrol a new one instead (``enrol_totp`` replaces)."""
    if requires_two_factor(actor) and not _other_than_totp(actor):
        raise TwoFactorError(
            _("您的角色必须使用双因素认证，不能停用动态口令；更换手机时请绑定新的身份验证器，旧的随即失效。"),
            code="otp_required",
        )
    if not password or not actor.check_password(password):
        raise TwoFactorError(_("密码不正确，动态口令未停用。"), code="password_wrong")
    with transaction.atomic():
        removed = [d.persistent_id for d in TOTPDevice.objects.select_for_update().filter(user=actor)]
        if not removed:
            raise TwoFactorError(_("您尚未启用动态口令。"), code="otp_missing")
        TOTPDevice.objects.filter(user=actor).delete()
        remaining = second_factors(actor)
        if not remaining:
            recovery.remove_codes(actor)
        record_event(EventCode.OTP_REMOVED, actor=actor, subject=actor,
                     details={"method": "totp", "ip": client_ip(request)})
    for persistent_id in removed:
        after_device_removed(request, removed=persistent_id, remaining=remaining)


def _other_than_totp(person) -> bool:
    from orgs.passkeys import has_passkey

    return has_passkey(person)


def after_device_removed(request, *, removed: str, remaining: list) -> None:
    """This session after one of its person's second factors went (``removed``: its
    persistent id). With none left it is signed in with the password alone from now on; when
    the session had been verified with the removed one and others are left, it stays verified
    (the person has just confirmed with the password too) under one that is left, or the
    two-factor gate would sign it out at its next request."""
    if not remaining:
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        request.session[PASSWORD_ONLY_KEY] = True
    elif request.session.get(DEVICE_ID_SESSION_KEY) == removed:
        otp_login(request, remaining[0])


def regenerate_recovery_codes(request, *, actor) -> list[str]:
    """Ten new recovery codes (returned, shown once); the old ones stop working."""
    if not has_two_factor(actor):
        raise TwoFactorError(_("请先启用动态口令或添加通行密钥，再生成恢复码。"), code="otp_missing")
    with transaction.atomic():
        codes = _new_recovery_codes(actor)
        record_event(EventCode.RECOVERY_CODES_ISSUED, actor=actor, subject=actor,
                     details={"codes": RECOVERY_CODES, "ip": client_ip(request)})
    return codes


def issue_missing_recovery_codes(request, *, actor) -> list[str]:
    """After a passkey was added: ten recovery codes (returned, shown once) if the person has
    a second factor and no codes left; otherwise none (``[]``), the ones they have stay."""
    if not has_two_factor(actor):
        raise TwoFactorError(_("请先启用动态口令或添加通行密钥，再生成恢复码。"), code="otp_missing")
    with transaction.atomic():
        if recovery.codes_left(actor):
            return []
        codes = _new_recovery_codes(actor)
        record_event(EventCode.RECOVERY_CODES_ISSUED, actor=actor, subject=actor,
                     details={"codes": RECOVERY_CODES, "ip": client_ip(request)})
    return codes


# --- a security administrator's reset ------------------------------------------------------


def reset_two_factor(person, *, actor, comment: str, request=None) -> list[str]:
    """Phone lost: remove every second factor of ``person`` (动态口令, passkeys) and their
    recovery codes, and end their sessions. Only a security administrator, never on their own
    account, and with a reason (at most ``RESET_COMMENT_MAX`` characters). One
    ``auth.otp_reset`` event on ``person``; a person who must use a second factor is held on
    the enrolment page at their next sign-in. The methods removed are returned."""
    from django_otp_webauthn.models import WebAuthnCredential

    from orgs.sessions import end_other_sessions_of

    if actor is None or not actor.is_active or not actor.has_role(Role.SECURITY_ADMIN):
        raise TwoFactorError(_("只有安全管理员可以重置他人的双因素认证。"), code="not_security_admin", status=403)
    if person.pk == actor.pk:
        raise TwoFactorError(_("不能重置自己的双因素认证：请由另一位安全管理员办理。"), code="reset_self", status=403)
    comment = (comment if isinstance(comment, str) else "").strip()
    if not comment:
        raise TwoFactorError(_("请填写重置原因，如“手机丢失”。"), code="comment_required")
    if len(comment) > RESET_COMMENT_MAX:
        raise TwoFactorError(_("重置原因不能超过 %(n)s 个字。") % {"n": RESET_COMMENT_MAX}, code="comment_too_long")
    with transaction.atomic():
        totp = TOTPDevice.objects.select_for_update().filter(user=person)
        passkeys = WebAuthnCredential.objects.select_for_update().filter(user=person)
        methods = [m for m, found in (("totp", totp.exists()), ("webauthn", passkeys.exists())) if found]
        if not methods:
            raise TwoFactorError(_("该账号没有启用双因素认证，无需重置。"), code="otp_missing", status=409)
        totp.delete()
        passkeys.delete()
        recovery.remove_codes(person)
        ended = end_other_sessions_of(person, keep=None)
        record_event(
            EventCode.OTP_RESET,
            actor=actor,
            subject=person,
            details={"method": methods[0] if len(methods) == 1 else methods, "comment": comment,
                     "ip": client_ip(request) if request is not None else "", "sessions": ended},
        )
    return methods
