"""What every page view shares: sign-in, forced password change, friendly domain errors."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.errors import DomainError, NotFoundError


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


def _back(request) -> str:
    """Where a failed POST returns to: the page it came from, when that page is ours."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("web:home")


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"
