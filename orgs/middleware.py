"""Idle sessions end (ACC-6; 等保 三级: 登录连接超时自动退出)."""

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
                request.session[SEEN_KEY] = now
        return self.get_response(request)
