"""Idle sessions end (ACC-6; 等保 三级: 登录连接超时自动退出); a person who must sign in with
a second factor is held on its enrolment page until they have one (orgs.twofactor)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext as _

SEEN_KEY = "_avr_seen"
SEEN_RESOLUTION = 60  # seconds: the session is written at most once a minute for this


def mark_signed_in(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: the session starts as just seen (saved with the login itself, so the
    first requests after it write nothing)."""
    if request is not None and hasattr(request, "session"):
        request.session[SEEN_KEY] = time.time()


class IdleTimeoutMiddleware:
    """A signed-in session with no request for ``AVR_SESSION_IDLE_MINUTES`` is signed out at
    its next request (a custody event with the reason), which then goes on as anonymous: pages
    send to the sign-in page, saying why. API tokens have no session and are not affected."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        idle = settings.SESSION_IDLE_MINUTES * 60
        if idle and user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            seen = request.session.get(SEEN_KEY)
            if isinstance(seen, (int, float)) and now - seen > idle:
                from orgs.services import log_out

                log_out(request, idle=True)
                messages.info(request, _("长时间未操作，已自动退出登录，请重新登录。"))
            elif not isinstance(seen, (int, float)) or now - seen > SEEN_RESOLUTION:
                from orgs.sessions import touch_session

                request.session[SEEN_KEY] = now
                touch_session(request)  # the 账号安全 page's "last seen", at the same pace
        return self.get_response(request)


class TwoFactorMiddleware:
    """After django-otp's ``OTPMiddleware`` (``request.user.is_verified()``).

    - A person who must use a second factor (``orgs.twofactor.requires_two_factor``) and has
      none yet reaches only the enrolment page (a 动态口令 or a passkey, with the passkey
      endpoints it calls) and sign-out (and, first, a pending password change: like
      ``web.views.common.page``); every other page sends there, and for the API
      the session is not signed in at all (401; API tokens are not affected).
    - A session signed in with the password alone whose account has a second factor now (it was
      enrolled after this session began) is signed out: the next sign-in asks for the code.

    The half-signed-in state (password accepted, code due) never reaches here as signed in: it
    is only a note in an anonymous session (``orgs.twofactor.begin_second_step``).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not hasattr(request, "session"):
            return self.get_response(request)
        verified = getattr(user, "is_verified", None)
        if verified is not None and verified():
            return self.get_response(request)
        from orgs import twofactor

        required = twofactor.requires_two_factor(user)
        if required or not request.session.get(twofactor.PASSWORD_ONLY_KEY):
            if twofactor.has_two_factor(user):
                return self._sign_in_again(request)
            if not required:
                request.session[twofactor.PASSWORD_ONLY_KEY] = True  # checked once per session
                return self.get_response(request)
            return self._enrol_first(request)
        return self.get_response(request)

    def _exempt_paths(self) -> frozenset[str]:
        if self._exempt is None:
            from django.urls import reverse

            # the enrolment page, and what it uses to add a passkey instead (orgs.passkeys)
            self._exempt = frozenset({
                reverse("web:security_totp"),
                reverse("web:logout"),
                reverse("otp_webauthn:credential-registration-begin"),
                reverse("otp_webauthn:credential-registration-complete"),
                reverse("otp_webauthn:js-i18n-catalog"),
            })
        return self._exempt

    def _password_path(self) -> str:
        from django.urls import reverse

        return reverse("web:password_change")

    def _enrol_first(self, request):
        from django.contrib.auth.models import AnonymousUser
        from django.shortcuts import redirect

        if request.path_info.startswith("/api/"):
            request.user = AnonymousUser()  # the API sees no session; a bearer token still works
            return self.get_response(request)
        if request.user.must_change_password:
            # a one-time password is changed first (only its owner knows the new one), then
            # the second factor is enrolled
            if request.path_info in self._exempt_paths() or request.path_info == self._password_path():
                return self.get_response(request)
            return redirect("web:password_change")
        if request.path_info in self._exempt_paths():
            return self.get_response(request)
        return redirect("web:security_totp")

    def _sign_in_again(self, request):
        from django.contrib.auth.views import redirect_to_login

        from orgs.services import SECOND_FACTOR_LOGOUT_REASON, log_out

        log_out(request, reason=SECOND_FACTOR_LOGOUT_REASON)
        if request.path_info.startswith("/api/"):
            return self.get_response(request)  # anonymous now: the API answers 401
        messages.info(request, _("您的账号已启用双因素认证，请重新登录。"))
        return redirect_to_login(request.get_full_path())
