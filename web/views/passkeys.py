"""The passkey ceremonies' JSON endpoints (ACC-6, orgs.passkeys): django-otp-webauthn's views,
bound to our rules, plus the Chinese texts of its script.

Mounted at /security/passkeys/ under the library's URL names (namespace ``otp_webauthn``,
web/passkey_urls.py), which its script and template tag look up:

- **registration**: signed-in people only (a person held on the enrolment page too:
  ``orgs.middleware.TwoFactorMiddleware`` lets these through);
- **authentication**: only the second step of a pending sign-in (password accepted, code due,
  ``orgs.twofactor.pending_person``): never a sign-in by passkey alone.

Every refusal is JSON ``{"detail": <Chinese>, "code": …}`` with a 4xx status — malformed JSON, a
body that is not an object, a ceremony not begun or begun elsewhere, a bad signature — never a
500.
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn import views as webauthn_views

from core.errors import DomainError
from orgs import passkeys

REGISTER_STATE = "otp_webauthn_register_state"
AUTHENTICATE_STATE = "otp_webauthn_authentication_state"


class _OurRules:
    """What all four endpoints share: the body must be a JSON object, and every refusal —
    ours or the library's — is Chinese JSON with a 4xx status."""

    def _parse_request_data(self, request):
        if request.content_type != "application/json":
            return {}
        if not request.body:
            return {}
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
            raise webauthn_errors.MalformedRequest() from exc
        if not isinstance(data, dict):
            raise webauthn_errors.MalformedRequest()
        return data

    def handle_exception(self, exc):
        if isinstance(exc, DomainError):
            status = exc.status if 400 <= exc.status < 500 else 400
            return JsonResponse({"detail": exc.message, "code": exc.code}, status=status)
        if isinstance(exc, webauthn_errors.OTPWebAuthnApiError):
            status = exc.status_code if 400 <= exc.status_code < 500 else 400
            return JsonResponse({"detail": passkeys.refusal_message(exc.code), "code": exc.code}, status=status)
        raise exc

    def _pop_state(self, key: str) -> dict:
        """The ceremony's state, used once: gone from the session even if checking fails."""
        state = self.request.session.pop(key, None)
        self.request.session.save()
        if not isinstance(state, dict) or not state.get("challenge"):
            raise webauthn_errors.InvalidState()
        return state


@method_decorator(never_cache, name="dispatch")
class RegistrationBegin(_OurRules, webauthn_views.BeginCredentialRegistrationView):
    def check_can_register(self):
        passkeys.check_can_register(self.request.user)

    def post(self, *args, **kwargs):
        options, state = passkeys.begin_registration(self.request, actor=self.request.user)
        self.request.session[REGISTER_STATE] = state
        return JsonResponse(options)


@method_decorator(never_cache, name="dispatch")
class RegistrationComplete(_OurRules, webauthn_views.CompleteCredentialRegistrationView):
    def check_can_register(self):
        passkeys.check_can_register(self.request.user)

    def post(self, *args, **kwargs):
        state = self._pop_state(REGISTER_STATE)
        device = passkeys.enrol_passkey(self.request, actor=self.request.user, state=state, data=self.request.data)
        return JsonResponse({"id": device.pk})


class _SecondStep:
    """The person is the one whose password was just accepted, not ``request.user`` (nobody is
    signed in yet); the library's own checks of who may begin are replaced by ours."""

    def get_user(self):
        return None

    def check_can_authenticate(self):
        pass  # orgs.passkeys checks the pending sign-in itself


@method_decorator(never_cache, name="dispatch")
class AuthenticationBegin(_SecondStep, _OurRules, webauthn_views.BeginCredentialAuthenticationView):
    def post(self, *args, **kwargs):
        options, state = passkeys.begin_second_step(self.request)
        self.request.session[AUTHENTICATE_STATE] = state
        return JsonResponse(options)


