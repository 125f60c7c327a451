"""What every page view shares: sign-in, forced password change, friendly domain errors."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.errors import DomainError, NotFoundError
from web.context import is_media_user


def page(view):
    """Signed-in users only; a pending forced password change comes first.

    A ``DomainError`` becomes a message the user can act on, never a 500:
    a POST goes back to the page it came from (views may catch earlier and choose),
    a GET shows the message page.
    ``NotFoundError`` is a plain 404 (no existence leak).
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.must_change_password:
            return redirect("web:password_change")
        try:
            return view(request, *args, **kwargs)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            if request.method == "POST":
                messages.error(request, exc.message)
                return redirect(_back(request))
            status = exc.status if 400 <= exc.status < 500 else 503
            return render(request, "web/error.html", {"message": exc.message}, status=status)

    return wrapper


def media_page(view):
    """``page`` for the pages of record holders only (upload, 入库情况, the catalogue).

    A role that cannot use such a page (the separated administrators: ACC-6, default deny)
    neither sees it in the navigation (web.context) nor reaches it: 403 with a Chinese
    message that says where to go instead.
    """

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not is_media_user(request.user):
            return render(
                request,
                "web/error.html",
                {"message": _("您的角色不使用此页面：管理员账号不能上传、查看或检索执法音像记录。")},
                status=403,
            )
        return view(request, *args, **kwargs)

    return page(guarded)


def _back(request) -> str:
    """Where a failed POST returns to: the page it came from, when that page is ours."""
    referer = request.headers.get("Referer", "")
    # a path or an absolute URL of ours: anything else ("abc") would be taken for a view name
    if referer.startswith(("/", "http://", "https://")) and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("web:home")


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def page_number(request) -> int:
    """The ``page`` query parameter as a page number, 1 for anything that is not one."""
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1