@method_decorator(never_cache, name="dispatch")
class AuthenticationComplete(_SecondStep, _OurRules, webauthn_views.CompleteCredentialAuthenticationView):
    def post(self, *args, **kwargs):
        from web.views.auth import after_sign_in_url

        state = self._pop_state(AUTHENTICATE_STATE)
        step = passkeys.verify_second_step(self.request, state=state, data=self.request.data)
        return JsonResponse({"id": step.person.pk, "redirect_url": after_sign_in_url(step.person, step.next_url)})


def passkey_context(request) -> dict:
    """For a page with a passkey button: whether passkeys can work under this address, and the
    configuration the library's script reads (``json_script``: data, not script, for the CSP)."""
    from django_otp_webauthn.templatetags.otp_webauthn import get_configuration

    here = passkeys.passkeys_available(request)
    return {"passkeys_here": here, "passkey_config": get_configuration(request) if here else None}


# The texts django-otp-webauthn's script shows (its gettext() calls, English in the library),
# in Chinese. web/tests/test_passkeys.py checks every one the shipped script uses is here.
SCRIPT_TEXTS = {
    "Register a Passkey": gettext_lazy("添加通行密钥"),
    "Registering...": gettext_lazy("正在添加……"),
    "Registration failed. Unable to fetch registration options from server.": gettext_lazy(
        "添加失败：无法从服务器获取参数，请刷新页面后重试。"),
    "Registration aborted.": gettext_lazy("已取消添加。"),
    "Registration failed. You most likely already have a Passkey registered for this site.": gettext_lazy(
        "添加失败：这台设备上很可能已有本平台的通行密钥。"),
    "Registration aborted or not allowed.": gettext_lazy("已取消添加，或浏览器不允许添加。"),
    "Registration failed. A technical problem occurred that prevents you from registering a Passkey for this site.":
        gettext_lazy("添加失败：浏览器拒绝为当前网址添加通行密钥，请使用平台的正式域名访问。"),
    "Registration failed. An unknown error occurred.": gettext_lazy("添加失败：发生未知错误。"),
    "Finishing registration...": gettext_lazy("正在完成添加……"),
    "Registration failed. The server was unable to verify this passkey.": gettext_lazy(
        "添加失败：服务器未能验证这个通行密钥。"),
    "Registration failed. A server error occurred.": gettext_lazy("添加失败：服务器出错。"),
    "Registration successful!": gettext_lazy("通行密钥已添加。"),
    "An error occurred during registration.": gettext_lazy("添加通行密钥时出错。"),
    "Verify with Passkey": gettext_lazy("使用通行密钥"),
    "Verifying...": gettext_lazy("正在验证……"),
    "Verification failed. Could not retrieve parameters from the server.": gettext_lazy(
        "验证失败：无法从服务器获取参数，请刷新页面后重试。"),
    "Verification aborted.": gettext_lazy("已取消验证。"),
    "Verification canceled or not allowed.": gettext_lazy("已取消验证，或浏览器不允许使用通行密钥。"),
    "Verification failed. An unknown error occurred.": gettext_lazy("验证失败：发生未知错误。"),
    "Finishing verification...": gettext_lazy("正在完成验证……"),
    "Verification failed. An unknown server error occurred.": gettext_lazy("验证失败：服务器出错。"),
    "Verification failed. A server error occurred.": gettext_lazy("验证失败：服务器出错。"),
    "Verification successful!": gettext_lazy("验证通过，正在登录……"),
    "An error occurred during verification.": gettext_lazy("验证通行密钥时出错。"),
}


class ScriptCatalog(JavaScriptCatalog):
    """The library's script texts as a Django JavaScript catalog (``gettext()`` in the page),
    from ``SCRIPT_TEXTS`` through our own translation machinery. A script file, so the
    Content-Security-Policy (script-src 'self') allows it."""

    packages = ["django_otp_webauthn"]

    def get_catalog(self):
        return {english: str(chinese) for english, chinese in SCRIPT_TEXTS.items()}
